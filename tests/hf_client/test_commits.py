"""The commit endpoint under hostile and concurrent use: unsafe paths, unknown LFS objects, bad
NDJSON, stale parents (412) and parallel writers. Every refused commit must leave the repo exactly
as it was."""

import base64
import json
import threading

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import HfHubHTTPError

from support import (
    download,
    file_line,
    git_blob_sha1,
    header_line,
    random_bytes,
    raw_commit,
    repo_state,
    sha256,
    status_of,
)


@pytest.fixture
def alice(hub):
    account = hub.account("alice")
    account.api.create_repo("alice/tiny")
    account.api.create_commit(
        "alice/tiny",
        operations=[CommitOperationAdd("keep.txt", b"keep\n"), CommitOperationAdd("dir/inner.txt", b"inner\n")],
        commit_message="base",
    )
    return account


def test_a_raw_commit_works(hub, alice, cache_dir):
    """The baseline for the refusals below: the same kind of request, well-formed, succeeds."""
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("raw ok", parent=before.sha), file_line("ok.txt", b"ok")])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["commitOid"] == alice.api.model_info("alice/tiny").sha
    assert body["commitUrl"] == f"{hub.url}/alice/tiny/commit/{body['commitOid']}"
    assert download(hub, "alice/tiny", "ok.txt", token=None, cache_dir=cache_dir) == b"ok"


UNSAFE_PATHS = [
    "../escape.txt",
    "../../../../../../tmp/grove-escape.txt",
    "a/../../escape.txt",
    "a/../b.txt",
    "..",
    "/abs.txt",
    "/etc/grove-escape",
    ".git/config",
    ".git/hooks/post-update",
    "sub/.git/config",
    ".git",
]


def _lines_for(kind, path):
    if kind == "file":
        return [file_line(path, b"evil\n")]
    if kind == "deletedFile":
        return [{"key": "deletedFile", "value": {"path": path}}]
    if kind == "deletedFolder":
        return [{"key": "deletedFolder", "value": {"path": path}}]
    raise AssertionError(kind)


@pytest.mark.parametrize("path", UNSAFE_PATHS)
@pytest.mark.parametrize("kind", ["file", "deletedFile", "deletedFolder"])
def test_unsafe_paths_are_refused(hub, alice, kind, path):
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("evil"), *_lines_for(kind, path)])
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.json().get("error"), r.text
    assert repo_state(alice.api, "alice/tiny") == before
    assert not (hub.data_dir.parent / "escape.txt").exists()
    assert not (hub.data_dir / "escape.txt").exists()


def test_unsafe_path_among_good_lines_refuses_the_whole_commit(hub, alice):
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(
        hub,
        alice.token,
        "alice/tiny",
        [header_line("mixed"), file_line("good.txt", b"good"), file_line("../bad.txt", b"bad")],
    )
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


# The canonical path form of docs/security-and-integrity (#10): no empty or `.` segments, no
# backslash, NUL or control characters, no `.git` component in any spelling.
NON_CANONICAL_PATHS = [
    "",
    "a//b.txt",
    "./a.txt",
    "a/./b.txt",
    "dir/",
    "back\\slash.txt",
    "..\\escape.txt",
    "nul\x00byte.txt",
    "ctrl\x01char.txt",
    "new\nline.txt",
    ".GIT/config",
    "sub/.Git/HEAD",
]


@pytest.mark.parametrize("path", NON_CANONICAL_PATHS, ids=[repr(p) for p in NON_CANONICAL_PATHS])
def test_non_canonical_paths_are_refused(hub, alice, path):
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("odd"), file_line(path, b"odd\n")])
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


def test_paths_differing_only_by_case_are_refused(hub, alice):
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("case"), file_line("KEEP.txt", b"shadow\n")])
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


def test_lfs_file_with_an_oid_never_uploaded_is_refused(hub, alice):
    before = repo_state(alice.api, "alice/tiny")
    ghost = random_bytes(1000, seed=99)
    r = raw_commit(
        hub,
        alice.token,
        "alice/tiny",
        [
            header_line("ghost"),
            {"key": "lfsFile", "value": {"path": "ghost.bin", "algo": "sha256", "oid": sha256(ghost), "size": 1000}},
        ],
    )
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before
    assert alice.api.file_exists("alice/tiny", "ghost.bin") is False


def test_lfs_file_with_a_wrong_size_for_a_stored_oid_is_refused(hub, alice):
    data = random_bytes(5000, seed=42)
    alice.api.upload_file(path_or_fileobj=data, path_in_repo="real.bin", repo_id="alice/tiny")
    [entry] = alice.api.get_paths_info("alice/tiny", ["real.bin"])
    assert entry.lfs is not None and entry.lfs.sha256 == sha256(data)
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(
        hub,
        alice.token,
        "alice/tiny",
        [
            header_line("lie about size"),
            {"key": "lfsFile", "value": {"path": "liar.bin", "algo": "sha256", "oid": sha256(data), "size": 4999}},
        ],
    )
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


