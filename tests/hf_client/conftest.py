"""Fixtures for driving a real `grove serve` with the stock `huggingface_hub` client.

Every test gets its own hub (`hub` fixture, or `start_hub(...)` for extra `serve` flags): a fresh
process on a free loopback port with a fresh data dir and a fresh database, stopped and removed
after the test. Environment (the same variables as the Rust suite in `tests/`):

- `GROVE_BIN`: the binary; default `${CARGO_TARGET_DIR:-<repo>/target}/debug/grove`.
- `GROVE_TEST_DATABASE`: `sqlite` (default) or `postgres`.
- `GROVE_TEST_POSTGRES_URL`: an admin URL; each hub gets its own database `grove_py_<uuid>`,
  created and dropped (`WITH (FORCE)`) with `psql`.
- `GROVE_TEST_S3_ENDPOINT` + `GROVE_TEST_S3_BUCKET`: with PostgreSQL, the hub also stores its
  objects under `s3://<bucket>/<uuid>` (the `AWS_*` variables come from the environment).
- `GROVE_TEST_REQUIRE_SERVICES=1`: a missing variable for the chosen backend fails instead of
  falling back to SQLite and local files.
- `GROVE_TEST_LFS_BATCH=1`: also run the tests marked `lfs_batch`.

The client's own settings are fixed before `huggingface_hub` is imported (it reads them at import
time): no stored or implicit token, no telemetry, no progress bars, and a throwaway `HF_HOME`.
Each test also gets its own hub cache (see `cache_dir`), so no two tests share cached files.
"""

from __future__ import annotations

import atexit
import glob
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

# --- the client's environment, fixed before huggingface_hub is imported -------------------------

_HF_HOME = tempfile.mkdtemp(prefix="grove-hf-home-")
atexit.register(shutil.rmtree, _HF_HOME, True)
for _key in (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HF_ENDPOINT",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_XET_CACHE",
    "HF_HUB_DISABLE_XET",
    "HF_HUB_ENABLE_HF_TRANSFER",
    "HF_DEBUG",
    "XDG_CACHE_HOME",
):
    os.environ.pop(_key, None)
os.environ.update(
    {
        "HF_HOME": _HF_HOME,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "HF_HUB_DISABLE_SYMLINKS_WARNING": "1",
    }
)
# Loopback only: a developer's proxy must never see these requests.
_no_proxy = [p for p in os.environ.get("NO_PROXY", "").split(",") if p]
os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(_no_proxy + ["127.0.0.1", "localhost"])

import huggingface_hub  # noqa: E402  (must come after the environment above)
from huggingface_hub import HfApi, constants  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30
CLI_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10
LISTENING = "listening on http://"
# Variables of grove's own configuration that must not leak into the processes under test.
GROVE_ENV = (
    "GROVE_DATA_DIR",
    "GROVE_DATABASE_URL",
    "GROVE_LISTEN",
    "GROVE_STORAGE_URL",
    "GROVE_PUBLIC_URL",
    "GROVE_LOG_FORMAT",
    "GROVE_DISABLE_SIGNUP",
)
PASSWORD = "correct horse battery staple"


def _env_nonempty(key: str) -> str | None:
    value = os.environ.get(key, "")
    return value or None


def grove_binary() -> Path:
    explicit = _env_nonempty("GROVE_BIN")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            pytest.exit(f"GROVE_BIN={explicit} does not exist or is not a file", returncode=2)
        return path
    target = Path(_env_nonempty("CARGO_TARGET_DIR") or ROOT / "target")
    if not target.is_absolute():
        target = ROOT / target
    path = target / "debug" / "grove"
    if not path.is_file():
        pytest.exit(
            f"the grove binary is missing at {path}: build it with "
            "`cargo build -p grove-hub --bin grove`, or set GROVE_BIN",
            returncode=2,
        )
    return path


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in GROVE_ENV:
        env.pop(key, None)
    return env


# --- backends ------------------------------------------------------------------------------------


@dataclass
class Backend:
    postgres_admin_url: str | None
    s3_bucket: str | None

    @staticmethod
    def from_env() -> "Backend":
        require = _env_nonempty("GROVE_TEST_REQUIRE_SERVICES") == "1"
        wanted = _env_nonempty("GROVE_TEST_DATABASE") or "sqlite"
        if wanted == "sqlite":
            return Backend(None, None)
        if wanted != "postgres":
            pytest.exit(f"GROVE_TEST_DATABASE must be sqlite or postgres, not {wanted!r}", returncode=2)
        admin = _env_nonempty("GROVE_TEST_POSTGRES_URL")
        if admin is None:
            if require:
                pytest.exit(
                    "GROVE_TEST_DATABASE=postgres and GROVE_TEST_REQUIRE_SERVICES=1, "
                    "but GROVE_TEST_POSTGRES_URL is not set",
                    returncode=2,
                )
            print("hf_client tests: postgres without GROVE_TEST_POSTGRES_URL; using SQLite", file=sys.stderr)
            return Backend(None, None)
        bucket = None
        if _env_nonempty("GROVE_TEST_S3_ENDPOINT"):
            bucket = _env_nonempty("GROVE_TEST_S3_BUCKET")
            if bucket is None and require:
                pytest.exit(
                    "GROVE_TEST_S3_ENDPOINT is set and GROVE_TEST_REQUIRE_SERVICES=1, "
                    "but GROVE_TEST_S3_BUCKET is not set",
                    returncode=2,
                )
        return Backend(admin, bucket)


