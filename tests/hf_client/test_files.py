"""Uploading and downloading files: upload_file, upload_folder, create_commit, delete_*,
hf_hub_download (branch, tag, commit id, history), snapshot_download, no-op re-uploads."""

import base64
from pathlib import Path

import pytest
import requests
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    get_hf_file_metadata,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from support import download, git_blob_sha1, is_hex40, random_bytes


@pytest.fixture
def alice(hub):
    account = hub.account("alice")
    account.api.create_repo("alice/tiny")
    return account


def test_upload_file_bytes_then_download_exact_bytes(hub, alice, cache_dir):
    data = b"hello grove\n\x01\x02 not quite text"
    before = alice.api.model_info("alice/tiny").sha
    info = alice.api.upload_file(path_or_fileobj=data, path_in_repo="greeting.txt", repo_id="alice/tiny")
    assert is_hex40(info.oid)
    assert info.oid != before
    assert info.commit_url == f"{hub.url}/alice/tiny/commit/{info.oid}"
    assert alice.api.model_info("alice/tiny").sha == info.oid
    assert download(hub, "alice/tiny", "greeting.txt", token=alice.token, cache_dir=cache_dir) == data
    # Public repo: anonymous downloads work too.
    assert download(hub, "alice/tiny", "greeting.txt", token=None, cache_dir=cache_dir) == data


def test_upload_file_from_a_local_path(hub, alice, cache_dir, tmp_path):
    src = tmp_path / "notes.md"
    src.write_bytes(b"# notes\n\nline two\n")
    alice.api.upload_file(path_or_fileobj=str(src), path_in_repo="docs/notes.md", repo_id="alice/tiny")
    assert download(hub, "alice/tiny", "docs/notes.md", token=None, cache_dir=cache_dir) == src.read_bytes()


def test_upload_file_with_commit_message(hub, alice):
    info = alice.api.upload_file(
        path_or_fileobj=b"x",
        path_in_repo="x.txt",
        repo_id="alice/tiny",
        commit_message="Add x",
        commit_description="The x file.\nTwo lines.",
    )
    newest = alice.api.list_repo_commits("alice/tiny")[0]
    assert newest.commit_id == info.oid
    assert newest.title == "Add x"
    assert newest.message == "The x file.\nTwo lines."
    assert newest.authors == ["alice"]


def test_empty_file_round_trips(hub, alice, cache_dir):
    alice.api.upload_file(path_or_fileobj=b"", path_in_repo="empty.txt", repo_id="alice/tiny")
    assert download(hub, "alice/tiny", "empty.txt", token=None, cache_dir=cache_dir) == b""
    [entry] = alice.api.get_paths_info("alice/tiny", ["empty.txt"])
    assert entry.size == 0
    assert entry.blob_id == git_blob_sha1(b"")


@pytest.mark.parametrize(
    "path",
    [
        "with space.txt",
        "dir with space/file name.txt",
        "unicodé/naïve-文件.txt",
        "hash#and?query.txt",
        "percent%20literal.txt",
        "plus+and&amp.txt",
        "deep/a/b/c/d/e/f.txt",
    ],
)
def test_paths_that_need_quoting_round_trip(hub, alice, cache_dir, path):
    data = f"content of {path}\n".encode()
    alice.api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id="alice/tiny")
    assert path in alice.api.list_repo_files("alice/tiny")
    assert download(hub, "alice/tiny", path, token=None, cache_dir=cache_dir) == data
    assert alice.api.file_exists("alice/tiny", path) is True


def test_download_by_branch_tag_and_commit_id(hub, alice, cache_dir):
    c1 = alice.api.upload_file(path_or_fileobj=b"v1\n", path_in_repo="f.txt", repo_id="alice/tiny").oid
    alice.api.create_tag("alice/tiny", tag="v1")
    alice.api.create_branch("alice/tiny", branch="stable")
    c2 = alice.api.upload_file(path_or_fileobj=b"v2\n", path_in_repo="f.txt", repo_id="alice/tiny").oid
    assert c1 != c2

    def get(revision):
        return download(hub, "alice/tiny", "f.txt", token=None, cache_dir=cache_dir, revision=revision)

    assert get(None) == b"v2\n"
    assert get("main") == b"v2\n"
    assert get("v1") == b"v1\n"
    assert get("stable") == b"v1\n"
    assert get(c1) == b"v1\n"
    assert get(c2) == b"v2\n"