def test_lfs_file_pointing_at_a_stored_oid_is_accepted(hub, alice, cache_dir):
    """A server-side copy: an lfsFile line naming an object the hub already holds."""
    data = random_bytes(5000, seed=43)
    alice.api.upload_file(path_or_fileobj=data, path_in_repo="real.bin", repo_id="alice/tiny")
    r = raw_commit(
        hub,
        alice.token,
        "alice/tiny",
        [
            header_line("copy"),
            {"key": "lfsFile", "value": {"path": "copy.bin", "algo": "sha256", "oid": sha256(data), "size": len(data)}},
        ],
    )
    assert r.status_code == 200, r.text
    assert download(hub, "alice/tiny", "copy.bin", token=None, cache_dir=cache_dir) == data


@pytest.mark.parametrize(
    "oid", ["not-a-hash", "AB" * 32, "a" * 63, "../../../../etc/passwd"], ids=["word", "upper", "short", "traversal"]
)
def test_lfs_file_with_a_malformed_oid_is_refused(hub, alice, oid):
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(
        hub,
        alice.token,
        "alice/tiny",
        [header_line("bad oid"), {"key": "lfsFile", "value": {"path": "x.bin", "algo": "sha256", "oid": oid, "size": 3}}],
    )
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


@pytest.mark.parametrize(
    "lines",
    [
        [json.dumps(header_line()), "{not json"],
        [json.dumps(header_line()), '{"key": "file", "value": {"path": "x.txt", "content": "eA=="'],
        ["not json at all"],
        [json.dumps(header_line()), json.dumps(file_line("x.txt", b"x")), "[1, 2, 3]"],
        [json.dumps(header_line()), json.dumps(file_line("x.txt", b"x")), '"just a string"'],
    ],
    ids=["garbage-line", "truncated-line", "garbage-only", "array-line", "string-line"],
)
def test_bad_ndjson_is_400_and_commits_nothing(hub, alice, lines):
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, alice.token, "alice/tiny", lines)
    assert r.status_code == 400, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [header_line(), {"key": "file", "value": {"path": "x.txt", "content": "%%%not base64%%%", "encoding": "base64"}}],
        [header_line(), {"key": "file", "value": {"content": base64.b64encode(b"x").decode(), "encoding": "base64"}}],
        [header_line(), {"key": "deletedFile", "value": {}}],
        [header_line(), {"key": "file", "value": "x.txt"}],
    ],
    ids=["empty-body", "bad-base64", "no-path", "delete-no-path", "value-not-object"],
)
def test_malformed_operations_are_refused(hub, alice, lines):
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, alice.token, "alice/tiny", lines)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


def test_bad_line_after_good_lines_commits_nothing(hub, alice):
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(
        hub,
        alice.token,
        "alice/tiny",
        [header_line(), file_line("first.txt", b"1"), file_line("second.txt", b"2"), "{oops"],
    )
    assert r.status_code == 400, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


def test_stale_parent_commit_is_412_and_changes_nothing(hub, alice):
    api = alice.api
    old = api.model_info("alice/tiny").sha
    api.upload_file(path_or_fileobj=b"moved on", path_in_repo="moved.txt", repo_id="alice/tiny")
    before = repo_state(api, "alice/tiny")
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_commit(
            "alice/tiny",
            operations=[CommitOperationAdd("late.txt", b"late"), CommitOperationDelete("keep.txt")],
            commit_message="late",
            parent_commit=old,
        )
    assert status_of(excinfo) == 412
    assert repo_state(api, "alice/tiny") == before
    # delete_file and upload_file take the same route.
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.delete_file("keep.txt", repo_id="alice/tiny", parent_commit=old)
    assert status_of(excinfo) == 412
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.upload_file(path_or_fileobj=b"z", path_in_repo="z.txt", repo_id="alice/tiny", parent_commit=old)
    assert status_of(excinfo) == 412
    assert repo_state(api, "alice/tiny") == before


def test_unknown_parent_commit_is_412(hub, alice):
    before = repo_state(alice.api, "alice/tiny")
    with pytest.raises(HfHubHTTPError) as excinfo:
        alice.api.create_commit(
            "alice/tiny", operations=[CommitOperationAdd("x.txt", b"x")], commit_message="x", parent_commit="0" * 40
        )
    assert status_of(excinfo) == 412
    assert repo_state(alice.api, "alice/tiny") == before


@pytest.mark.parametrize("length", [40, 12, 7])
def test_current_parent_commit_full_or_prefix_succeeds(hub, alice, length):
    api = alice.api
    head = api.model_info("alice/tiny").sha
    info = api.create_commit(
        "alice/tiny", operations=[CommitOperationAdd("n.txt", b"n")], commit_message="n", parent_commit=head[:length]
    )
    commits = api.list_repo_commits("alice/tiny")
    assert [c.commit_id for c in commits[:2]] == [info.oid, head]


