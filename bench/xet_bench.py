"""Xet benchmark: deduplicated storage of fine-tunes, and upload throughput Xet vs LFS.

Runs against a real `grove serve` (release build, SQLite + local store, fresh data dir) with the
stock `huggingface_hub` client and `hf_xet`; see bench/xet.sh and bench/README.md.

1. Storage. A base model (BENCH_XET_MIB, 40 tensors of random bytes) and 10 fine-tunes, each
   changing a different 5-20% of the tensors, each published as its own repo. Every fine-tune is
   uploaded by a fresh client process with its own Xet cache, as different people would, so the
   client only learns what Grove already has through the global deduplication query; then the
   series is repeated by one client that keeps its cache. Printed: bytes sent, bytes Grove stored,
   what whole-file storage would hold (every version's full size), and stored / changed bytes
   (goal <= 1.1).
2. Upload throughput. Files of BENCH_XET_UPLOAD_MIB random bytes (new content every run) uploaded
   by the default client (Xet) and by the client with HF_HUB_DISABLE_XET=1 (the LFS batch API),
   runs alternating; printed MB/s and the ratio of medians xet / lfs (goal >= 1).
"""

import json
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

MiB = 1024 * 1024
BASE_MIB = int(os.environ.get("BENCH_XET_MIB", "512"))
UPLOAD_MIB = int(os.environ.get("BENCH_XET_UPLOAD_MIB", "512"))
RUNS = int(os.environ.get("BENCH_XET_RUNS", "3"))
TENSORS = 40
FINE_TUNES = 10
GROVE = os.environ["GROVE_BIN"]
PASSWORD = "bench-password-123"

UPLOADER = r"""
import sys, time
from huggingface_hub import HfApi
endpoint, token, repo, folder = sys.argv[1:5]
api = HfApi(endpoint=endpoint, token=token)
api.create_repo(repo, exist_ok=True)
started = time.monotonic()
api.upload_folder(repo_id=repo, folder_path=folder)
print(time.monotonic() - started)
"""


