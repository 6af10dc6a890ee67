#!/usr/bin/env bash
# Grove eval benchmark, two parts, release builds:
# 1. `eval-bench`: the worker engine's scoring throughput on CPU (tokens per second) for a small
#    llama-family model (BENCH_EVAL_SHAPE, default 512 hidden, 8 layers, ~25 M parameters), next
#    to candle's own matmul throughput on this machine measured in the same run (the ratio).
# 2. `bench/eval_latency.py`: a real `grove serve` and `grove-worker`; the time from submission to
#    published result of the built-in grove-arith task on a tiny model, next to the scoring time
#    the worker itself reports (the rest is queueing, download, load and publication).
#
#   bench/evals.sh
#
# A benchmark, not a test: it prints figures and ratios.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SHAPE=${BENCH_EVAL_SHAPE:-"--hidden 512 --layers 8 --heads 8 --kv-heads 4 --intermediate 1376"}
SECONDS_PER_TASK=${BENCH_EVAL_SECONDS:-20}

echo "building release binaries (grove, grove-worker, eval-bench)…"
cargo build --release --quiet -p grove-hub --bin grove -p grove-eval-runner --bin grove-worker --bin eval-bench
# shellcheck disable=SC2086
"$TARGET/release/eval-bench" $SHAPE --seconds "$SECONDS_PER_TASK"
GROVE_BIN="$TARGET/release/grove" GROVE_WORKER_BIN="$TARGET/release/grove-worker" \
    "${GROVE_VENV:-$ROOT/.venv}/bin/python" "$ROOT/bench/eval_latency.py"
