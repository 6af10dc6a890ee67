"""Eval jobs end to end: a real `grove serve`, real `grove-worker` processes scoring tiny generated
llama models with candle, models and tasks published with the stock client.

Covers: submission (and duplicates), two workers draining the queue, a worker killed mid-job
whose job is re-leased and finishes exactly once, fencing (a stale lease cannot publish),
leaderboards (intervals, ranks, lineage columns, filters, suites, the Hub's shape through
`get_dataset_leaderboard`), `model_info(expand=["evalResults"])`, re-runs marking a result
reproduced, metrics recomputed from the published per-sample scores with the harness's
definitions, bad submissions, and private models staying invisible."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from huggingface_hub.errors import HfHubHTTPError

from conftest import ROOT, _child_env

TIMEOUT = 60
LEASE = "3"


def worker_binary() -> Path:
    explicit = os.environ.get("GROVE_WORKER_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    if not target.is_absolute():
        target = ROOT / target
    path = target / "debug" / "grove-worker"
    if not path.is_file():
        pytest.exit(f"grove-worker is missing at {path}: `cargo build -p grove-eval-runner`", returncode=2)
    return path


class Workers:
    """`grove-worker run` processes for one hub, stopped after the test."""

    def __init__(self, hub, tmp: Path):
        self.hub, self.tmp, self.procs = hub, tmp, {}

    def token(self, name: str) -> str:
        token = self.hub.cli("worker-token", "create", name).strip()
        assert token.startswith("grovew_"), token
        return token

    def start(self, key: str, token: str, *extra: str) -> subprocess.Popen:
        log = open(self.tmp / f"worker-{key}.log", "ab")
        proc = subprocess.Popen(
            [str(worker_binary()), "run", "--hub", self.hub.url, "--token", token,
             "--cache", str(self.tmp / f"cache-{key}"), "--poll-seconds", "0.2", *extra],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=_child_env(),
        )
        self.procs[key] = proc
        return proc

    def kill(self, key: str) -> None:
        self.procs[key].send_signal(signal.SIGKILL)
        self.procs[key].wait(10)

    def log(self, key: str) -> str:
        return (self.tmp / f"worker-{key}.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def workers(tmp_path):
    made: list[Workers] = []

    def make(hub) -> Workers:
        w = Workers(hub, tmp_path)
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop()


def call(hub, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{hub.url}{path}", headers=headers, timeout=TIMEOUT, **kw)


def submit(hub, token: str, model: str, task: str, **extra) -> requests.Response:
    return call(hub, "POST", "/api/evals/jobs", token, json={"model": model, "task": task, **extra})


def job(hub, job_id: int, token: str | None = None) -> dict:
    r = call(hub, "GET", f"/api/evals/jobs/{job_id}", token)
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(what: str, fn, timeout: float = 240.0, every: float = 0.2):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def generate(tmp: Path, *args: str) -> list[str]:
    out = subprocess.run([str(worker_binary()), *args], capture_output=True, check=True, env=_child_env())
    return out.stdout.decode().split()


def publish_family(account, tmp: Path) -> list[str]:
    """The tiny family (base, chat, code, chat-v2, merge; the base's Q8_0 GGUF last) under the
    account, parents first."""
    folder = tmp / "family"
    names = generate(tmp, "tiny-family", str(folder), "--namespace", account.name)
    for name in names:
        repo = f"{account.name}/{name}"
        account.api.create_repo(repo)
        account.api.upload_folder(repo_id=repo, folder_path=folder / name)
    return [f"{account.name}/{n}" for n in names]


def publish_tasks(account, tmp: Path) -> list[str]:
    folder = tmp / "tasks"
    names = generate(tmp, "builtin-tasks", str(folder))
    for name in names:
        repo = f"{account.name}/{name}"
        account.api.create_repo(repo, repo_type="dataset")
        account.api.upload_folder(repo_id=repo, repo_type="dataset", folder_path=folder / name)
    return [f"{account.name}/{n}" for n in names]


def board(hub, task: str, token: str | None = None, **params) -> dict:
    r = call(hub, "GET", f"/api/evals/leaderboards/{task}", token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def all_finished(hub, token, ids):
    views = [job(hub, i, token) for i in ids]
    bad = [v for v in views if v["status"] in ("failed", "cancelled")]
    assert not bad, f"jobs ended badly: {bad}"
    return views if all(v["status"] == "finished" for v in views) else None


def test_jobs_run_on_two_workers_survive_a_killed_worker_and_feed_leaderboards(start_hub, workers, tmp_path):
    hub = start_hub("--eval-lease-secs", LEASE)
    alice = hub.account("alice")
    *models, gguf = publish_family(alice, tmp_path)
    arith, capitals, prose = publish_tasks(alice, tmp_path)
    alice.api.create_repo(f"{alice.name}/small-suite", repo_type="dataset")
    alice.api.upload_file(
        repo_id=f"{alice.name}/small-suite", repo_type="dataset", path_in_repo="suite.yaml",
        path_or_fileobj=f"suite: small\ntasks: [{arith}, {capitals}]\n".encode(),
    )

    ids = {}
    for m in models:
        for t in (arith, capitals, prose):
            r = submit(hub, alice.token, m, t)
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "queued"
            ids[(m, t)] = r.json()["id"]
    # One submission per model commit per task: a duplicate answers with the same job.
    again = submit(hub, alice.token, models[0], arith)
    assert again.status_code == 200 and again.json()["id"] == ids[(models[0], arith)]
    # The GGUF quantization has no config.json or safetensors: refused, with the reason.
    r = submit(hub, alice.token, gguf, arith)
    assert r.status_code == 400 and "config.json" in r.json()["error"], r.text

    pool = workers(hub)
    w1, w2 = pool.token("w1"), pool.token("w2")
    # The slow worker takes the first job and is killed in the middle of it.
    pool.start("slow", w1, "--throttle-ms", "400", "--batch-tokens", "64")
    victim = wait_for(
        "the slow worker to make progress",
        lambda: next((v for v in (job(hub, i, alice.token) for i in ids.values())
                      if v["status"] == "running" and v["worker"] == "w1" and v["progress"]["done"] > 0), None),
        timeout=120,
    )
    pool.kill("slow")
    pool.start("fast", w2)
    pool.start("slow-again", w1)  # the same worker identity, restarted: a second live worker
    views = wait_for("every job to finish", lambda: all_finished(hub, alice.token, list(ids.values())), timeout=300)

    redone = job(hub, victim["id"], alice.token)
    assert redone["status"] == "finished"
    assert redone["attempts"] >= 2, redone
    assert redone["result"] is not None
    # Exactly one published result per job, and the listing agrees.
    listed = call(hub, "GET", "/api/evals/jobs", alice.token, params={"status": "finished", "limit": 100}).json()
    assert sorted(v["id"] for v in listed) == sorted(ids.values())
    for v in views:
        prov = v["result"]["provenance"]
        assert prov["runnerVersion"].startswith("grove-eval-runner/")
        assert prov["hashes"]["task"] == v["taskHash"]
        assert prov["device"] == "cpu" and prov["dtype"] == "f32" and prov["weightsDtype"] == "F32"
        assert prov["tokens"] > 0 and prov["requests"] > 0

    # --- the task board: intervals, ranks, lineage columns ---
    b = board(hub, arith)
    assert b["metric"] == "acc" and b["higherIsBetter"] is True
    rows = {r["model"]: r for r in b["rows"]}
    assert set(rows) == set(models)
    for r in rows.values():
        assert 0.0 <= r["ciLow"] <= r["value"] <= r["ciHigh"] <= 1.0
        assert r["family"] == models[0]
        assert 1 <= r["rank"] <= len(models)
    values = [r["value"] for r in b["rows"]]
    assert values == sorted(values, reverse=True)
    chat, base = rows[f"{alice.name}/tiny-chat"], rows[models[0]]
    assert chat["parent"] == models[0] and chat["relation"] == "finetune"
    assert math.isclose(chat["gainOverParent"], chat["value"] - base["value"], abs_tol=1e-12)
    assert base["parent"] is None and base["gainOverParent"] is None
    assert rows[f"{alice.name}/tiny-merge"]["relation"] == "merge"
    best = max(r["value"] for r in rows.values())
    assert all(r["bestInFamily"] == (r["value"] == best) for r in rows.values())
    # Ranks respect intervals: a model is outranked only by intervals entirely above its own.
    for r in rows.values():
        above = sum(1 for o in rows.values() if o["ciLow"] > r["ciHigh"])
        assert r["rank"] == 1 + above

    no_merges = board(hub, arith, exclude_relation="merge")
    assert {r["model"] for r in no_merges["rows"]} == set(models) - {f"{alice.name}/tiny-merge"}
    assert board(hub, arith, min_params=10**9)["rows"] == []
    assert len(board(hub, arith, precision="f32", license="apache-2.0")["rows"]) == len(models)
    assert len(board(hub, arith, family=models[0])["rows"]) == len(models)
    assert board(hub, arith, metric="acc_norm")["metric"] == "acc_norm"
    assert call(hub, "GET", f"/api/evals/leaderboards/{arith}", params={"metric": "bleu"}).status_code == 400
    assert call(hub, "GET", f"/api/evals/leaderboards/{arith}", params={"bogus": "1"}).status_code == 400

    ppl = board(hub, prose)
    assert ppl["metric"] == "bits_per_byte" and ppl["higherIsBetter"] is False
    ppl_values = [r["value"] for r in ppl["rows"]]
    assert ppl_values == sorted(ppl_values) and all(v > 0 for v in ppl_values)

    suite = board(hub, f"{alice.name}/small-suite")
    assert suite["kind"] == "suite" and suite["tasks"] == [arith, capitals]
    assert {r["model"] for r in suite["rows"]} == set(models)
    for r in suite["rows"]:
        per_task = [r["tasks"][t]["normalized"] for t in (arith, capitals)]
        assert math.isclose(r["average"], sum(per_task) / 2, rel_tol=1e-9)

    # --- the Hub's shapes, through the stock client ---
    entries = alice.api.get_dataset_leaderboard(arith, base_model_only=False)
    assert [e.model_id for e in entries] == [r["model"] for r in b["rows"]]
    assert entries[0].rank == b["rows"][0]["rank"] and entries[0].author.username == alice.name
    roots = alice.api.get_dataset_leaderboard(arith)
    assert [e.model_id for e in roots] == [models[0]]
    info = alice.api.model_info(models[0], expand=["evalResults"])
    evals = {e.dataset_id: e for e in info.eval_results}
    assert set(evals) == {arith, capitals, prose}
    assert math.isclose(evals[arith].value, base["value"])

    # --- an independent re-run marks the result reproduced ---
    original = job(hub, ids[(models[0], arith)], alice.token)
    r = call(hub, "POST", f"/api/evals/jobs/{original['id']}/rerun", alice.token)
    assert r.status_code == 201, r.text
    rerun = r.json()
    assert rerun["run"] == 1 and rerun["status"] == "queued"
    assert call(hub, "POST", f"/api/evals/jobs/{original['id']}/rerun", alice.token).json()["id"] == rerun["id"]
    done = wait_for("the re-run", lambda: (j := job(hub, rerun["id"], alice.token))["status"] == "finished" and j)
    assert done["worker"] != original["result"]["worker"]
    after = job(hub, original["id"], alice.token)["result"]
    assert after["reproduction"] == "reproduced", after
    check = after["reproductions"][0]
    assert check["agrees"] and check["maxDifference"] <= 1e-4 and check["sameInputs"]
    assert board(hub, arith)["rows"][0]["reproduction"] in ("reproduced", "unverified")
    assert {e.model_id: e.verified for e in alice.api.get_dataset_leaderboard(arith)}[models[0]] is True


def test_published_metrics_follow_the_harness_definitions(start_hub, workers, tmp_path):
    """acc / acc_norm / acc_bytes recomputed here from the published per-choice log-likelihoods
    and the task's own choice texts, with lm-evaluation-harness's definitions."""
    hub = start_hub("--eval-lease-secs", LEASE)
    bob = hub.account("bob")
    models = publish_family(bob, tmp_path)
    _, capitals, prose = publish_tasks(bob, tmp_path)
    job_ids = [submit(hub, bob.token, models[0], t).json()["id"] for t in (capitals, prose)]
    pool = workers(hub)
    pool.start("a", pool.token("a"), "--once")
    wait_for("jobs", lambda: all_finished(hub, bob.token, job_ids))

    docs = [json.loads(line) for line in (tmp_path / "tasks" / "grove-capitals" / "test.jsonl").read_text().splitlines()]
    samples = call(hub, "GET", f"/api/evals/jobs/{job_ids[0]}/samples", bob.token).json()
    assert len(samples) == len(docs)
    acc = acc_norm = acc_bytes = 0
    for s, d in zip(samples, docs):
        lls, choices = s["lls"], d["choices"]
        gold = choices.index(d["answer"])
        assert s["gold"] == [gold] and len(lls) == len(choices) and all(ll < 0 for ll in lls)
        first_max = lambda xs: max(range(len(xs)), key=lambda i: (xs[i], -i))
        acc += first_max(lls) == gold
        acc_norm += first_max([ll / len(c) for ll, c in zip(lls, choices)]) == gold
        acc_bytes += first_max([ll / len(c.encode()) for ll, c in zip(lls, choices)]) == gold
    metrics = job(hub, job_ids[0], bob.token)["result"]["metrics"]
    n = len(docs)
    assert math.isclose(metrics["acc"]["value"], acc / n)
    assert math.isclose(metrics["acc_norm"]["value"], acc_norm / n)
    assert math.isclose(metrics["acc_bytes"]["value"], acc_bytes / n)
    p = metrics["acc"]["value"]
    assert math.isclose(metrics["acc"]["stderr"], math.sqrt(p * (1 - p) * n / (n - 1) / n), rel_tol=1e-9)

    texts = [json.loads(line)["text"] for line in (tmp_path / "tasks" / "grove-prose" / "test.jsonl").read_text().splitlines()]
    rolled = call(hub, "GET", f"/api/evals/jobs/{job_ids[1]}/samples", bob.token).json()
    total_ll = sum(s["ll"] for s in rolled)
    total_bytes = sum(len(t.encode()) for t in texts)
    assert [s["bytes"] for s in rolled] == [len(t.encode()) for t in texts]
    assert [s["words"] for s in rolled] == [len(t.split()) for t in texts]
    bpb = job(hub, job_ids[1], bob.token)["result"]["metrics"]["bits_per_byte"]["value"]
    assert math.isclose(bpb, -total_ll / total_bytes / math.log(2), rel_tol=1e-12)


def test_bad_input_is_refused_or_fails_visibly_and_leases_are_fenced(start_hub, workers, tmp_path):
    hub = start_hub("--eval-lease-secs", LEASE)
    carol, dave = hub.account("carol"), hub.account("dave")
    models = publish_family(carol, tmp_path)
    arith, capitals, _ = publish_tasks(carol, tmp_path)
    base = models[0]

    # A private model is invisible to others: submissions, jobs and boards alike.
    dave.api.create_repo("dave/secret", private=True)
    family = tmp_path / "family" / "tiny-chat"
    dave.api.upload_folder(repo_id="dave/secret", folder_path=family)
    r = submit(hub, carol.token, "dave/secret", arith)
    assert r.status_code == 404, r.text
    assert submit(hub, carol.token, base, arith, revision="no-such-branch").status_code == 404
    assert submit(hub, None, base, arith).status_code == 401
    assert submit(hub, carol.token, "not-an-id", arith).status_code == 400

    # Unsupported architecture and malformed task specs are refused with the reason.
    carol.api.create_repo("carol/gpt2ish")
    carol.api.upload_file(repo_id="carol/gpt2ish", path_in_repo="config.json",
                          path_or_fileobj=b'{"model_type": "gpt2", "n_layer": 2}')
    r = submit(hub, carol.token, "carol/gpt2ish", arith)
    assert r.status_code == 400 and "unsupported architecture" in r.json()["error"]
    carol.api.create_repo("carol/broken-task", repo_type="dataset")
    carol.api.upload_file(repo_id="carol/broken-task", repo_type="dataset", path_in_repo="task.yaml",
                          path_or_fileobj=b"task: broken\ntype: multiple_choice\ndata: d.jsonl\ndoc_to_text: q\n")
    r = submit(hub, carol.token, base, "carol/broken-task")
    assert r.status_code == 400 and "doc_to_choice" in r.json()["error"], r.text
    r = submit(hub, carol.token, base, f"{carol.name}/tiny-chat")
    assert r.status_code == 404  # a model repo is not a task dataset

    # Weights that do not match the config pass submission and fail visibly on the worker.
    carol.api.create_repo("carol/mismatch")
    carol.api.upload_folder(repo_id="carol/mismatch", folder_path=family)
    config = json.loads((family / "config.json").read_text())
    config["hidden_size"] = 32
    carol.api.upload_file(repo_id="carol/mismatch", path_in_repo="config.json",
                          path_or_fileobj=json.dumps(config).encode())
    bad = submit(hub, carol.token, "carol/mismatch", arith).json()

    # Fencing, driven by hand with a worker token: an expired lease cannot publish.
    pool = workers(hub)
    token = pool.token("manual")
    other = pool.token("other")
    assert call(hub, "POST", "/api/evals/worker/claim", None, json={"device": "cpu"}).status_code == 401
    assert call(hub, "POST", "/api/evals/worker/claim", carol.token, json={"device": "cpu"}).status_code == 401
    good = submit(hub, carol.token, base, capitals).json()
    first = call(hub, "POST", "/api/evals/worker/claim", token, json={"device": "cpu"}).json()
    assert first["id"] == bad["id"]
    second = call(hub, "POST", "/api/evals/worker/claim", token, json={"device": "cpu"}).json()
    assert second["id"] == good["id"] and second["inputs"]["hashes"]["task"] == good["taskHash"]
    # Another worker cannot touch a job it does not hold.
    hb = {"fence": second["fence"], "done": 0, "total": 1}
    assert call(hub, "POST", f"/api/evals/worker/jobs/{good['id']}/heartbeat", other, json=hb).status_code == 409
    f = call(hub, "GET", f"/api/evals/worker/jobs/{good['id']}/files/task/task.yaml", other,
             params={"fence": second["fence"]})
    assert f.status_code == 409
    f = call(hub, "GET", f"/api/evals/worker/jobs/{good['id']}/files/task/task.yaml", token,
             params={"fence": second["fence"]})
    assert f.status_code == 200 and f.content.startswith(b"task: grove-capitals")
    assert call(hub, "GET", f"/api/evals/worker/jobs/{good['id']}/files/task/..%2Fsecret", token,
                params={"fence": second["fence"]}).status_code == 404
    # Let both leases expire, then claim again: the fence moves on and the old one is refused.
    time.sleep(int(LEASE) + 1)
    again = [call(hub, "POST", "/api/evals/worker/claim", other, json={"device": "cpu"}).json() for _ in range(2)]
    regained = next(j for j in again if j["id"] == good["id"])
    assert regained["fence"] == second["fence"] + 1
    provenance = {"hashes": second["inputs"]["hashes"], "runnerVersion": "x", "dtype": "f32",
                  "weightsDtype": "F32", "device": "cpu", "durationMs": 1, "requests": 1, "tokens": 1,
                  "maxLength": 8, "bootstrapIters": 1, "bootstrapSeed": 0}
    metric = {"value": 0.5, "stderr": None, "ciLow": 0.4, "ciHigh": 0.6, "normalized": None, "higherIsBetter": True}
    metrics = {m: metric for m in ("acc", "acc_norm", "acc_bytes")}
    stale = {"fence": second["fence"], "primaryMetric": "acc_norm", "metrics": metrics,
             "samples": [{"doc": 0}], "provenance": provenance}
    r = call(hub, "POST", f"/api/evals/worker/jobs/{good['id']}/heartbeat", token, json=hb)
    assert r.status_code == 409 and "stale" in r.json()["error"]
    r = call(hub, "POST", f"/api/evals/worker/jobs/{good['id']}/fail", token,
             json={"fence": second["fence"], "reason": "x", "retryable": False})
    assert r.status_code == 409
    r = call(hub, "POST", f"/api/evals/worker/jobs/{good['id']}/result", token, json=stale)
    assert r.status_code == 409 and "stale" in r.json()["error"], r.text
    # Results for other inputs than the job pinned are refused even from the holder.
    forged = dict(stale, fence=regained["fence"], provenance=dict(provenance, hashes=dict(provenance["hashes"], weights="0" * 64)))
    r = call(hub, "POST", f"/api/evals/worker/jobs/{good['id']}/result", other, json=forged)
    assert r.status_code == 400 and "inputs" in r.json()["error"], r.text
    # ... and so are results that do not report what the task asks for.
    partial = dict(stale, fence=regained["fence"], primaryMetric="acc", metrics={"acc": metric})
    r = call(hub, "POST", f"/api/evals/worker/jobs/{good['id']}/result", other, json=partial)
    assert r.status_code == 400 and "acc_norm" in r.json()["error"], r.text
    # The holder reports a transient failure: back in the queue with a backoff, not lost.
    r = call(hub, "POST", f"/api/evals/worker/jobs/{good['id']}/fail", other,
             json={"fence": regained["fence"], "reason": "disk full", "retryable": True})
    assert r.status_code == 200 and r.json()["status"] == "queued"
    view = job(hub, good["id"], carol.token)
    assert view["status"] == "queued" and "disk full" in view["error"] and view["retryAfter"]
    # Leave the mismatched job to a real worker: it ends failed, with the reason, at once.
    r = call(hub, "POST", f"/api/evals/worker/jobs/{bad['id']}/fail", other,
             json={"fence": [j for j in again if j["id"] == bad["id"]][0]["fence"], "reason": "retry", "retryable": True})
    assert r.status_code == 200
    pool.start("real", token)
    failed = wait_for("the mismatched model to fail",
                      lambda: (j := job(hub, bad["id"], carol.token))["status"] == "failed" and j, timeout=120)
    assert "do not match config.json" in failed["error"], failed
    # Submitting the same pair again queues the failed job afresh.
    r = submit(hub, carol.token, "carol/mismatch", arith)
    assert r.status_code == 200 and r.json()["id"] == bad["id"]
    assert r.json()["status"] in ("queued", "running") and r.json()["error"] is None
    finished = wait_for("the good job", lambda: (j := job(hub, good["id"], carol.token))["status"] == "finished" and j,
                        timeout=120)
    assert finished["attempts"] == 3

    # Cancelling: by the submitter, once; a cancelled job is never claimed again.
    extra = submit(hub, carol.token, f"{carol.name}/tiny-code", capitals).json()
    assert extra["inputHashes"]["task"] == extra["taskHash"]
    assert call(hub, "POST", f"/api/evals/jobs/{extra['id']}/cancel", dave.token).status_code == 403
    r = call(hub, "POST", f"/api/evals/jobs/{extra['id']}/cancel", carol.token)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert call(hub, "POST", f"/api/evals/jobs/{extra['id']}/cancel", carol.token).status_code == 409
    assert call(hub, "POST", f"/api/evals/jobs/{extra['id']}/rerun", carol.token).status_code == 409

    # Dave's private model, evaluated by Dave, stays off Carol's views.
    secret = submit(hub, dave.token, "dave/secret", arith).json()
    wait_for("dave's job", lambda: job(hub, secret["id"], dave.token)["status"] == "finished")
    assert call(hub, "GET", f"/api/evals/jobs/{secret['id']}", carol.token).status_code == 404
    assert call(hub, "GET", f"/api/evals/jobs/{secret['id']}/samples").status_code == 404
    assert job(hub, extra["id"], carol.token)["status"] == "cancelled"
    assert "dave/secret" not in {r["model"] for r in board(hub, arith, carol.token)["rows"]}
    assert "dave/secret" in {r["model"] for r in board(hub, arith, dave.token)["rows"]}
    assert secret["id"] not in {j["id"] for j in call(hub, "GET", "/api/evals/jobs", carol.token).json()}
    with pytest.raises(HfHubHTTPError):
        carol.api.model_info("dave/secret", expand=["evalResults"])
