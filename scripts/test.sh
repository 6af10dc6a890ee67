#!/usr/bin/env bash
# scripts/test.sh: THE test command for Grove (.ci/run executes it too).
#
# 1. checks formatting,
# 2. installs what is missing: PostgreSQL server binaries (Debian package) and a Python venv
#    with the S3-compatible test server, huggingface_hub and pytest
#    (scripts/requirements-test.txt; reinstalled only when that file changes),
# 3. runs clippy and builds the `grove` binary,
# 4. starts PostgreSQL and moto (S3) on free loopback ports in a throwaway directory,
# 5. runs the whole test suite twice, with GROVE_TEST_DATABASE=sqlite and =postgres: the Rust
#    tests, then the stock `huggingface_hub` Python client against the real server
#    (tests/hf_client, pytest),
# and stops every server it started when it exits: on success, failure or Ctrl-C.
#
# Usage: scripts/test.sh [--no-lint] [--db sqlite|postgres] [--no-hf-client] [-- ARGS for the test runner]
#   --no-lint       skip cargo fmt --check and clippy
#   --db DB         run one pass only
#   --no-hf-client  skip the Python client suite (tests/hf_client)
#   -- ARGS         passed to `cargo nextest run` (or `cargo test`), e.g. `-- -p grove-storage`
# Environment: CARGO_TARGET_DIR is honoured; GROVE_VENV moves the venv (default: .venv).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

VENV=${GROVE_VENV:-$ROOT/.venv}
REQUIREMENTS=$ROOT/scripts/requirements-test.txt
S3_BUCKET=grove-test

LINT=1
HF_CLIENT=1
DBS=(sqlite postgres)
RUNNER_ARGS=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }

while (($#)); do
    case $1 in
        --no-lint) LINT=0 ;;
        --db)
            shift
            [[ ${1:-} == sqlite || ${1:-} == postgres ]] || die "--db takes sqlite or postgres"
            DBS=("$1")
            ;;
        --db=sqlite | --db=postgres) DBS=("${1#--db=}") ;;
        --no-hf-client) HF_CLIENT=0 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; RUNNER_ARGS=("$@"); break ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

# --- timing and cleanup ------------------------------------------------------------------------

TIMINGS=()
STEP_NAME=
STEP_START=0
SCRIPT_START=$(date +%s%N)

elapsed_since() { # nanosecond timestamp -> "12.3s"
    local ms=$((($(date +%s%N) - $1) / 1000000))
    printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100))
}

# step NAME COMMAND...: runs COMMAND in this shell (so `set -e` applies inside functions too)
# and records how long it took. A failing command ends the script; the EXIT trap records it.
step() {
    STEP_NAME=$1
    shift
    log "$STEP_NAME"
    STEP_START=$(date +%s%N)
    "$@"
    local took
    took=$(elapsed_since "$STEP_START")
    TIMINGS+=("$(printf '%-48s %8s  ok' "$STEP_NAME" "$took")")
    printf '==> %s: %s\n' "$STEP_NAME" "$took" >&2
    STEP_NAME=
}

WORK_DIR=
PG_BIN=
PG_DATA=
PG_PORT=
MOTO_PID=
MOTO_PORT=