def safetensors(tensors):
    header, offset = {}, 0
    for name, data in tensors.items():
        header[name] = {"dtype": "U8", "shape": [len(data)], "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return [struct.pack("<Q", len(raw)) + raw, *tensors.values()]


def write_model(folder: Path, tensors) -> int:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    size = 0
    with open(folder / "model.safetensors", "wb") as out:
        for part in safetensors(tensors):
            out.write(part)
            size += len(part)
    return size


def metric(url: str, name: str) -> int:
    for line in requests.get(f"{url}/metrics", timeout=30).text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise SystemExit(f"{name} is not exported by this grove")


def counters(url):
    return metric(url, "grove_xet_xorb_bytes_received_total"), metric(url, "grove_xet_xorb_bytes_stored_total")


def upload(url, token, repo, folder, xet_cache: Path, disable_xet=False) -> float:
    env = dict(os.environ, HF_XET_CACHE=str(xet_cache), HF_HUB_DISABLE_TELEMETRY="1",
               HF_HUB_DISABLE_PROGRESS_BARS="1")
    if disable_xet:
        env["HF_HUB_DISABLE_XET"] = "1"
    done = subprocess.run([sys.executable, "-c", UPLOADER, url, token, repo, str(folder)],
                          capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"upload of {repo} failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def start(work: Path):
    data = work / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
    subprocess.run([GROVE, "user", "create", "bench", "--password-stdin", "--data-dir", str(data)],
                   input=PASSWORD + "\n", text=True, check=True, capture_output=True, env=env)
    token = subprocess.run([GROVE, "token", "create", "bench", "--scope", "write", "--data-dir", str(data)],
                           text=True, check=True, capture_output=True, env=env).stdout.strip()
    log = open(work / "grove.log", "wb")
    proc = subprocess.Popen([GROVE, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data)],
                            stdout=subprocess.PIPE, stderr=log, env=env)
    line = proc.stdout.readline().decode()
    assert line.startswith("listening on "), line
    return proc, line.split()[-1], token


def storage_series(url, token, work: Path, fresh_clients: bool, tag: str):
    rng = random.Random(f"{tag}-base")
    size = BASE_MIB * MiB // TENSORS
    base = {f"layers.{i:02d}.weight": rng.randbytes(size) for i in range(TENSORS)}
    cache = work / f"xet-cache-{tag}-base"
    sent0, stored0 = counters(url)
    total = write_model(work / "model", base)
    upload(url, token, f"bench/{tag}-base", work / "model", cache)
    sent1, stored1 = counters(url)
    print(f"  base: {total / MiB:.0f} MiB, sent {(sent1 - sent0) / MiB:.1f} MiB, stored {(stored1 - stored0) / MiB:.1f} MiB")
    whole_file = total
    changed_total = 0
    for n in range(FINE_TUNES):
        pick = random.Random(f"{tag}-{n}")
        count = max(1, round(TENSORS * pick.uniform(0.05, 0.20)))
        names = pick.sample(sorted(base), count)
        tuned = dict(base)
        for name in names:
            tuned[name] = pick.randbytes(size)
        changed = count * size
        changed_total += changed
        whole_file += write_model(work / "model", tuned)
        if fresh_clients:
            cache = work / f"xet-cache-{tag}-{n}"
        before = counters(url)
        upload(url, token, f"bench/{tag}-ft{n}", work / "model", cache)
        after = counters(url)
        print(f"  fine-tune {n}: {count}/{TENSORS} tensors ({changed / MiB:.1f} MiB) changed; "
              f"sent {(after[0] - before[0]) / MiB:.1f} MiB, stored {(after[1] - before[1]) / MiB:.1f} MiB")
    sent2, stored2 = counters(url)
    ft_stored = stored2 - stored1
    print(f"  total: whole-file storage would hold {whole_file / MiB:.0f} MiB; Grove stored "
          f"{(stored2 - stored0) / MiB:.1f} MiB ({(stored2 - stored0) / whole_file:.3f} of it)")
    print(f"  fine-tunes: changed {changed_total / MiB:.1f} MiB, sent {(sent2 - sent1) / MiB:.1f} MiB, "
          f"stored {ft_stored / MiB:.1f} MiB -> stored/changed = {ft_stored / changed_total:.3f} (goal <= 1.1)")


def throughput(url, token, work: Path):
    results = {"xet": [], "lfs": []}
    for run in range(RUNS + 1):
        for mode in (("xet", "lfs") if run % 2 == 0 else ("lfs", "xet")):
            folder = work / "upload"
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            with open(folder / "weights.bin", "wb") as out:
                rng = random.Random(f"{mode}-{run}")
                for _ in range(UPLOAD_MIB):
                    out.write(rng.randbytes(MiB))
            seconds = upload(url, token, f"bench/throughput-{mode}", folder, work / f"xet-cache-tp-{mode}-{run}",
                             disable_xet=(mode == "lfs"))
            speed = UPLOAD_MIB * MiB / seconds / 1e6
            label = "warm-up" if run == 0 else f"run {run}"
            print(f"  {label} {mode}: {speed:.1f} MB/s ({seconds:.2f} s)")
            if run > 0:
                results[mode].append(speed)
    xet, lfs = statistics.median(results["xet"]), statistics.median(results["lfs"])
    print(f"  median xet {xet:.1f} MB/s, lfs {lfs:.1f} MB/s -> xet/lfs = {xet / lfs:.2f} (goal >= 1)")


def main():
    work = Path(tempfile.mkdtemp(prefix="grove-xet-bench-", dir=os.environ.get("BENCH_DIR")))
    proc = None
    try:
        proc, url, token = start(work)
        print(f"grove {url}, base model {BASE_MIB} MiB in {TENSORS} tensors, {FINE_TUNES} fine-tunes")
        print("storage, every fine-tune uploaded by a fresh client (global dedup only):")
        storage_series(url, token, work, fresh_clients=True, tag="fresh")
        print("storage, one client keeping its cache (new content, new repos):")
        storage_series(url, token, work, fresh_clients=False, tag="cached")
        print(f"upload throughput, {UPLOAD_MIB} MiB of new random bytes per run:")
        throughput(url, token, work)
        rss = [l for l in open(f"/proc/{proc.pid}/status") if l.startswith("VmHWM")]
        print(f"grove peak RSS: {rss[0].split(':')[1].strip()}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
