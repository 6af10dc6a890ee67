"""Large files through Xet, the stock client's default upload path.

`grove serve` answers "lfs" in preupload by default, so `huggingface_hub` with `hf_xet` (both
pinned in scripts/requirements-test.txt) chunks each large file, uploads the new chunks as xorbs
to Grove's CAS (`/xet/...`), registers them with a shard and commits LFS pointers. Downloads go
back through the CAS when the tree carries `xetHash`; every other reader (resolve, ranges, the
LFS batch API) gets the same bytes rebuilt from the xorbs.

GROVE_TEST_XET_MIB sets the model size of the round trip (default 192 MiB)."""

import json
import os
import random
import struct
from pathlib import Path

import hf_xet
import pytest
import requests
from huggingface_hub import hf_hub_download, snapshot_download

from support import auth, random_bytes, sha256, status_of
from test_lfs_batch import _upload as upload_with_xet_disabled

MiB = 1024 * 1024
MODEL_MIB = int(os.environ.get("GROVE_TEST_XET_MIB") or 192)
TENSORS = 20


def safetensors(tensors: dict[str, bytes]) -> bytes:
    """A safetensors file of u8 tensors (the header is what a reader checks; the bytes are random)."""
    header, offset = {}, 0
    for name, data in tensors.items():
        header[name] = {"dtype": "U8", "shape": [len(data)], "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"".join(tensors.values())


def base_tensors(total: int, seed: int) -> dict[str, bytes]:
    size = total // TENSORS
    rng = random.Random(seed)
    return {f"layers.{i:02d}.weight": rng.randbytes(size) for i in range(TENSORS)}


def metric(hub, name: str) -> int:
    for line in requests.get(f"{hub.url}/metrics", timeout=30).text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise AssertionError(f"{name} is not exported")


def xet_counters(hub) -> tuple[int, int]:
    return (
        metric(hub, "grove_xet_xorb_bytes_received_total"),
        metric(hub, "grove_xet_xorb_bytes_stored_total"),
    )


def write_model(folder, tensors: dict[str, bytes], note: str) -> bytes:
    folder.mkdir(parents=True, exist_ok=True)
    data = safetensors(tensors)
    (folder / "model.safetensors").write_bytes(data)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "note": note}))
    (folder / "README.md").write_text(f"---\nlicense: mit\n---\n# Xet test model\n{note}\n")
    return data


def tree_entry(api, repo: str, path: str, revision: str = "main"):
    for entry in api.list_repo_tree(repo, revision=revision, expand=True):
        if entry.path == path:
            return entry
    raise AssertionError(f"{path} is not in the tree of {repo}@{revision}")


@pytest.fixture
def alice(hub):
    account = hub.account("alice")
    account.api.create_repo("alice/big")
    return account


