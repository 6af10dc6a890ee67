#!/usr/bin/env bash
# Grove Xet benchmark (release build, SQLite + local store, the stock client from .venv):
# 1. storage used by a base model plus 10 fine-tunes (each changing a different 5-20% of the
#    tensors) with Xet deduplication, against what whole-file storage would hold; goal: stored
#    bytes of the fine-tunes within 1.1x of the bytes they changed;
# 2. upload throughput of the default client (Xet) against the same client with
#    HF_HUB_DISABLE_XET=1 (LFS batch API), same sizes, runs alternating; goal: ratio >= 1.
#
#   bench/xet.sh
#   BENCH_XET_MIB=256 BENCH_XET_UPLOAD_MIB=256 BENCH_XET_RUNS=2 bench/xet.sh   # quicker
#
# A benchmark, not a test: it prints figures and ratios. See bench/README.md.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ -z ${BENCH_GROVE_BIN:-} ]]; then
    echo "building release grove…"
    cargo build --release --quiet -p grove-hub --bin grove
    BENCH_GROVE_BIN=$TARGET/release/grove
fi
GROVE_BIN=$BENCH_GROVE_BIN "${GROVE_VENV:-$ROOT/.venv}/bin/python" "$ROOT/bench/xet_bench.py"
