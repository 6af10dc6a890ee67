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
trap 'stop_bench_postgres; rm -rf "$WORK"' EXIT
source "$ROOT/bench/pg.sh"

echo "building release binaries (grove, lineage_bench)…"
cargo build --release --quiet -p grove-hub --bin grove -p grove-tests --bin lineage_bench
GROVE=$TARGET/release/grove
BENCH=$TARGET/release/lineage_bench

if ((DO_SQLITE)); then
    "$BENCH" --grove "$GROVE" --database-url "sqlite://$WORK/bench.db" --nodes "$NODES" --samples "$SAMPLES"
fi

if ((DO_PG)); then
    start_bench_postgres "$BASE_DIR"
    "$BENCH" --grove "$GROVE" --database-url "$BENCH_PG_URL" --nodes "$NODES" --samples "$SAMPLES"
    stop_bench_postgres
fi