def test_default_client_round_trip_and_a_fine_tune_sends_only_what_changed(hub, alice, tmp_path, cache_dir):
    # By default preupload sends weights and binaries to LFS (and so through Xet), text inline.
    r = requests.post(
        f"{hub.url}/api/models/alice/big/preupload/main",
        json={"files": [{"path": "w.safetensors", "sample": "AAAA", "size": 3},
                        {"path": "notes.md", "sample": "aGkK", "size": 3}]},
        headers=auth(alice.token),
        timeout=30,
    )
    assert {f["path"]: f["uploadMode"] for f in r.json()["files"]} == {"w.safetensors": "lfs", "notes.md": "regular"}
    tensors = base_tensors(MODEL_MIB * MiB, seed=1)
    v1 = write_model(tmp_path / "v1", tensors, "base")
    before = xet_counters(hub)
    alice.api.upload_folder(repo_id="alice/big", folder_path=tmp_path / "v1", commit_message="base")
    after_v1 = xet_counters(hub)

    # The weights went through the CAS, not inline in the commit nor through the LFS batch API.
    assert hub.requests_served("POST", "/xet/{instance}/v1/xorbs", 200) >= 1
    assert hub.requests_served("POST", "/xet/{instance}/v1/shards", 200) >= 1
    assert hub.requests_served("POST", "/info/lfs/objects/batch") == 0
    sent_v1 = after_v1[0] - before[0]
    assert len(v1) * 0.95 < sent_v1 < len(v1) * 1.05, (sent_v1, len(v1))

    # The commit holds an LFS pointer; the tree names the Xet file, with the client's own hash.
    entry = tree_entry(alice.api, "alice/big", "model.safetensors")
    assert entry.lfs.sha256 == sha256(v1) and entry.lfs.size == len(v1)
    assert entry.xet_hash == hf_xet.hash_files([str(tmp_path / "v1" / "model.safetensors")])[0].hash
    assert tree_entry(alice.api, "alice/big", "config.json").lfs is None

    # snapshot_download with the defaults: through the CAS, byte-equal.
    fetched = snapshot_download("alice/big", endpoint=hub.url, token=alice.token, cache_dir=tmp_path / "dl1")
    assert (Path(fetched) / "model.safetensors").read_bytes() == v1
    assert hub.requests_served("GET", "/xet/{instance}/v1/reconstructions", 200) >= 1
    assert hub.requests_served("GET", "/xet/{instance}/v1/fetch", 206) >= 1
    assert hub.requests_served("GET", "/{owner}/{name}/resolve/{rev}/{path:.*}", 200) <= 3  # the small files
    base_commit = alice.api.model_info("alice/big").sha

    # A fine-tune that changes 2 of the 20 tensors (10% of the bytes).
    changed = {name: random.Random(100 + i).randbytes(len(data)) for i, (name, data) in enumerate(tensors.items()) if i in (3, 12)}
    changed_bytes = sum(len(d) for d in changed.values())
    v2 = write_model(tmp_path / "v2", {**tensors, **changed}, "fine-tune")
    alice.api.upload_folder(repo_id="alice/big", folder_path=tmp_path / "v2", commit_message="fine-tune")
    after_v2 = xet_counters(hub)
    sent_v2, stored_v2 = after_v2[0] - after_v1[0], after_v2[1] - after_v1[1]
    print(
        f"\nxet: model {len(v1) / MiB:.1f} MiB; v1 sent {sent_v1 / MiB:.1f} MiB; fine-tune changed "
        f"{changed_bytes / MiB:.1f} MiB, sent {sent_v2 / MiB:.2f} MiB, stored {stored_v2 / MiB:.2f} MiB "
        f"({stored_v2 / changed_bytes:.3f}x the changed bytes)"
    )
    # Each changed tensor also re-sends the chunk it shares with its neighbours on either side
    # (content-defined chunks are at most 128 KiB).
    slack = len(changed) * 2 * 128 * 1024
    assert changed_bytes * 0.95 <= stored_v2 <= changed_bytes * 1.1 + slack, (stored_v2, changed_bytes)
    assert sent_v2 <= changed_bytes * 1.1 + slack, (sent_v2, changed_bytes)

    # Both versions read back exactly, through the CAS and through plain resolve.
    fetched = snapshot_download("alice/big", endpoint=hub.url, token=alice.token, cache_dir=tmp_path / "dl2")
    assert (Path(fetched) / "model.safetensors").read_bytes() == v2
    old = hf_hub_download("alice/big", "model.safetensors", revision=base_commit, endpoint=hub.url,
                          token=alice.token, cache_dir=tmp_path / "dl3")
    assert open(old, "rb").read() == v1
    r = requests.get(f"{hub.url}/alice/big/resolve/main/model.safetensors", headers=auth(alice.token), timeout=300)
    assert r.status_code == 200 and r.content == v2


