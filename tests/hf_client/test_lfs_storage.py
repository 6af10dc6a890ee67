"""Files the server stores as LFS although they were uploaded inline (`--upload-mode regular`,
for clients that speak neither Xet nor the LFS batch API): LFS-pattern, binary and > 10 MiB
files. Their metadata (siblings, tree, resolve ETag), a 24 MiB download, and byte ranges on
resolve."""

import pytest
import requests
from huggingface_hub import CommitOperationAdd

from support import download, git_blob_sha1, lfs_pointer, random_bytes, sha256, text_bytes

MiB = 1024 * 1024


@pytest.fixture
def hub(start_hub):
    return start_hub("--upload-mode", "regular")


@pytest.fixture
def alice(hub):
    account = hub.account("alice")
    account.api.create_repo("alice/tiny")
    return account


def _head(hub, repo, path, revision="main"):
    r = requests.head(f"{hub.url}/{repo}/resolve/{revision}/{path}", allow_redirects=False, timeout=60)
    assert r.status_code in (200, 302, 307), (r.status_code, dict(r.headers))
    etag = (r.headers.get("X-Linked-Etag") or r.headers.get("ETag") or "").removeprefix("W/").strip('"')
    return r, etag


def _assert_lfs(entry_lfs, data):
    assert entry_lfs is not None, "expected LFS metadata"
    assert entry_lfs.sha256 == sha256(data)
    assert entry_lfs.size == len(data)
    assert entry_lfs.pointer_size == len(lfs_pointer(data))


def test_pattern_binary_and_large_files_are_stored_as_lfs(hub, alice, cache_dir):
    files = {
        "model.safetensors": b'{"looks": "like text but the pattern says LFS"}',
        "blob.dat": b"binary\x00\x01\x02\x03 content\xff",
        "big.txt": text_bytes(10 * MiB + 1024, seed=3),
        "notes.txt": b"small plain text\n",
    }
    lfs_files = {"model.safetensors", "blob.dat", "big.txt"}
    commit = alice.api.create_commit(
        "alice/tiny", operations=[CommitOperationAdd(p, d) for p, d in files.items()], commit_message="mixed"
    ).oid

    # Regular mode: everything went inline, no LFS batch and no Xet.
    assert hub.requests_served("POST", "/info/lfs/objects/batch") == 0
    assert hub.requests_served("GET", "xet") == 0
    siblings = {s.rfilename: s for s in alice.api.model_info("alice/tiny", files_metadata=True).siblings}
    tree = {e.path: e for e in alice.api.list_repo_tree("alice/tiny", recursive=True)}
    for path, data in files.items():
        sibling, entry = siblings[path], tree[path]
        assert sibling.size == len(data), path
        assert entry.size == len(data), path
        if path in lfs_files:
            _assert_lfs(sibling.lfs, data)
            _assert_lfs(entry.lfs, data)
            # In git the file is a standard LFS pointer.
            assert sibling.blob_id == git_blob_sha1(lfs_pointer(data)), path
            assert entry.blob_id == git_blob_sha1(lfs_pointer(data)), path
        else:
            assert sibling.lfs is None, path
            assert entry.lfs is None, path
            assert sibling.blob_id == git_blob_sha1(data), path
            assert entry.blob_id == git_blob_sha1(data), path

        r, etag = _head(hub, "alice/tiny", path)
        assert r.headers["X-Repo-Commit"] == commit, path
        assert r.headers["X-Linked-Size"] == str(len(data)), path
        assert etag == (sha256(data) if path in lfs_files else git_blob_sha1(data)), path
        assert download(hub, "alice/tiny", path, token=None, cache_dir=cache_dir) == data, path


def test_gitattributes_patterns_of_the_repo_decide_lfs(hub, alice, cache_dir):
    api = alice.api
    attributes = download(hub, "alice/tiny", ".gitattributes", token=None, cache_dir=cache_dir)
    attributes += b"\n*.custom filter=lfs diff=lfs merge=lfs -text\n"
    api.upload_file(path_or_fileobj=attributes, path_in_repo=".gitattributes", repo_id="alice/tiny")
    data = b"plain text, but *.custom is an LFS pattern now\n"
    api.upload_file(path_or_fileobj=data, path_in_repo="w/x.custom", repo_id="alice/tiny")
    api.upload_file(path_or_fileobj=data, path_in_repo="w/x.other", repo_id="alice/tiny")
    [custom, other] = api.get_paths_info("alice/tiny", ["w/x.custom", "w/x.other"])
    assert custom.path == "w/x.custom"
    _assert_lfs(custom.lfs, data)
    assert other.lfs is None
    assert download(hub, "alice/tiny", "w/x.custom", token=None, cache_dir=cache_dir) == data