def _psql() -> str:
    # The versioned binary first (what scripts/test.sh installs), else whatever PATH has.
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), key=_version_key)
    if candidates:
        return candidates[-1]
    found = shutil.which("psql")
    if found:
        return found
    pytest.exit("GROVE_TEST_DATABASE=postgres needs `psql` (apt-get install postgresql-client)", returncode=2)
    raise AssertionError("unreachable")


def _version_key(path: str) -> list[int]:
    return [int(part) for part in re.findall(r"\d+", path)]


class PostgresDatabase:
    """A database `grove_py_<uuid>` made through the admin URL, dropped by `drop()`."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.name = f"grove_py_{uuid.uuid4().hex}"
        self._sql(f'CREATE DATABASE "{self.name}"')
        parts = urlsplit(admin_url)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", parts.query, parts.fragment))

    def _sql(self, statement: str) -> None:
        done = subprocess.run(
            [_psql(), self.admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql {statement!r} failed ({done.returncode}): {done.stderr.strip()}")

    def drop(self) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- one running hub -----------------------------------------------------------------------------


@dataclass
class Account:
    """A user with a token: `api` is an `HfApi` bound to this hub and that token."""

    name: str
    token: str
    api: HfApi


class Hub:
    """One `grove serve` process with its own data dir and database."""

    def __init__(self, serve_args: list[str]):
        self.bin = grove_binary()
        self.backend = Backend.from_env()
        self.data_dir = Path(tempfile.mkdtemp(prefix="grove-py-"))
        self.log_path = self.data_dir / "hub.log"
        self.db: PostgresDatabase | None = None
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.storage_url: str | None = None
        self._stdout_lines: list[str] = []
        try:
            self._start(serve_args)
        except BaseException:
            self.stop()
            raise

    # -- lifecycle --

    def _db_args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir)] + (["--database-url", self.db.url] if self.db else [])

    def _start(self, serve_args: list[str]) -> None:
        if self.backend.postgres_admin_url:
            self.db = PostgresDatabase(self.backend.postgres_admin_url)
            if self.backend.s3_bucket:
                self.storage_url = f"s3://{self.backend.s3_bucket}/{uuid.uuid4().hex}"
        cmd = [str(self.bin), "serve", "--listen", "127.0.0.1:0", *self._db_args()]
        cmd += self.storage_args()
        cmd += serve_args
        self._launch(cmd)

    def storage_args(self) -> list[str]:
        """`--storage-url` for commands that open this hub's blob store."""
        return ["--storage-url", self.storage_url] if self.storage_url else []

    def pause(self) -> None:
        """Stops the server process, keeping its data dir, database and store."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None

    def resume(self) -> None:
        """Starts the server again on the same data (on a new port: `url` changes)."""
        self._launch(self._cmd)

    def _launch(self, cmd: list[str]) -> None:
        self._cmd = cmd
        self.command = " ".join(cmd)
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=_child_env()
            )
        finally:
            log.close()
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self._stdout_lines.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise RuntimeError(
                    f"`{self.command}` did not print `{LISTENING}…` within {START_TIMEOUT_S} s\n"
                    f"stderr:\n{self.log_tail()}"
                ) from None
            if line is None:
                rc = self.proc.wait()
                raise RuntimeError(
                    f"`{self.command}` exited ({rc}) before listening; stdout {self._stdout_lines!r}\n"
                    f"stderr:\n{self.log_tail()}"
                )
            if line.strip().startswith(LISTENING):
                self.url = "http://" + line.strip()[len(LISTENING) :].rstrip("/")
                return

    def crashed(self) -> int | None:
        """The exit status if the process ended by itself."""
        return None if self.proc is None else self.proc.poll()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.db is not None:
            try:
                self.db.drop()
            finally:
                self.db = None
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError as e:
            return f"(cannot read {self.log_path}: {e})"
        return "\n".join(text.splitlines()[-lines:])

    # -- CLI --

    def cli(self, *args: str, stdin: str | None = None) -> str:
        cmd = [str(self.bin), *args, *self._db_args()]
        done = subprocess.run(
            cmd,
            input=(stdin or "").encode(),
            capture_output=True,
            env=_child_env(),
            timeout=CLI_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(cmd)}` failed ({done.returncode}):\nstdout: {done.stdout.decode()}\n"
                f"stderr: {done.stderr.decode()}"
            )
        return done.stdout.decode()

    def create_user(self, name: str) -> str:
        self.cli("user", "create", name, "--password-stdin", stdin=PASSWORD + "\n")
        return name

    def create_token(self, user: str, scope: str = "write") -> str:
        token = self.cli("token", "create", user, "--scope", scope).strip()
        assert token and "\n" not in token, f"`grove token create` printed {token!r}"
        return token

    def create_org(self, name: str, owner: str) -> str:
        self.cli("org", "create", name, "--owner", owner)
        return name

    # -- HTTP --

    def api(self, token: str | None) -> HfApi:
        """An `HfApi` on this hub; `None` is anonymous."""
        return HfApi(endpoint=self.url, token=token if token is not None else False)

    def account(self, name: str, scope: str = "write") -> Account:
        """A new user `name` and a token of `scope`."""
        self.create_user(name)
        token = self.create_token(name, scope)
        return Account(name, token, self.api(token))

    def requests_served(self, method: str, route: str, status: int | None = None) -> int:
        """How many requests the hub counted for a route pattern (from `GET /metrics`,
        `grove_http_requests_total{method,route,status}`); `route` may be a substring."""
        text = requests.get(f"{self.url}/metrics", timeout=30).text
        total = 0
        for line in text.splitlines():
            match = re.match(r'^grove_http_requests_total\{(.*)\} (\d+(?:\.\d+)?)$', line)
            if not match:
                continue
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(1)))
            if labels.get("method") != method or route not in labels.get("route", "").replace("\\\\", "\\"):
                continue
            if status is not None and labels.get("status") != str(status):
                continue
            total += int(float(match.group(2)))
        return total

    def set_member(self, org: str, user: str, role: str, admin_token: str) -> None:
        """Adds `user` to `org` with `role` (read|write|admin), acting with an org admin's admin token."""
        r = requests.put(
            f"{self.url}/api/organizations/{org}/members/{user}",
            json={"role": role},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=30,
        )
        assert r.status_code == 200, f"PUT member {org}/{user} {role}: {r.status_code} {r.text}"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def start_hub(request):
    """`start_hub(*serve_args)` starts another hub for this test; all are stopped after it."""
    hubs: list[Hub] = []
    request.node._grove_hubs = hubs

    def start(*serve_args: str) -> Hub:
        hub = Hub(list(serve_args))
        hubs.append(hub)
        return hub

    yield start
    problems = []
    for hub in hubs:
        rc = hub.crashed()
        if rc is not None:
            problems.append(f"`{hub.command}` exited by itself with {rc}; stderr tail:\n{hub.log_tail()}")
    for hub in hubs:
        hub.stop()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def hub(start_hub) -> Hub:
    """A fresh `grove serve` with the default settings."""
    return start_hub()


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch) -> Path:
    """This test's own hub cache; also made the client's default for calls that take no cache_dir."""
    home = tmp_path / "hf-home"
    cache = home / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HOME", str(home))
    for name, value in (
        ("HF_HOME", home),
        ("HF_HUB_CACHE", cache),
        ("HUGGINGFACE_HUB_CACHE", cache),
        ("HF_ASSETS_CACHE", home / "assets"),
        ("HF_XET_CACHE", home / "xet"),
        ("HF_TOKEN_PATH", home / "token"),
        ("HF_STORED_TOKENS_PATH", home / "stored_tokens"),
    ):
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, str(value))
    return cache


def pytest_collection_modifyitems(config, items):
    if _env_nonempty("GROVE_TEST_LFS_BATCH") == "1":
        return
    skip = pytest.mark.skip(
        reason="LFS batch uploads (`grove serve --upload-mode lfs`) are not enabled: set GROVE_TEST_LFS_BATCH=1"
    )
    for item in items:
        if "lfs_batch" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for hub in getattr(item, "_grove_hubs", []):
            report.sections.append((f"grove serve stderr, last 80 lines ({hub.url})", hub.log_tail()))


def pytest_report_header(config):
    backend = Backend.from_env()
    return [
        f"huggingface_hub {huggingface_hub.__version__}; grove binary {grove_binary()}",
        "database: " + ("postgres" if backend.postgres_admin_url else "sqlite")
        + (f", objects in s3://{backend.s3_bucket}/<uuid>" if backend.s3_bucket else ", objects on local disk"),
    ]
