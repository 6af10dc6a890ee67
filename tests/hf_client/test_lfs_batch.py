"""Uploads through the Git LFS batch API: `grove serve --upload-mode lfs` answers "lfs" in
preupload for large, binary and LFS-pattern files, and a client with `HF_HUB_DISABLE_XET=1` then
uses the batch endpoint, PUTs the bytes and commits `lfsFile` lines.

`HF_HUB_DISABLE_XET` is read when `huggingface_hub` is imported, so the uploads run in a
subprocess. Marked `lfs_batch`: skipped unless GROVE_TEST_LFS_BATCH=1."""

import json
import os
import subprocess
import sys

import pytest
import requests

from support import auth, download, git_blob_sha1, lfs_pointer, random_bytes, sha256, text_bytes

pytestmark = pytest.mark.lfs_batch

MiB = 1024 * 1024

UPLOADER = r"""
import json, os, sys
assert "huggingface_hub" not in sys.modules
from huggingface_hub import CommitOperationAdd, HfApi
endpoint, token, repo, spec = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
api = HfApi(endpoint=endpoint, token=token)
ops = [CommitOperationAdd(path, open(src, "rb").read()) for path, src in spec["files"].items()]
info = api.create_commit(repo, operations=ops, commit_message=spec["message"], parent_commit=spec.get("parent"))
print(json.dumps({"oid": info.oid}))
"""


