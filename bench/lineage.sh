#!/usr/bin/env bash
# Grove lineage benchmark: ancestors, the first page of descendants of the largest base and
# descendant counts on a synthetic DAG of BENCH_LINEAGE_NODES models (default 1,000,000) shaped
# like a real hub, on SQLite and on PostgreSQL, next to the raw recursive query over the edges
# on the same database in the same run. Goals: ancestors within 10x the raw query; the first
# page of 100 descendants of the largest base under 75 ms; counts without a traversal.
#
#   bench/lineage.sh [sqlite] [postgres]        (default: both)
#
# A benchmark, not a test: it prints figures and ratios and exits 0 when it could measure.
# Settings (environment): BENCH_LINEAGE_NODES (1000000), BENCH_LINEAGE_SAMPLES (1000),
# BENCH_DIR (${TMPDIR:-/tmp}). PostgreSQL binaries are looked up as scripts/test.sh does.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODES=${BENCH_LINEAGE_NODES:-1000000}
SAMPLES=${BENCH_LINEAGE_SAMPLES:-1000}
BASE_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

DO_SQLITE=0 DO_PG=0
if [[ $# -eq 0 ]]; then DO_SQLITE=1 DO_PG=1; fi
for arg in "$@"; do
    case $arg in
        sqlite) DO_SQLITE=1 ;;
        postgres) DO_PG=1 ;;
        *) echo "usage: $0 [sqlite] [postgres]" >&2; exit 1 ;;
    esac
done

WORK=$(mktemp -d "$BASE_DIR/grove-lineage-bench.XXXXXX")
chmod 755 "$WORK"
PG_DATA=
cleanup() {
    if [[ -n $PG_DATA ]]; then as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

as_postgres() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

echo "building release binaries (grove, lineage_bench)…"
cargo build --release --quiet -p grove-hub --bin grove -p grove-tests --bin lineage_bench
GROVE=$TARGET/release/grove
BENCH=$TARGET/release/lineage_bench

if ((DO_SQLITE)); then
    "$BENCH" --grove "$GROVE" --database-url "sqlite://$WORK/bench.db" --nodes "$NODES" --samples "$SAMPLES"
fi

if ((DO_PG)); then
    PG_BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)")
    [[ -x $PG_BIN/initdb ]] || { echo "PostgreSQL binaries not found (run scripts/test.sh once)" >&2; exit 2; }
    mkdir -p "$WORK/pg"
    if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$WORK/pg"; fi
    as_postgres "$PG_BIN/initdb" -D "$WORK/pg/data" -U grove --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w -t 60 \
        -o "-p $PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
            -c shared_buffers=512MB -c work_mem=64MB" start >/dev/null
    PG_DATA=$WORK/pg/data
    "$BENCH" --grove "$GROVE" --database-url "postgres://grove@127.0.0.1:$PORT/postgres" \
        --nodes "$NODES" --samples "$SAMPLES"
fi