def test_every_file_of_every_past_commit_stays_downloadable(hub, alice, cache_dir):
    api = alice.api
    c1 = api.upload_file(path_or_fileobj=b"first\n", path_in_repo="a.txt", repo_id="alice/tiny").oid
    c2 = api.upload_file(path_or_fileobj=b"second\n", path_in_repo="a.txt", repo_id="alice/tiny").oid
    c3 = api.upload_file(path_or_fileobj=b"other\n", path_in_repo="b.txt", repo_id="alice/tiny").oid
    c4 = api.delete_file("a.txt", repo_id="alice/tiny").oid
    assert len({c1, c2, c3, c4}) == 4

    def get(name, revision):
        return download(hub, "alice/tiny", name, token=None, cache_dir=cache_dir, revision=revision)

    assert get("a.txt", c1) == b"first\n"
    assert get("a.txt", c2) == b"second\n"
    assert get("a.txt", c3) == b"second\n"
    assert get("b.txt", c4) == b"other\n"
    with pytest.raises(RemoteEntryNotFoundError):
        get("a.txt", c4)
    with pytest.raises(RemoteEntryNotFoundError):
        get("a.txt", "main")
    with pytest.raises(RemoteEntryNotFoundError):
        get("b.txt", c2)
    assert "a.txt" in api.list_repo_files("alice/tiny", revision=c2)
    assert "b.txt" not in api.list_repo_files("alice/tiny", revision=c2)
    assert "a.txt" in api.list_repo_files("alice/tiny", revision=c3)
    assert "a.txt" not in api.list_repo_files("alice/tiny", revision=c4)