as_postgres() {
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_services() {
    if [[ -n $MOTO_PID ]] && kill -0 "$MOTO_PID" 2>/dev/null; then
        kill "$MOTO_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$MOTO_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
    MOTO_PID=
    if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    PG_DATA=
    if [[ -n $WORK_DIR ]]; then
        rm -rf "$WORK_DIR"
    fi
    WORK_DIR=
}

on_exit() {
    local rc=$?
    set +e
    if [[ -n $STEP_NAME ]]; then
        TIMINGS+=("$(printf '%-48s %8s  FAILED (exit %d)' "$STEP_NAME" "$(elapsed_since "$STEP_START")" "$rc")")
    fi
    stop_services
    if ((${#TIMINGS[@]})); then
        printf '\n==> summary\n' >&2
        printf '    %s\n' "${TIMINGS[@]}" >&2
        printf '    %-48s %8s\n' "total" "$(elapsed_since "$SCRIPT_START")" >&2
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- installing --------------------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
    [[ $(id -u) == 0 ]] || die "need root to apt-get install $* (or install it yourself)"
    command -v apt-get >/dev/null || die "no apt-get: install $* yourself"
    if ((APT_UPDATED == 0)); then
        apt-get update
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

find_pg_bin() {
    local initdb
    initdb=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1) || true
    [[ -n $initdb ]] && dirname "$initdb"
}

install_postgres() {
    if PG_BIN=$(find_pg_bin); then
        echo "PostgreSQL binaries: $PG_BIN"
        return
    fi
    # Debian's package would create and start a "main" cluster on port 5432; we only want the
    # binaries (this script runs its own throwaway server), so turn cluster creation off first.
    mkdir -p /etc/postgresql-common
    if ! grep -qs '^ *create_main_cluster' /etc/postgresql-common/createcluster.conf; then
        echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
    fi
    apt_install postgresql
    PG_BIN=$(find_pg_bin) || die "apt-get installed postgresql but no initdb was found"
}

# The web UI's browser tests drive Debian's Chromium over WebDriver (chromedriver).
install_chromium() {
    if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
        echo "Chromium: $(chromium --version 2>/dev/null | head -1)"
        return
    fi
    apt_install chromium chromium-driver
}

install_venv() {
    local want stamp="$VENV/.grove-requirements.sha256"
    want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
    if [[ -f $stamp && $(cat "$stamp") == "$want" && -x $VENV/bin/moto_server ]] &&
        "$VENV/bin/python" -c 'import moto' 2>/dev/null; then
        echo "venv $VENV is up to date"
        return
    fi
    if ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
        rm -rf "$VENV"
        local python
        python=$(command -v python3.11 || command -v python3) || die "python3 not found"
        if ! "$python" -m venv "$VENV"; then
            rm -rf "$VENV"
            apt_install python3-venv
            "$python" -m venv "$VENV"
        fi
    fi
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$REQUIREMENTS"
    echo "$want" >"$stamp"
}

# --- services ----------------------------------------------------------------------------------

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_postgres() {
    local dir=$WORK_DIR/pg
    mkdir -p "$dir"
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' user to run initdb as (apt-get install postgresql)"
        chown postgres:postgres "$dir"
    fi
    as_postgres "$PG_BIN/initdb" -D "$dir/data" -U grove --auth=trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    local attempt
    for attempt in 1 2 3; do
        PG_PORT=$(free_port)
        if as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null; then
            PG_DATA=$dir/data
            echo "PostgreSQL listening on 127.0.0.1:$PG_PORT"
            return
        fi
        echo "PostgreSQL did not start on port $PG_PORT (attempt $attempt)" >&2
    done
    tail -n 30 "$dir/server.log" >&2 || true
    die "could not start PostgreSQL"
}

start_moto() {
    MOTO_PORT=$(free_port)
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK_DIR/moto.log" 2>&1 &
    MOTO_PID=$!
    local _
    for _ in $(seq 1 150); do
        if "$VENV/bin/python" - "$MOTO_PORT" "$S3_BUCKET" 2>/dev/null <<'PY'; then
import sys, urllib.request
port, bucket = sys.argv[1], sys.argv[2]
req = urllib.request.Request(f"http://127.0.0.1:{port}/{bucket}", method="PUT")
urllib.request.urlopen(req, timeout=2).read()
PY
            echo "moto (S3) listening on 127.0.0.1:$MOTO_PORT, bucket $S3_BUCKET"
            return
        fi
        if ! kill -0 "$MOTO_PID" 2>/dev/null; then
            tail -n 30 "$WORK_DIR/moto.log" >&2 || true
            die "moto_server exited"
        fi
        sleep 0.2
    done
    tail -n 30 "$WORK_DIR/moto.log" >&2 || true
    die "moto_server did not answer within 30 s"
}

start_services() {
    WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/grove-test.XXXXXX")
    chmod 755 "$WORK_DIR" # the postgres user must reach its directory inside
    start_postgres
    start_moto
    export GROVE_TEST_POSTGRES_URL="postgres://grove@127.0.0.1:$PG_PORT/postgres"
    export GROVE_TEST_S3_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
    export GROVE_TEST_S3_BUCKET=$S3_BUCKET
    export AWS_ACCESS_KEY_ID=grove-test
    export AWS_SECRET_ACCESS_KEY=grove-test-secret
    export AWS_REGION=us-east-1
    export AWS_ENDPOINT=$GROVE_TEST_S3_ENDPOINT
    export AWS_ALLOW_HTTP=true
    # Settings from a developer's own AWS setup must not leak into the tests.
    unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_DEFAULT_REGION AWS_ENDPOINT_URL \
        AWS_COPY_IF_NOT_EXISTS AWS_CONDITIONAL_PUT
    export GROVE_TEST_REQUIRE_SERVICES=1
}

# --- cargo -------------------------------------------------------------------------------------

run_tests() {
    export GROVE_TEST_DATABASE=$1
    local args=(--no-fail-fast)
    # The whole workspace unless the caller picked packages.
    if [[ " ${RUNNER_ARGS[*]-} " != *" -p "* && " ${RUNNER_ARGS[*]-} " != *" --package"* ]]; then
        args+=(--workspace)
    fi
    args+=(${RUNNER_ARGS[@]+"${RUNNER_ARGS[@]}"})
    if cargo nextest --version >/dev/null 2>&1; then
        cargo nextest run "${args[@]}"
    else
        echo "cargo-nextest not found; using cargo test"
        cargo test "${args[@]}"
    fi
}

# The stock huggingface_hub client against `grove serve` (tests/hf_client/conftest.py starts one
# hub per test with the same GROVE_TEST_* settings as the Rust tests). GROVE_TEST_LFS_BATCH=0
# skips the uploads through the LFS batch API (`grove serve --upload-mode lfs`).
# GROVE_PYTEST_ARGS (e.g. "-k lineage") narrows the suite while iterating; CI leaves it empty.
run_hf_client_tests() {
    export GROVE_TEST_DATABASE=$1
    # shellcheck disable=SC2086 # word splitting of the optional arguments is intended
    GROVE_TEST_LFS_BATCH=${GROVE_TEST_LFS_BATCH:-1} PYTHONDONTWRITEBYTECODE=1 \
        "$VENV/bin/python" -m pytest tests/hf_client -q -x -p no:cacheprovider ${GROVE_PYTEST_ARGS:-}
}

echo "Grove tests in $ROOT (target dir: ${CARGO_TARGET_DIR:-$ROOT/target})"
if ((LINT)); then
    step "cargo fmt --check" cargo fmt --all -- --check
fi
step "install PostgreSQL binaries (if missing)" install_postgres
step "install Python test tools ($VENV)" install_venv
if ((HF_CLIENT)); then
    step "install Chromium and chromedriver (if missing)" install_chromium
fi
if ((LINT)); then
    step "cargo clippy -D warnings" cargo clippy --workspace --all-targets -- -D warnings
fi
step "cargo build --bin grove --bin grove-worker" cargo build -p grove-hub --bin grove -p grove-eval-runner --bin grove-worker
step "start PostgreSQL and S3 (moto)" start_services
for db in "${DBS[@]}"; do
    step "tests with GROVE_TEST_DATABASE=$db" run_tests "$db"
    if ((HF_CLIENT)); then
        step "huggingface_hub client tests with GROVE_TEST_DATABASE=$db" run_hf_client_tests "$db"
    fi
done
