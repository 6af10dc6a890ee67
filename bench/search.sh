#!/usr/bin/env bash
# Grove search benchmark: synthetic model cards (BENCH_SEARCH_CARDS, default "100000 1000000")
# loaded into a throwaway PostgreSQL, indexed with `grove reindex` (cards per second), then a
# fixed mix of queries (free text, facet filters, sorts, prefix suggestions) from
# BENCH_SEARCH_CLIENTS (16) concurrent clients against the real `grove serve`, next to the same
# queries answered by PostgreSQL full-text search (tsvector + GIN) on the same corpus, same run.
# Goals: p50 < 2 ms and p99 < 30 ms at 1M cards; >= 5x PostgreSQL's throughput; >= 2000 cards/s.
#
#   bench/search.sh
#
# A benchmark, not a test: it prints figures and ratios and exits 0 when it could measure.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZES=${BENCH_SEARCH_CARDS:-"100000 1000000"}
CLIENTS=${BENCH_SEARCH_CLIENTS:-16}
QUERIES=${BENCH_SEARCH_QUERIES:-20000}
BASE_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
source "$ROOT/bench/pg.sh"
trap stop_bench_postgres EXIT

echo "building release binaries (grove, search_bench)…"
cargo build --release --quiet -p grove-hub --bin grove -p grove-tests --bin search_bench
for n in $SIZES; do
    start_bench_postgres "$BASE_DIR"
    "$TARGET/release/search_bench" --grove "$TARGET/release/grove" --database-url "$BENCH_PG_URL" \
        --cards "$n" --clients "$CLIENTS" --queries "$QUERIES"
    stop_bench_postgres
done