def test_download_errors_are_typed(hub, alice, cache_dir):
    alice.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/tiny")
    with pytest.raises(RemoteEntryNotFoundError):
        download(hub, "alice/tiny", "missing.txt", token=None, cache_dir=cache_dir)
    with pytest.raises(RevisionNotFoundError):
        download(hub, "alice/tiny", "x.txt", token=None, cache_dir=cache_dir, revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        download(hub, "alice/tiny", "x.txt", token=None, cache_dir=cache_dir, revision="0" * 40)
    with pytest.raises(RepositoryNotFoundError):
        download(hub, "alice/none", "x.txt", token=None, cache_dir=cache_dir)
    with pytest.raises(RepositoryNotFoundError):
        download(hub, "nobody/none", "x.txt", token=alice.token, cache_dir=cache_dir)


def test_resolve_head_carries_the_metadata_headers(hub, alice):
    data = b"some text content\n"
    commit = alice.api.upload_file(path_or_fileobj=data, path_in_repo="t.txt", repo_id="alice/tiny").oid
    r = requests.head(f"{hub.url}/alice/tiny/resolve/main/t.txt", allow_redirects=False, timeout=30)
    assert r.status_code == 200
    assert r.headers["X-Repo-Commit"] == commit
    assert r.headers["X-Linked-Size"] == str(len(data))
    etag = r.headers.get("X-Linked-Etag") or r.headers["ETag"]
    assert etag.removeprefix("W/").strip('"') == git_blob_sha1(data)
    meta = get_hf_file_metadata(hf_hub_url("alice/tiny", "t.txt", endpoint=hub.url), token=False)
    assert meta.commit_hash == commit
    assert meta.etag == git_blob_sha1(data)
    assert meta.size == len(data)
    # A plain GET: the whole file.
    r = requests.get(f"{hub.url}/alice/tiny/resolve/main/t.txt", timeout=30)
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["X-Repo-Commit"] == commit


def test_missing_entry_answers_entry_not_found_code_on_head(hub, alice):
    r = requests.head(f"{hub.url}/alice/tiny/resolve/main/nope.txt", allow_redirects=False, timeout=30)
    assert r.status_code == 404
    assert r.headers.get("X-Error-Code") == "EntryNotFound"
    r = requests.head(f"{hub.url}/alice/tiny/resolve/nobranch/x.txt", allow_redirects=False, timeout=30)
    assert r.status_code == 404
    assert r.headers.get("X-Error-Code") == "RevisionNotFound"


def test_upload_folder_and_snapshot_download_nested_dirs(hub, alice, cache_dir, tmp_path):
    src = tmp_path / "src"
    files = {
        "config.json": b'{"hidden_size": 8}\n',
        "README.md": b"# tiny\n",
        "tokenizer/vocab.txt": b"a\nb\nc\n",
        "tokenizer/merges/merges.txt": b"a b\n",
        "weights/part-1.bin": random_bytes(3000, seed=1),
        "weights/deeper/still/part-2.bin": random_bytes(5000, seed=2),
        "data/empty.txt": b"",
    }
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    info = alice.api.upload_folder(folder_path=str(src), repo_id="alice/tiny", commit_message="folder")
    assert is_hex40(info.oid)
    listed = set(alice.api.list_repo_files("alice/tiny"))
    assert set(files) <= listed
    assert listed - set(files) <= {".gitattributes"}

    local = Path(snapshot_download("alice/tiny", endpoint=hub.url, token=False, cache_dir=str(cache_dir / "snap")))
    assert local.name == info.oid  # snapshots/<commit>
    got = {p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()}
    got.pop(".gitattributes", None)
    assert got == files


def test_upload_folder_into_a_subfolder_with_patterns(hub, alice, tmp_path, cache_dir):
    src = tmp_path / "src"
    (src / "keep").mkdir(parents=True)
    (src / "keep" / "a.txt").write_bytes(b"a")
    (src / "keep" / "b.log").write_bytes(b"b")
    (src / "skip.txt").write_bytes(b"s")
    alice.api.upload_folder(
        folder_path=str(src), path_in_repo="sub/dir", repo_id="alice/tiny", allow_patterns=["keep/*.txt"]
    )
    files = set(alice.api.list_repo_files("alice/tiny")) - {".gitattributes"}
    assert files == {"sub/dir/keep/a.txt"}
    assert download(hub, "alice/tiny", "sub/dir/keep/a.txt", token=None, cache_dir=cache_dir) == b"a"


def test_snapshot_download_of_an_older_revision(hub, alice, cache_dir):
    c1 = alice.api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id="alice/tiny").oid
    alice.api.upload_file(path_or_fileobj=b"2", path_in_repo="two.txt", repo_id="alice/tiny")
    alice.api.delete_file("one.txt", repo_id="alice/tiny")
    old = Path(snapshot_download("alice/tiny", revision=c1, endpoint=hub.url, token=False, cache_dir=str(cache_dir)))
    new = Path(snapshot_download("alice/tiny", endpoint=hub.url, token=False, cache_dir=str(cache_dir / "n")))
    assert (old / "one.txt").read_bytes() == b"1"
    assert not (old / "two.txt").exists()
    assert (new / "two.txt").read_bytes() == b"2"
    assert not (new / "one.txt").exists()


def test_create_commit_adds_and_deletes_in_one_commit(hub, alice, cache_dir):
    api = alice.api
    api.create_commit(
        "alice/tiny",
        operations=[
            CommitOperationAdd("keep.txt", b"keep"),
            CommitOperationAdd("gone.txt", b"gone"),
            CommitOperationAdd("dir/x.txt", b"x"),
        ],
        commit_message="three",
    )
    before = len(api.list_repo_commits("alice/tiny"))
    info = api.create_commit(
        "alice/tiny",
        operations=[
            CommitOperationDelete("gone.txt"),
            CommitOperationAdd("keep.txt", b"kept, changed"),
            CommitOperationAdd("new.txt", b"new"),
        ],
        commit_message="mixed",
    )
    assert len(api.list_repo_commits("alice/tiny")) == before + 1
    assert api.list_repo_commits("alice/tiny")[0].commit_id == info.oid
    assert set(api.list_repo_files("alice/tiny")) - {".gitattributes"} == {"keep.txt", "dir/x.txt", "new.txt"}
    assert download(hub, "alice/tiny", "keep.txt", token=None, cache_dir=cache_dir) == b"kept, changed"


