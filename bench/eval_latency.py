"""Submission-to-result latency of eval jobs against a real `grove serve` and `grove-worker`
(see bench/evals.sh). Prints the median and worst time over BENCH_EVAL_JOBS submissions of the
built-in grove-arith task on distinct commits of a tiny model, and the worker's own scoring time
for the same jobs, so the overhead of the queue, transfers and loading shows as a ratio."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "hf_client"))
os.environ.setdefault("GROVE_TEST_DATABASE", "sqlite")

from conftest import Hub, _child_env  # noqa: E402
from test_evals import generate, publish_tasks, worker_binary  # noqa: E402

JOBS = int(os.environ.get("BENCH_EVAL_JOBS", "10"))


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="grove-eval-bench-"))
    hub = Hub([])
    worker = None
    try:
        acct = hub.account("bench")
        folder = tmp / "family"
        generate(tmp, "tiny-family", str(folder), "--namespace", "bench")
        acct.api.create_repo("bench/tiny")
        acct.api.upload_folder(repo_id="bench/tiny", folder_path=folder / "tiny-base")
        arith = publish_tasks(acct, tmp)[0]
        token = hub.cli("worker-token", "create", "bench").strip()
        worker = subprocess.Popen(
            [str(worker_binary()), "run", "--hub", hub.url, "--token", token, "--cache", str(tmp / "cache"),
             "--poll-seconds", "0.05"],
            stdout=subprocess.DEVNULL, stderr=open(tmp / "worker.log", "wb"), env=_child_env(),
        )
        import requests

        latencies, scoring = [], []
        for i in range(JOBS):
            # A new commit each time, so every submission is a new job (not the duplicate).
            acct.api.upload_file(repo_id="bench/tiny", path_in_repo="NOTE.md", path_or_fileobj=f"run {i}\n".encode())
            start = time.perf_counter()
            r = requests.post(f"{hub.url}/api/evals/jobs", json={"model": "bench/tiny", "task": arith},
                              headers={"Authorization": f"Bearer {acct.token}"}, timeout=60)
            assert r.status_code == 201, r.text
            job_id = r.json()["id"]
            while True:
                j = requests.get(f"{hub.url}/api/evals/jobs/{job_id}", timeout=60).json()
                if j["status"] in ("finished", "failed"):
                    break
                time.sleep(0.01)
            assert j["status"] == "finished", j
            latencies.append(time.perf_counter() - start)
            scoring.append(j["result"]["provenance"]["durationMs"] / 1000)
        med, worst = statistics.median(latencies), max(latencies)
        print(f"submission -> published result over {JOBS} jobs (grove-arith, tiny llama): "
              f"median {med * 1000:.0f} ms, worst {worst * 1000:.0f} ms")
        print(f"worker-reported attempt time (download, load, score): median {statistics.median(scoring) * 1000:.0f} ms")
        print(f"ratio: end-to-end / worker attempt = {med / statistics.median(scoring):.2f}")
    finally:
        if worker is not None:
            worker.kill()
        hub.stop()


if __name__ == "__main__":
    main()