def test_xet_uploads_are_readable_every_way_and_private_ones_only_by_members(hub, alice, tmp_path):
    data = random_bytes(9 * MiB + 321, seed=5)
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(data)
    alice.api.upload_folder(repo_id="alice/big", folder_path=folder)
    oid = sha256(data)

    # HEAD on resolve announces the Xet file and where to get a read token.
    head = requests.head(f"{hub.url}/alice/big/resolve/main/weights.bin", timeout=30)
    assert head.status_code == 200
    xet_hash = head.headers["X-Xet-Hash"]
    assert xet_hash == tree_entry(alice.api, "alice/big", "weights.bin").xet_hash
    assert 'rel="xet-auth"' in head.headers["Link"] and "/api/models/alice/big/xet-read-token/" in head.headers["Link"]

    # Plain HTTP for everyone else: whole, and byte ranges rebuilt from the xorbs.
    r = requests.get(f"{hub.url}/alice/big/resolve/main/weights.bin", timeout=120)
    assert r.content == data
    for first, last in ((0, 0), (65530, 200_000), (len(data) - 7, len(data) + 100)):
        r = requests.get(f"{hub.url}/alice/big/resolve/main/weights.bin",
                         headers={"Range": f"bytes={first}-{last}"}, timeout=60)
        assert r.status_code == 206 and r.content == data[first : last + 1], (first, last)
    r = requests.get(f"{hub.url}/alice/big/resolve/main/weights.bin", headers={"Range": f"bytes={len(data)}-"}, timeout=30)
    assert r.status_code == 416

    # The LFS batch API hands out a download of the same bytes (git-lfs, HF_HUB_DISABLE_XET).
    r = requests.post(
        f"{hub.url}/alice/big.git/info/lfs/objects/batch",
        json={"operation": "download", "objects": [{"oid": oid, "size": len(data)}], "hash_algo": "sha256"},
        headers={"Accept": "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    action = r.json()["objects"][0]["actions"]["download"]
    assert requests.get(action["href"], headers=action.get("header", {}), timeout=120).content == data

    # A private repo: no read token for strangers, and its files stay invisible.
    alice.api.create_repo("alice/secret", private=True)
    alice.api.upload_folder(repo_id="alice/secret", folder_path=folder)
    bob = hub.account("bob")
    for token, expected in ((None, 401), (bob.token, 404)):
        r = requests.get(f"{hub.url}/api/models/alice/secret/xet-read-token/main", headers=auth(token), timeout=30)
        assert r.status_code == expected, (token, r.status_code, r.text)
    r = requests.get(f"{hub.url}/api/models/alice/secret/xet-read-token/main", headers=auth(alice.token), timeout=30)
    assert r.status_code == 200 and r.json()["accessToken"] == r.headers["X-Xet-Access-Token"]
    with pytest.raises(Exception) as excinfo:
        hf_hub_download("alice/secret", "weights.bin", endpoint=hub.url, token=bob.token, cache_dir=tmp_path / "bob")
    assert status_of(excinfo) == 404
    got = hf_hub_download("alice/secret", "weights.bin", endpoint=hub.url, token=alice.token, cache_dir=tmp_path / "alice")
    assert open(got, "rb").read() == data
    # bob cannot upload into alice's repo through the CAS either.
    r = requests.get(f"{hub.url}/api/models/alice/big/xet-write-token/main", headers=auth(bob.token), timeout=30)
    assert r.status_code == 403, r.text


def cas(hub, token: str, repo: str = "alice/big", write: bool = True) -> tuple[str, dict]:
    kind = "write" if write else "read"
    r = requests.get(f"{hub.url}/api/models/{repo}/xet-{kind}-token/main", headers=auth(token), timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["exp"] > 0 and body["casUrl"].startswith(hub.url + "/xet/")
    return body["casUrl"], {"Authorization": f"Bearer {body['accessToken']}"}


BOOKEND = b"\xff" * 32 + b"\x00" * 16


def shard_bytes(file_hash: bytes, terms: list[tuple[bytes, int, int, int]], sha: bytes, verification=True) -> bytes:
    """A footerless shard with one file (terms: xorb hash, unpacked bytes, chunk start, end), its
    sha256 and (made-up) verification hashes, laid out as the client uploads it."""
    tag = b"HFRepoMetaData\x00" + bytes([85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169])
    out = tag + struct.pack("<QQ", 2, 0)
    flags = (1 << 30) | ((1 << 31) if verification else 0)
    out += file_hash + struct.pack("<IIQ", flags, len(terms), 0)
    for xorb, unpacked, start, end in terms:
        out += xorb + struct.pack("<IIII", 0, unpacked, start, end)
    if verification:
        out += (b"\x07" * 32 + b"\x00" * 16) * len(terms)
    out += sha + b"\x00" * 16
    return out + BOOKEND + BOOKEND


def xet_bytes(hex_hash: str) -> bytes:
    """The 32 bytes of a hash from its Xet string (each 8-byte word printed little-endian)."""
    return b"".join(bytes.fromhex(hex_hash[i : i + 16])[::-1] for i in range(0, 64, 16))


def test_bad_xet_uploads_are_refused_and_never_visible(hub, alice, tmp_path):
    data = random_bytes(3 * MiB, seed=9)
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "w.bin").write_bytes(data)
    alice.api.upload_folder(repo_id="alice/big", folder_path=folder)
    cas_url, write = cas(hub, alice.token)
    _, read = cas(hub, alice.token, write=False)
    some_hash = "ab" * 32

    # Credentials: none, a Hub token (not a Xet token), a read-only Xet token.
    assert requests.post(f"{cas_url}/v1/xorbs/default/{some_hash}", data=b"x", timeout=30).status_code == 401
    assert requests.post(f"{cas_url}/v1/xorbs/default/{some_hash}", data=b"x", headers=auth(alice.token), timeout=30).status_code == 401
    r = requests.post(f"{cas_url}/v1/xorbs/default/{some_hash}", data=b"x", headers=read, timeout=30)
    assert r.status_code == 403 and "read-only" in r.json()["error"]
    assert requests.post(f"{cas_url}/v1/shards", data=b"x", headers=read, timeout=30).status_code == 403

    # Malformed xorbs: a path that is no hash, junk, a well-formed chunk under the wrong hash, a truncated one.
    assert requests.post(f"{cas_url}/v1/xorbs/default/..%2F..%2Fetc", data=b"x", headers=write, timeout=30).status_code in (400, 404)
    r = requests.post(f"{cas_url}/v1/xorbs/default/{some_hash}", data=os.urandom(1000), headers=write, timeout=30)
    assert r.status_code == 400, r.text
    chunk = b"hello xet" * 100
    header = bytes([0]) + len(chunk).to_bytes(3, "little") + bytes([0]) + len(chunk).to_bytes(3, "little")
    r = requests.post(f"{cas_url}/v1/xorbs/default/{some_hash}", data=header + chunk, headers=write, timeout=30)
    assert r.status_code == 400 and "hash to" in r.json()["error"], r.text
    r = requests.post(f"{cas_url}/v1/xorbs/default/{some_hash}", data=header + chunk[:-5], headers=write, timeout=30)
    assert r.status_code == 400 and "past the end" in r.json()["error"], r.text

    # Shards: junk, a header claiming 4 billion entries, no verification hashes, a file over a
    # xorb nobody uploaded, and terms over real chunks that the uploader cannot prove it knows.
    assert requests.post(f"{cas_url}/v1/shards", data=b"junk", headers=write, timeout=30).status_code == 400
    fake_sha = bytes(range(32))
    huge = bytearray(shard_bytes(b"\1" * 32, [(b"\2" * 32, 10, 0, 1)], fake_sha))
    huge[48 + 32 + 4 : 48 + 32 + 8] = struct.pack("<I", 0xFFFFFFF0)
    r = requests.post(f"{cas_url}/v1/shards", data=bytes(huge), headers=write, timeout=30)
    assert r.status_code == 400, r.text
    r = requests.post(f"{cas_url}/v1/shards", data=shard_bytes(b"\1" * 32, [(b"\2" * 32, 10, 0, 1)], fake_sha, verification=False),
                      headers=write, timeout=30)
    assert r.status_code == 400 and "verification" in r.json()["error"], r.text
    r = requests.post(f"{cas_url}/v1/shards", data=shard_bytes(b"\1" * 32, [(b"\2" * 32, 10, 0, 1)], fake_sha), headers=write, timeout=30)
    assert r.status_code == 400 and "never uploaded" in r.json()["error"], r.text

    file_id = tree_entry(alice.api, "alice/big", "w.bin").xet_hash
    plan = requests.get(f"{cas_url}/v1/reconstructions/{file_id}", headers=read, timeout=30).json()
    terms = [(xet_bytes(t["hash"]), t["unpacked_length"], t["range"]["start"], t["range"]["end"]) for t in plan["terms"]]
    assert sum(t[1] for t in terms) == len(data)
    wrong_sha = bytes.fromhex(sha256(b"not the content"))
    # (the sha256 of a shard is stored with each 8-byte word reversed, like every Xet hash)
    wire_sha = b"".join(wrong_sha[i : i + 8][::-1] for i in range(0, 32, 8))
    # (a known file claimed with another sha256; the error does not reveal the real one)
    r = requests.post(f"{cas_url}/v1/shards", data=shard_bytes(xet_bytes(file_id), terms, wire_sha), headers=write, timeout=30)
    assert r.status_code == 400 and "does not have the claimed sha256" in r.json()["error"], r.text
    assert sha256(data) not in r.text
    r = requests.post(f"{cas_url}/v1/shards", data=shard_bytes(b"\3" * 32, terms, wire_sha), headers=write, timeout=30)
    assert r.status_code == 400 and "verification hash" in r.json()["error"], r.text
    bad_terms = [(terms[0][0], terms[0][1] + 1, terms[0][2], terms[0][3])] + terms[1:]
    r = requests.post(f"{cas_url}/v1/shards", data=shard_bytes(b"\3" * 32, bad_terms, wire_sha), headers=write, timeout=30)
    assert r.status_code == 400 and "unpacked" in r.json()["error"], r.text
    # Nothing refused became an LFS object: a commit naming it is refused.
    line = {"key": "lfsFile", "value": {"path": "forged.bin", "algo": "sha256", "oid": sha256(b"not the content"), "size": len(data)}}
    r = requests.post(
        f"{hub.url}/api/models/alice/big/commit/main",
        data="\n".join(json.dumps(x) for x in ({"key": "header", "value": {"summary": "forged"}}, line)),
        headers={**auth(alice.token), "Content-Type": "application/x-ndjson"},
        timeout=30,
    )
    assert r.status_code == 400 and "never uploaded" in r.json()["error"], r.text

    # Reconstructions: unknown file, no token, a range past the end; signed fetch URLs.
    assert requests.get(f"{cas_url}/v1/reconstructions/{some_hash}", headers=read, timeout=30).status_code == 404
    assert requests.get(f"{cas_url}/v1/reconstructions/{file_id}", timeout=30).status_code == 401
    r = requests.get(f"{cas_url}/v1/reconstructions/{file_id}", headers={**read, "Range": f"bytes={len(data)}-{len(data) + 10}"}, timeout=30)
    assert r.status_code == 416
    part = requests.get(f"{cas_url}/v1/reconstructions/{file_id}", headers={**read, "Range": "bytes=1000000-1000099"}, timeout=30).json()
    assert 0 < part["offset_into_first_range"] and len(part["terms"]) >= 1
    xorb, fetches = next(iter(plan["fetch_info"].items()))
    url, span = fetches[0]["url"], fetches[0]["url_range"]
    r = requests.get(url, headers={"Range": f"bytes={span['start']}-{span['end']}"}, timeout=60)
    assert r.status_code == 206 and len(r.content) == span["end"] - span["start"] + 1
    # A fetch URL reads only the bytes it was issued for.
    assert requests.get(url, headers={"Range": f"bytes={span['start']}-{span['end'] + 1}"}, timeout=30).status_code == 403
    assert requests.get(url, headers={"Range": "bytes=0-"}, timeout=30).status_code == 403
    assert requests.get(url.replace("grant=", "grant=x"), timeout=30).status_code == 403
    other = url.replace(xorb, some_hash, 1)
    assert requests.get(other, timeout=30).status_code == 403

    # The server is still up, and the honest file is intact.
    r = requests.get(f"{hub.url}/alice/big/resolve/main/w.bin", timeout=60)
    assert r.status_code == 200 and r.content == data


def test_gc_reclaims_what_no_commit_refers_to_and_keeps_the_rest(hub, alice, tmp_path):
    shared = random.Random(7).randbytes(6 * MiB)
    kept = {"shared.bin": shared, "kept.bin": random_bytes(4 * MiB, seed=8)}
    doomed = {"shared-copy.bin": shared, "doomed.bin": random_bytes(5 * MiB, seed=9)}
    for name, files in (("kept", kept), ("doomed", doomed)):
        folder = tmp_path / name
        folder.mkdir()
        for path, data in files.items():
            (folder / path).write_bytes(data)
    alice.api.upload_folder(repo_id="alice/big", folder_path=tmp_path / "kept")
    alice.api.create_branch("alice/big", branch="scratch")
    alice.api.upload_folder(repo_id="alice/big", folder_path=tmp_path / "doomed", revision="scratch")
    # An LFS-batch upload too (Xet disabled), on a repo that is then deleted.
    alice.api.create_repo("alice/gone")
    gone = random_bytes(3 * MiB, seed=10)
    upload_with_xet_disabled(hub, alice.token, "alice/gone", {"gone.bin": gone}, tmp_path)
    alice.api.delete_repo("alice/gone")
    alice.api.delete_branch("alice/big", branch="scratch")

    with pytest.raises(RuntimeError, match="stop `grove serve`"):
        hub.cli("gc", "--min-age-hours", "0", *hub.storage_args())
    hub.pause()
    dry = hub.cli("gc", "--min-age-hours", "0", "--dry-run", *hub.storage_args())
    assert dry.startswith("would remove 1 xorb(s)"), dry
    # Young content is kept whatever refers to it.
    assert hub.cli("gc", *hub.storage_args()).startswith("removed 0 xorb(s) (0 bytes) of 0 Xet file(s), 0 LFS blob(s)")
    out = hub.cli("gc", "--min-age-hours", "0", *hub.storage_args())
    removed = out.split()
    assert out.startswith("removed 1 xorb(s)") and "of 1 Xet file(s), 1 LFS blob(s)" in out, out
    assert int(removed[3].strip("(")) >= 5 * MiB, out
    hub.resume()  # on a new port: `hub.url` changes, `alice.api` still names the old one
    api = hub.api(alice.token)

    # What a commit refers to is intact, through every path; what none does is gone.
    for path, data in kept.items():
        r = requests.get(f"{hub.url}/alice/big/resolve/main/{path}", timeout=60)
        assert r.status_code == 200 and r.content == data, path
        got = hf_hub_download("alice/big", path, endpoint=hub.url, token=alice.token, cache_dir=tmp_path / "after")
        assert open(got, "rb").read() == data
    r = requests.post(
        f"{hub.url}/alice/big.git/info/lfs/objects/batch",
        json={"operation": "download", "objects": [{"oid": sha256(doomed["doomed.bin"]), "size": 5 * MiB}]},
        headers={"Accept": "application/vnd.git-lfs+json"},
        timeout=30,
    )
    assert r.json()["objects"][0]["error"]["code"] == 404
    # Re-uploading removed content works: it is sent and stored again.
    api.upload_folder(repo_id="alice/big", folder_path=tmp_path / "doomed", commit_message="again")
    assert xet_counters(hub)[1] >= 5 * MiB
    r = requests.get(f"{hub.url}/alice/big/resolve/main/doomed.bin", timeout=60)
    assert r.content == doomed["doomed.bin"]