def _upload(hub, token, repo, files, tmp_path, message="lfs upload", parent=None):
    spec = {"files": {}, "message": message, "parent": parent}
    for i, (path, data) in enumerate(files.items()):
        src = tmp_path / f"src-{i}"
        src.write_bytes(data)
        spec["files"][path] = str(src)
    env = dict(os.environ, HF_HUB_DISABLE_XET="1")
    done = subprocess.run(
        [sys.executable, "-c", UPLOADER, hub.url, token, repo, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, f"uploader failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])["oid"]


@pytest.fixture
def lfs_hub(start_hub):
    return start_hub("--upload-mode", "lfs")


@pytest.fixture
def alice(lfs_hub):
    account = lfs_hub.account("alice")
    account.api.create_repo("alice/tiny")
    return account


def test_preupload_answers_lfs_for_large_binary_and_pattern_files(lfs_hub, alice):
    r = requests.post(
        f"{lfs_hub.url}/api/models/alice/tiny/preupload/main",
        json={
            "files": [
                {"path": "notes.txt", "sample": "aGVsbG8K", "size": 6},
                {"path": "w.safetensors", "sample": "aGVsbG8K", "size": 6},
                {"path": "blob.dat", "sample": "AAECAw==", "size": 4},
                {"path": "big.txt", "sample": "aGVsbG8K", "size": 11 * MiB},
            ]
        },
        headers=auth(alice.token),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    modes = {f["path"]: f["uploadMode"] for f in r.json()["files"]}
    assert modes == {"notes.txt": "regular", "w.safetensors": "lfs", "blob.dat": "lfs", "big.txt": "lfs"}


def test_lfs_batch_upload_round_trips(lfs_hub, alice, tmp_path, cache_dir):
    files = {
        "weights/big.bin": random_bytes(12 * MiB + 5, seed=21),
        "model.safetensors": b'{"pattern": "lfs"}',
        "big.txt": text_bytes(10 * MiB + 2048, seed=22),
        "notes.txt": b"regular text\n",
    }
    commit = _upload(lfs_hub, alice.token, "alice/tiny", files, tmp_path)
    assert alice.api.model_info("alice/tiny").sha == commit
    # The bytes really went through the batch API (not inline in the commit).
    assert lfs_hub.requests_served("POST", "/info/lfs/objects/batch", 200) >= 1
    assert lfs_hub.requests_served("PUT", "", 200) >= 3
    siblings = {s.rfilename: s for s in alice.api.model_info("alice/tiny", files_metadata=True).siblings}
    for path, data in files.items():
        assert download(lfs_hub, "alice/tiny", path, token=None, cache_dir=cache_dir) == data, path
        if path == "notes.txt":
            assert siblings[path].lfs is None
            assert siblings[path].blob_id == git_blob_sha1(data)
        else:
            assert siblings[path].lfs.sha256 == sha256(data), path
            assert siblings[path].lfs.size == len(data), path
            assert siblings[path].blob_id == git_blob_sha1(lfs_pointer(data)), path


def test_lfs_batch_dedups_stored_objects(lfs_hub, alice, tmp_path):
    data = random_bytes(2 * MiB, seed=23)
    _upload(lfs_hub, alice.token, "alice/tiny", {"a.bin": data}, tmp_path)
    r = requests.post(
        f"{lfs_hub.url}/alice/tiny.git/info/lfs/objects/batch",
        json={
            "operation": "upload",
            "transfers": ["basic", "multipart"],
            "objects": [{"oid": sha256(data), "size": len(data)}, {"oid": sha256(b"new"), "size": 3}],
            "hash_algo": "sha256",
        },
        headers={
            **auth(alice.token),
            "Accept": "application/vnd.git-lfs+json",
            "Content-Type": "application/vnd.git-lfs+json",
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text
    objects = {o["oid"]: o for o in r.json()["objects"]}
    assert "actions" not in objects[sha256(data)] or not objects[sha256(data)]["actions"]
    assert objects[sha256(data)]["size"] == len(data)
    assert "upload" in objects[sha256(b"new")]["actions"]


def test_lfs_put_with_wrong_bytes_is_refused(lfs_hub, alice):
    claimed = random_bytes(1000, seed=24)
    r = requests.post(
        f"{lfs_hub.url}/alice/tiny.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": sha256(claimed), "size": 1000}]},
        headers={**auth(alice.token), "Accept": "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    [obj] = r.json()["objects"]
    href = obj["actions"]["upload"]["href"]
    put = requests.put(href, data=random_bytes(1000, seed=25), timeout=30)
    assert 400 <= put.status_code < 500, (put.status_code, put.text)
    # The object was not published: committing it is refused.
    commit = requests.post(
        f"{lfs_hub.url}/api/models/alice/tiny/commit/main",
        data=json.dumps({"key": "header", "value": {"summary": "x", "description": ""}})
        + "\n"
        + json.dumps({"key": "lfsFile", "value": {"path": "x.bin", "algo": "sha256", "oid": sha256(claimed), "size": 1000}})
        + "\n",
        headers={**auth(alice.token), "Content-Type": "application/x-ndjson"},
        timeout=30,
    )
    assert 400 <= commit.status_code < 500, (commit.status_code, commit.text)


def _batch(hub, token, repo, objects, operation="upload"):
    return requests.post(
        f"{hub.url}/{repo}.git/info/lfs/objects/batch",
        json={"operation": operation, "transfers": ["basic"], "objects": objects, "hash_algo": "sha256"},
        headers={**auth(token), "Accept": "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json"},
        timeout=30,
    )


def test_lfs_upload_urls_are_bound_to_their_object(lfs_hub, alice):
    data = random_bytes(1000, seed=26)
    other = random_bytes(1000, seed=27)
    r = _batch(lfs_hub, alice.token, "alice/tiny", [{"oid": sha256(data), "size": len(data)}])
    assert r.status_code == 200, r.text
    href = r.json()["objects"][0]["actions"]["upload"]["href"]
    assert sha256(data) in href
    # The same signature on another object's URL, or with another size, is refused.
    for forged in (href.replace(sha256(data), sha256(other)), href.replace(f"/{len(data)}?", f"/{len(data) - 1}?")):
        assert forged != href
        body = other if sha256(other) in forged else data[:-1]
        put = requests.put(forged, data=body, timeout=30)
        assert 400 <= put.status_code < 500, (forged, put.status_code, put.text)
    # Without the signature.
    put = requests.put(href.split("?")[0], data=data, timeout=30)
    assert 400 <= put.status_code < 500, (put.status_code, put.text)
    # The real one works.
    assert requests.put(href, data=data, timeout=30).status_code == 200


def test_lfs_batch_respects_repo_access(lfs_hub, alice):
    bob = lfs_hub.account("bob")
    alice.api.create_repo("alice/hidden", private=True)
    objects = [{"oid": sha256(b"x"), "size": 1}]
    for token in (None, bob.token):
        hidden = _batch(lfs_hub, token, "alice/hidden", objects)
        missing = _batch(lfs_hub, token, "alice/missing", objects)
        assert hidden.status_code == missing.status_code, token
        assert hidden.status_code in (401, 404), token
        assert hidden.headers.get("X-Error-Code") == "RepoNotFound"
    assert _batch(lfs_hub, bob.token, "alice/tiny", objects).status_code == 403
    reader = lfs_hub.create_token("alice", "read")
    assert _batch(lfs_hub, reader, "alice/tiny", objects).status_code == 403
    assert _batch(lfs_hub, alice.token, "alice/hidden", objects).status_code == 200