def test_delete_file(hub, alice):
    api = alice.api
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/tiny")
    api.upload_file(path_or_fileobj=b"y", path_in_repo="y.txt", repo_id="alice/tiny")
    info = api.delete_file("x.txt", repo_id="alice/tiny", commit_message="drop x")
    assert api.list_repo_commits("alice/tiny")[0].title == "drop x"
    assert api.model_info("alice/tiny").sha == info.oid
    assert set(api.list_repo_files("alice/tiny")) - {".gitattributes"} == {"y.txt"}
    assert api.file_exists("alice/tiny", "x.txt") is False


def test_delete_missing_file_is_entry_not_found_and_makes_no_commit(hub, alice):
    api = alice.api
    api.upload_file(path_or_fileobj=b"y", path_in_repo="y.txt", repo_id="alice/tiny")
    head = api.model_info("alice/tiny").sha
    with pytest.raises(EntryNotFoundError):
        api.delete_file("nope.txt", repo_id="alice/tiny")
    assert api.model_info("alice/tiny").sha == head


def test_delete_folder(hub, alice):
    api = alice.api
    api.create_commit(
        "alice/tiny",
        operations=[
            CommitOperationAdd("logs/a.txt", b"a"),
            CommitOperationAdd("logs/deep/b.txt", b"b"),
            CommitOperationAdd("logsbook.txt", b"not in the folder"),
            CommitOperationAdd("keep/c.txt", b"c"),
        ],
        commit_message="setup",
    )
    api.delete_folder("logs", repo_id="alice/tiny")
    assert set(api.list_repo_files("alice/tiny")) - {".gitattributes"} == {"logsbook.txt", "keep/c.txt"}


def test_identical_reupload_makes_no_new_commit(hub, alice):
    api = alice.api
    first = api.upload_file(path_or_fileobj=b"same bytes\n", path_in_repo="s.txt", repo_id="alice/tiny")
    commits = api.list_repo_commits("alice/tiny")
    again = api.upload_file(path_or_fileobj=b"same bytes\n", path_in_repo="s.txt", repo_id="alice/tiny")
    assert again.oid == first.oid
    assert api.list_repo_commits("alice/tiny") == commits
    # A different content does make one.
    third = api.upload_file(path_or_fileobj=b"other bytes\n", path_in_repo="s.txt", repo_id="alice/tiny")
    assert third.oid != first.oid
    assert len(api.list_repo_commits("alice/tiny")) == len(commits) + 1