def test_concurrent_commits_without_parent_all_land(hub, alice, cache_dir):
    before = repo_state(alice.api, "alice/tiny")
    n = 8
    results: dict[int, object] = {}
    barrier = threading.Barrier(n)

    def commit(i):
        api = HfApi(endpoint=hub.url, token=alice.token)
        barrier.wait()
        try:
            results[i] = api.create_commit(
                "alice/tiny",
                operations=[CommitOperationAdd(f"par/{i}.txt", f"writer {i}\n".encode())],
                commit_message=f"writer {i}",
            ).oid
        except Exception as e:  # noqa: BLE001 (reported below)
            results[i] = e

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = {i: r for i, r in results.items() if isinstance(r, Exception)}
    assert not errors, errors
    oids = set(results.values())
    assert len(oids) == n
    history = [c.commit_id for c in alice.api.list_repo_commits("alice/tiny")]
    assert len(history) == len(before.commits) + n
    assert oids <= set(history)
    assert history[n:] == list(before.commits)
    files = set(alice.api.list_repo_files("alice/tiny"))
    assert files == set(before.files) | {f"par/{i}.txt" for i in range(n)}
    infos = {e.path: e.blob_id for e in alice.api.get_paths_info("alice/tiny", [f"par/{i}.txt" for i in range(n)])}
    assert infos == {f"par/{i}.txt": git_blob_sha1(f"writer {i}\n".encode()) for i in range(n)}
    assert download(hub, "alice/tiny", "par/3.txt", token=None, cache_dir=cache_dir) == b"writer 3\n"


def test_concurrent_commits_on_the_same_parent_one_wins(hub, alice):
    head = alice.api.model_info("alice/tiny").sha
    n = 8
    results: dict[int, object] = {}
    barrier = threading.Barrier(n)

    def commit(i):
        api = HfApi(endpoint=hub.url, token=alice.token)
        barrier.wait()
        try:
            results[i] = api.create_commit(
                "alice/tiny",
                operations=[CommitOperationAdd(f"race/{i}.txt", b"x")],
                commit_message=f"racer {i}",
                parent_commit=head,
            ).oid
        except HfHubHTTPError as e:
            results[i] = e.response.status_code

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    winners = [r for r in results.values() if isinstance(r, str)]
    losers = [r for r in results.values() if not isinstance(r, str)]
    assert len(winners) == 1, results
    assert losers == [412] * (n - 1), results
    history = [c.commit_id for c in alice.api.list_repo_commits("alice/tiny")]
    assert history[:2] == [winners[0], head]
    assert len([f for f in alice.api.list_repo_files("alice/tiny") if f.startswith("race/")]) == 1


def test_commit_by_someone_else_or_anonymous_is_refused(hub, alice):
    bob = hub.account("bob")
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, bob.token, "alice/tiny", [header_line(), file_line("bob.txt", b"bob")])
    assert r.status_code == 403, r.text
    r = raw_commit(hub, None, "alice/tiny", [header_line(), file_line("anon.txt", b"anon")])
    assert r.status_code == 401, r.text
    assert repo_state(alice.api, "alice/tiny") == before


def test_paths_differing_only_by_unicode_form_are_refused(hub, alice):
    nfc, nfd = "caf\u00e9.txt", "cafe\u0301.txt"
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("nfc"), file_line(nfc, b"nfc\n")])
    assert r.status_code == 200, r.text
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("nfd"), file_line(nfd, b"nfd\n")])
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


def test_overlong_path_is_refused(hub, alice):
    before = repo_state(alice.api, "alice/tiny")
    path = "/".join(["d" * 200] * 30) + "/f.txt"
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("long"), file_line(path, b"x")])
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert repo_state(alice.api, "alice/tiny") == before


@pytest.mark.parametrize(
    "path", ["dir", "keep.txt/under-a-file.txt", "dir/inner.txt/deeper.txt"], ids=["file-over-dir", "under-file", "under-nested-file"]
)
def test_file_and_folder_clash_leaves_a_consistent_repo(hub, alice, cache_dir, path):
    """Adding a file where a folder is (or under a file) is refused, or replaces cleanly; it never
    leaves a repo that cannot be listed or read."""
    before = repo_state(alice.api, "alice/tiny")
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("clash"), file_line(path, b"clash\n")])
    assert r.status_code < 500, (r.status_code, r.text)
    if r.status_code != 200:
        assert repo_state(alice.api, "alice/tiny") == before
        return
    after = repo_state(alice.api, "alice/tiny")
    assert path in after.files
    assert download(hub, "alice/tiny", path, token=None, cache_dir=cache_dir) == b"clash\n"
    for name in after.files:
        assert alice.api.file_exists("alice/tiny", name), name
    # No path is both a file and a folder prefix.
    for name in after.files:
        assert not any(other.startswith(name + "/") for other in after.files), name