def test_lfs_file_history_and_noop_reupload(hub, alice, cache_dir):
    api = alice.api
    v1, v2 = random_bytes(4096, seed=10), random_bytes(4096, seed=11)
    c1 = api.upload_file(path_or_fileobj=v1, path_in_repo="w.safetensors", repo_id="alice/tiny").oid
    commits = api.list_repo_commits("alice/tiny")
    # Same bytes again: the preupload oid (git sha1 of the content) makes it a no-op.
    assert api.upload_file(path_or_fileobj=v1, path_in_repo="w.safetensors", repo_id="alice/tiny").oid == c1
    assert api.list_repo_commits("alice/tiny") == commits
    c2 = api.upload_file(path_or_fileobj=v2, path_in_repo="w.safetensors", repo_id="alice/tiny").oid
    assert c2 != c1
    assert download(hub, "alice/tiny", "w.safetensors", token=None, cache_dir=cache_dir, revision=c1) == v1
    assert download(hub, "alice/tiny", "w.safetensors", token=None, cache_dir=cache_dir, revision=c2) == v2
    _, etag = _head(hub, "alice/tiny", "w.safetensors", revision=c1)
    assert etag == sha256(v1)


def test_same_lfs_content_in_two_repos(hub, alice, cache_dir):
    api = alice.api
    api.create_repo("alice/copy")
    data = random_bytes(100_000, seed=12)
    api.upload_file(path_or_fileobj=data, path_in_repo="a.bin", repo_id="alice/tiny")
    api.upload_file(path_or_fileobj=data, path_in_repo="b.bin", repo_id="alice/copy")
    api.delete_repo("alice/tiny")
    assert download(hub, "alice/copy", "b.bin", token=None, cache_dir=cache_dir) == data


def _range(hub, spec, path="weights/big.bin"):
    return requests.get(f"{hub.url}/alice/tiny/resolve/main/{path}", headers={"Range": spec}, timeout=120)


def test_large_file_download_and_ranges(hub, alice, cache_dir):
    """A 24 MiB random file (stored as LFS): byte-equal downloads, then ranges on resolve (one
    test, so the file is uploaded once)."""
    data = random_bytes(24 * MiB + 123, seed=7)
    n = len(data)
    commit = alice.api.upload_file(path_or_fileobj=data, path_in_repo="weights/big.bin", repo_id="alice/tiny").oid

    assert download(hub, "alice/tiny", "weights/big.bin", token=None, cache_dir=cache_dir) == data
    assert download(hub, "alice/tiny", "weights/big.bin", token=alice.token, cache_dir=cache_dir, revision=commit) == data
    [entry] = alice.api.get_paths_info("alice/tiny", ["weights/big.bin"])
    _assert_lfs(entry.lfs, data)
    r, etag = _head(hub, "alice/tiny", "weights/big.bin")
    assert etag == sha256(data)
    assert r.headers["X-Linked-Size"] == str(n)

    for start, end in [(0, 99), (1, 1), (5 * MiB - 7, 6 * MiB + 11), (n - 100, n - 1)]:
        r = _range(hub, f"bytes={start}-{end}")
        assert r.status_code == 206, (start, end, r.status_code)
        assert r.headers["Content-Range"] == f"bytes {start}-{end}/{n}"
        assert r.content == data[start : end + 1], (start, end)
    # Open-ended.
    r = _range(hub, f"bytes={n - 1000}-")
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes {n - 1000}-{n - 1}/{n}"
    assert r.content == data[n - 1000 :]
    # An end past the last byte is cut to the last byte.
    r = _range(hub, f"bytes={n - 10}-{n + 500}")
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes {n - 10}-{n - 1}/{n}"
    assert r.content == data[n - 10 :]
    # A start past the end: 416.
    for offset in (0, 1, 1000):
        assert _range(hub, f"bytes={n + offset}-").status_code == 416, offset
        assert _range(hub, f"bytes={n + offset}-{n + offset + 10}").status_code == 416, offset


def test_range_on_a_small_regular_file(hub, alice):
    alice.api.upload_file(path_or_fileobj=b"0123456789", path_in_repo="digits.txt", repo_id="alice/tiny")
    r = _range(hub, "bytes=2-5", path="digits.txt")
    assert r.status_code == 206
    assert r.headers["Content-Range"] == "bytes 2-5/10"
    assert r.content == b"2345"
    r = _range(hub, "bytes=7-", path="digits.txt")
    assert r.status_code == 206
    assert r.content == b"789"
    assert _range(hub, "bytes=10-", path="digits.txt").status_code == 416