def test_preupload_answers_regular_with_the_git_oid(start_hub):
    """`--upload-mode regular`: every file goes inline; the oid is the git blob sha1 of stored files."""
    hub = start_hub("--upload-mode", "regular")
    alice = hub.account("alice")
    alice.api.create_repo("alice/tiny")
    data = b"known content\n"
    alice.api.upload_file(path_or_fileobj=data, path_in_repo="k.txt", repo_id="alice/tiny")
    r = requests.post(
        f"{hub.url}/api/models/alice/tiny/preupload/main",
        json={
            "files": [
                {"path": "k.txt", "sample": base64.b64encode(data).decode(), "size": len(data)},
                {"path": "new.safetensors", "sample": base64.b64encode(b"\0\0\0").decode(), "size": 3},
            ]
        },
        headers={"Authorization": f"Bearer {alice.token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    files = {f["path"]: f for f in r.json()["files"]}
    assert set(files) == {"k.txt", "new.safetensors"}
    assert files["k.txt"]["uploadMode"] == "regular"
    assert files["k.txt"]["shouldIgnore"] is False
    assert files["k.txt"]["oid"] == git_blob_sha1(data)
    assert files["new.safetensors"]["uploadMode"] == "regular"
    assert files["new.safetensors"]["shouldIgnore"] is False
    assert files["new.safetensors"].get("oid") is None


def test_dataset_upload_and_download(hub, cache_dir):
    alice = hub.account("alice")
    alice.api.create_repo("alice/corpus", repo_type="dataset")
    data = b"col1,col2\n1,2\n"
    info = alice.api.upload_file(
        path_or_fileobj=data, path_in_repo="train.csv", repo_id="alice/corpus", repo_type="dataset"
    )
    assert info.commit_url == f"{hub.url}/datasets/alice/corpus/commit/{info.oid}"
    assert alice.api.dataset_info("alice/corpus").sha == info.oid
    assert download(hub, "alice/corpus", "train.csv", token=None, cache_dir=cache_dir, repo_type="dataset") == data
    local = Path(
        snapshot_download("alice/corpus", repo_type="dataset", endpoint=hub.url, token=False, cache_dir=str(cache_dir))
    )
    assert (local / "train.csv").read_bytes() == data
    # The same path under the model prefix is not there.
    with pytest.raises(RepositoryNotFoundError):
        download(hub, "alice/corpus", "train.csv", token=None, cache_dir=cache_dir)


def test_file_exists_and_revision_exists(hub, alice):
    api = alice.api
    c1 = api.upload_file(path_or_fileobj=b"x", path_in_repo="dir/x.txt", repo_id="alice/tiny").oid
    assert api.file_exists("alice/tiny", "dir/x.txt") is True
    assert api.file_exists("alice/tiny", "dir/y.txt") is False
    assert api.file_exists("alice/tiny", "dir/x.txt", revision=c1) is True
    assert api.file_exists("alice/tiny", "dir/x.txt", revision="nope") is False
    assert api.file_exists("alice/nothing", "dir/x.txt") is False
    assert api.revision_exists("alice/tiny", "main") is True
    assert api.revision_exists("alice/tiny", c1) is True
    assert api.revision_exists("alice/tiny", "nope") is False
    assert api.revision_exists("alice/tiny", "f" * 40) is False


def test_upload_folder_with_delete_patterns(hub, alice, tmp_path):
    api = alice.api
    api.create_commit(
        "alice/tiny",
        operations=[
            CommitOperationAdd("logs/old.log", b"old"),
            CommitOperationAdd("top.log", b"top"),
            CommitOperationAdd("keep.txt", b"keep"),
        ],
        commit_message="setup",
    )
    src = tmp_path / "src"
    src.mkdir()
    (src / "new.txt").write_bytes(b"new")
    api.upload_folder(folder_path=str(src), repo_id="alice/tiny", delete_patterns=["*.log"])
    assert set(api.list_repo_files("alice/tiny")) - {".gitattributes"} == {"keep.txt", "new.txt"}


def test_copy_operations(hub, alice, cache_dir):
    """CommitOperationCopy: an LFS source becomes an `lfsFile` line without `size` (a server-side
    copy); a regular source is downloaded and re-uploaded by the client."""
    api = alice.api
    weights = random_bytes(3000, seed=31)
    api.create_commit(
        "alice/tiny",
        operations=[CommitOperationAdd("w.safetensors", weights), CommitOperationAdd("c.json", b"{}")],
        commit_message="sources",
    )
    api.create_commit(
        "alice/tiny",
        operations=[
            CommitOperationCopy("w.safetensors", "copies/w.safetensors"),
            CommitOperationCopy("c.json", "copies/c.json"),
        ],
        commit_message="copies",
    )
    assert download(hub, "alice/tiny", "copies/w.safetensors", token=None, cache_dir=cache_dir) == weights
    assert download(hub, "alice/tiny", "copies/c.json", token=None, cache_dir=cache_dir) == b"{}"
    [copy] = api.get_paths_info("alice/tiny", ["copies/w.safetensors"])
    assert copy.lfs is not None and copy.lfs.size == len(weights)


@pytest.mark.parametrize(
    "path",
    [
        "/alice/tiny/resolve/main/%2e%2e/%2e%2e/etc/passwd",
        "/alice/tiny/resolve/main/..%2F..%2F..%2Fetc%2Fpasswd",
        "/alice/tiny/resolve/main/.git/config",
        "/alice/tiny/resolve/main/%2Fetc%2Fpasswd",
        "/api/models/alice/tiny/tree/main/..%2F..",
        "/api/models/alice/tiny/tree/main/.git",
    ],
)
def test_traversal_in_read_paths_finds_nothing(hub, alice, path):
    r = requests.get(hub.url + path, timeout=30, allow_redirects=False)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert b"root:" not in r.content
    assert b"[core]" not in r.content
