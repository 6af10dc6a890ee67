"""Helpers shared by the tests: content hashes, raw protocol requests, repo snapshots."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from huggingface_hub import HfApi, hf_hub_download

TIMEOUT = 120
HEX40 = "0123456789abcdef"
LFS_SPEC = "https://git-lfs.github.com/spec/v1"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob with these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(data: bytes) -> bytes:
    """The Git LFS pointer file for these bytes (what git stores in place of an LFS file)."""
    return f"version {LFS_SPEC}\noid sha256:{sha256(data)}\nsize {len(data)}\n".encode()


def is_hex40(value: object) -> bool:
    return isinstance(value, str) and len(value) == 40 and all(c in HEX40 for c in value)


def random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def text_bytes(n: int, seed: int) -> bytes:
    """n bytes of printable ASCII text (no NUL, so not "binary"), from a repeated random block."""
    rng = random.Random(seed)
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789 \n"
    block = bytes(rng.choice(alphabet) for _ in range(4096))
    return (block * (n // len(block) + 1))[:n]


def download(
    hub, repo_id: str, filename: str, *, token, cache_dir, revision: str | None = None, repo_type: str | None = None
) -> bytes:
    """`hf_hub_download` into a new folder under `cache_dir` (so the server is always asked);
    returns the file's bytes."""
    path = hf_hub_download(
        repo_id,
        filename,
        revision=revision,
        repo_type=repo_type,
        endpoint=hub.url,
        token=token if token is not None else False,
        cache_dir=tempfile.mkdtemp(prefix="dl-", dir=cache_dir),
    )
    return Path(path).read_bytes()


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def raw_commit(
    hub, token: str | None, repo_id: str, lines: list, *, revision: str = "main", repo_type: str = "model"
) -> requests.Response:
    """POSTs an NDJSON commit; `lines` are dicts (JSON-encoded) or raw str/bytes lines."""
    body = b""
    for line in lines:
        if isinstance(line, dict):
            line = json.dumps(line)
        if isinstance(line, str):
            line = line.encode()
        body += line + b"\n"
    return requests.post(
        f"{hub.url}/api/{repo_type}s/{repo_id}/commit/{requests.utils.quote(revision, safe='')}",
        data=body,
        headers={**auth(token), "Content-Type": "application/x-ndjson"},
        timeout=TIMEOUT,
    )


def header_line(summary: str = "raw commit", parent: str | None = None) -> dict:
    value = {"summary": summary, "description": ""}
    if parent:
        value["parentCommit"] = parent
    return {"key": "header", "value": value}


def file_line(path: str, data: bytes) -> dict:
    return {"key": "file", "value": {"content": base64.b64encode(data).decode(), "path": path, "encoding": "base64"}}


@dataclass(frozen=True)
class RepoState:
    sha: str
    commits: tuple[str, ...]
    files: tuple[str, ...]


def repo_state(api: HfApi, repo_id: str, repo_type: str | None = None) -> RepoState:
    """What a commit that must not happen would change: the head, the history and the file list."""
    info = api.repo_info(repo_id, repo_type=repo_type)
    commits = tuple(c.commit_id for c in api.list_repo_commits(repo_id, repo_type=repo_type))
    files = tuple(sorted(api.list_repo_files(repo_id, repo_type=repo_type)))
    return RepoState(info.sha, commits, files)


def status_of(excinfo) -> int | None:
    response = getattr(excinfo.value, "response", None)
    return None if response is None else response.status_code


def settled(fn, want, timeout: float = 5.0):
    """fn() once it equals `want`, or its last value after `timeout` seconds: for derived data the
    server may update a moment after the write (search index, counters)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value == want or time.monotonic() > deadline:
            return value
        time.sleep(0.1)
