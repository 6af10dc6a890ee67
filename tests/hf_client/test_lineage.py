"""Lineage through the stock client: small real models (safetensors and GGUF) published with
`upload_file`, then the lineage API, `model_info(expand=...)`, `list_models(filter=...)` and
`duplicate_repo` checked against what was built, including a card that lies."""

from __future__ import annotations

import json
import struct
import time

import pytest
import requests
import yaml
from huggingface_hub import CommitOperationAdd
from huggingface_hub.errors import RepositoryNotFoundError

import weights as w
from support import file_line, header_line, raw_commit

TIMEOUT = 60


def get(hub, path: str, token: str | None = None, **params) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{hub.url}{path}", headers=headers, params=params, timeout=TIMEOUT)


def lineage(hub, repo_id: str, token: str | None = None) -> dict:
    r = get(hub, f"/api/models/{repo_id}/lineage", token)
    assert r.status_code == 200, r.text
    return r.json()


def wait_scanned(hub, repo_id: str, token: str | None) -> dict:
    """Polls until the scan of the repo's current head is done; returns the lineage answer."""
    deadline = time.time() + TIMEOUT
    while True:
        body = lineage(hub, repo_id, token)
        if body["scan"] and body["scan"]["state"] == "done" and body["scan"]["commit"] == body["sha"]:
            return body
        assert time.time() < deadline, f"scan of {repo_id} not done: {body}"
        time.sleep(0.1)


def card(**meta) -> bytes:
    return ("---\n" + yaml.safe_dump(meta) + "---\n# A test model\n").encode()


def publish(account, repo_id: str, files: dict[str, bytes], private: bool = False, hub=None) -> str:
    """Creates the repo (if needed) and commits `files` in one commit; returns the commit sha."""
    account.api.create_repo(repo_id, private=private, exist_ok=True)
    ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=data) for p, data in files.items()]
    info = account.api.create_commit(repo_id, operations=ops, commit_message="publish")
    if hub is not None:
        wait_scanned(hub, repo_id, account.token)
    return info.oid


def parent_edges(body: dict) -> dict[str, dict]:
    return {e["parent"]: e for e in body["parents"] if e["parent"]}


@pytest.fixture
def family(hub):
    """alice's base model and its family: two fine-tunes, a lying fine-tune, a LoRA adapter, a
    merge of the fine-tunes (mergekit recipe) and a Q8_0 GGUF quantization."""
    alice = hub.account("alice")
    base = w.random_model(1)
    ft1, changed1 = w.finetune(base, 2)
    ft2, _ = w.finetune(base, 3)
    merged = w.linear_merge(ft1, ft2)
    shas = {}
    shas["base"] = publish(alice, "alice/base", {"model.safetensors": w.safetensors_bytes(base), "README.md": card(license="mit")}, hub=hub)
    shas["ft1"] = publish(alice, "alice/ft1", {"model.safetensors": w.safetensors_bytes(ft1), "README.md": card(base_model="alice/base")}, hub=hub)
    shas["ft2"] = publish(alice, "alice/ft2", {"model.safetensors": w.safetensors_bytes(ft2), "README.md": card(base_model="alice/base", base_model_relation="finetune")}, hub=hub)
    shas["liar"] = publish(alice, "alice/liar", {"model.safetensors": w.safetensors_bytes(w.random_model(99)), "README.md": card(base_model="alice/base")}, hub=hub)
    adapter_config = {"base_model_name_or_path": "alice/base", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"], "peft_type": "LORA"}
    shas["adapter"] = publish(alice, "alice/adapter", {"adapter_model.safetensors": w.lora_adapter(base, 4, 5), "adapter_config.json": json.dumps(adapter_config).encode()}, hub=hub)
    mergekit = {"merge_method": "linear", "dtype": "float32", "models": [{"model": "alice/ft1", "parameters": {"weight": 0.5}}, {"model": "alice/ft2", "parameters": {"weight": 0.5}}]}
    shas["merge"] = publish(alice, "alice/merge", {"model.safetensors": w.safetensors_bytes(merged), "mergekit_config.yml": yaml.safe_dump(mergekit).encode(), "README.md": card(base_model=["alice/ft1", "alice/ft2"], tags=["merge", "mergekit"])}, hub=hub)
    meta = {"general.architecture": "llama", "general.name": "base Q8_0", "llama.context_length": 2048, "general.base_model.count": 1, "general.base_model.0.repo_url": f"{hub.url}/alice/base", "tokenizer.ggml.tokens": [f"t{i}" for i in range(300)]}
    shas["quant"] = publish(alice, "alice/quant", {"base-Q8_0.gguf": w.gguf_bytes(base, meta)}, hub=hub)
    return {"hub": hub, "alice": alice, "shas": shas, "base": base, "ft1": ft1, "changed1": changed1}


def test_declared_edges_are_pinned_and_verified_by_the_weights(family):
    hub, alice, shas = family["hub"], family["alice"], family["shas"]
    ft1 = lineage(hub, "alice/ft1")
    (edge,) = ft1["parents"]
    assert edge["parent"] == "alice/base"
    assert edge["parentCommit"] == shas["base"]
    assert edge["childCommit"] == shas["ft1"]
    assert (edge["relation"], edge["relationStated"], edge["source"]) == ("finetune", False, "card")
    assert edge["verification"] == "verified", edge
    ev = edge["evidence"]
    n = len(w.llama_shapes())
    assert ev["parent_tensors"] == ev["child_tensors"] == n
    assert ev["identical"] == n - len(family["changed1"])
    assert ev["close"] == len(family["changed1"]) and ev["far"] == 0

    ft2 = lineage(hub, "alice/ft2")
    assert ft2["parents"][0]["relationStated"] is True

    liar = lineage(hub, "alice/liar")
    (edge,) = liar["parents"]
    assert edge["verification"] == "contradicted", edge
    assert edge["evidence"]["far"] == n - 2 * w.LAYERS - 1  # every matrix; the ones-norms match
    assert edge["evidence"]["related_fraction"] < 0.1

    adapter = lineage(hub, "alice/adapter")
    (edge,) = adapter["parents"]
    assert (edge["relation"], edge["source"], edge["verification"]) == ("adapter", "adapter_config", "verified")
    assert edge["evidence"]["adapter_pairs"] == 2 * w.LAYERS == edge["evidence"]["adapter_pairs_fitting"]

    merge = lineage(hub, "alice/merge")
    edges = parent_edges(merge)
    assert set(edges) == {"alice/ft1", "alice/ft2"}
    for e in edges.values():
        assert e["relation"] == "merge" and e["verification"] == "verified", e
        assert e["mergeWeight"] == 0.5
        assert e["recipe"]["merge_method"] == "linear"

    quant = lineage(hub, "alice/quant")
    (edge,) = quant["parents"]
    assert (edge["relation"], edge["source"], edge["verification"]) == ("quantized", "gguf_metadata", "verified"), edge
    assert edge["evidence"]["shape_matches"] == n


def test_hub_fields_tags_and_counts(family):
    hub, alice, base = family["hub"], family["alice"], family["base"]
    api = hub.api(None)
    info = api.model_info("alice/base", expand=["baseModels", "childrenModelCount"])
    assert info.children_model_count == 5  # ft1, ft2, liar, adapter, quant
    info = api.model_info("alice/merge", expand=["baseModels", "childrenModelCount"])
    assert info.base_models["relation"] == "merge"
    assert {m["id"] for m in info.base_models["models"]} == {"alice/ft1", "alice/ft2"}
    assert info.children_model_count == 0

    full = api.model_info("alice/base")
    assert full.safetensors.total == w.parameter_count(base)
    assert full.safetensors.parameters == {"F32": w.parameter_count(base)}
    quant = api.model_info("alice/quant")
    assert quant.gguf["total"] == w.parameter_count(base)
    assert quant.gguf["architecture"] == "llama" and quant.gguf["context_length"] == 2048

    ids = lambda f: sorted(m.id for m in api.list_models(filter=f))  # noqa: E731
    assert ids("base_model:quantized:alice/base") == ["alice/quant"]
    assert ids("base_model:finetune:alice/base") == ["alice/ft1", "alice/ft2", "alice/liar"]
    assert ids("base_model:adapter:alice/base") == ["alice/adapter"]
    assert ids("base_model:merge:alice/ft1") == ["alice/merge"]

    body = get(hub, "/api/models/alice/base/lineage/descendants").json()
    c = body["counts"]
    assert c["children"] == {"finetune": 3, "adapter": 1, "quantized": 1}
    assert c["descendants"] == {"finetune": 3, "adapter": 1, "quantized": 1, "merge": 1}
    assert (c["childrenTotal"], c["descendantsTotal"]) == (5, 6)
    assert [i["id"] for i in body["items"]][-1] == "alice/merge" and body["items"][-1]["depth"] == 2

    only = get(hub, "/api/models/alice/base/lineage/descendants", relation="merge").json()
    assert [(i["id"], i["depth"]) for i in only["items"]] == [("alice/merge", 2)]

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = get(hub, "/api/models/alice/base/lineage/descendants", **params).json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(["alice/ft1", "alice/ft2", "alice/liar", "alice/adapter", "alice/quant", "alice/merge"])

    anc = get(hub, "/api/models/alice/merge/lineage/ancestors").json()
    assert sorted((n["id"], n["depth"]) for n in anc["nodes"]) == [("alice/base", 2), ("alice/ft1", 1), ("alice/ft2", 1)]
    assert [n["depth"] for n in anc["nodes"]] == [1, 1, 2]  # nearest first
    assert len(anc["edges"]) == 4  # merge->ft1, merge->ft2, ft1->base, ft2->base

    mb = get(hub, "/api/lineage/merge-base", a="alice/ft1", b="alice/ft2").json()
    assert [(b["id"], b["depthFromA"], b["depthFromB"]) for b in mb["bases"]] == [("alice/base", 1, 1)]
    mb = get(hub, "/api/lineage/merge-base", a="alice/merge", b="alice/quant").json()
    assert [b["id"] for b in mb["bases"]] == ["alice/base"]
    mb = get(hub, "/api/lineage/merge-base", a="alice/merge", b="alice/ft1").json()
    assert [b["id"] for b in mb["bases"]] == ["alice/ft1"]

    fam = get(hub, "/api/models/alice/ft1/lineage/family", depth=1).json()
    assert sorted(n["id"] for n in fam["nodes"]) == ["alice/base", "alice/ft1", "alice/merge"]
    assert r_status(get(hub, "/api/models/alice/base/lineage/descendants", relation="cousin")) == 400
    assert r_status(get(hub, "/api/models/alice/base/lineage/descendants", cursor="x")) == 400
    assert r_status(get(hub, "/api/models/alice/base/lineage/descendants", limit=100000)) == 400


def r_status(r: requests.Response) -> int:
    return r.status_code


def test_tensor_diff_and_manifest(family):
    hub = family["hub"]
    d = get(hub, "/api/models/alice/ft1/lineage/diff").json()
    assert d["from"]["id"] == "alice/base" and d["from"]["sha"] == family["shas"]["base"]
    s = d["summary"]
    n = len(w.llama_shapes())
    assert (s["added"], s["removed"], s["changed"], s["unchanged"]) == (0, 0, len(family["changed1"]), n - len(family["changed1"]))
    assert sorted(c["name"] for c in d["changed"]) == family["changed1"]
    assert all(0 < c["relative_delta"] < 0.5 for c in d["changed"])
    # Against another base explicitly: the adapter shares no tensor name with the base.
    d = get(hub, "/api/models/alice/adapter/lineage/diff", base="alice/base").json()
    assert d["summary"]["added"] == 4 * w.LAYERS and d["summary"]["removed"] == n

    m = get(hub, "/api/models/alice/quant/tensors").json()
    (f,) = m["files"]
    assert f["format"] == "gguf" and f["error"] is None
    q = next(t for t in f["tensors"] if t["name"] == "blk.0.attn_q.weight")
    assert q["dtype"] == "Q8_0" and q["shape"] == [w.HIDDEN, w.HIDDEN]
    assert f["metadata"]["general.name"] == "base Q8_0"


def test_undeclared_parent_is_suggested_from_shared_tensors(family):
    hub, alice = family["hub"], family["alice"]
    sneaky, _ = w.finetune(family["base"], 7, fraction=0.3)
    publish(alice, "alice/sneaky", {"model.safetensors": w.safetensors_bytes(sneaky)}, hub=hub)
    body = lineage(hub, "alice/sneaky")
    assert body["parents"] == []
    top = body["suggestedParents"][0]
    assert top["id"] == "alice/base" and top["sharedTensors"] > 0, body["suggestedParents"]


def test_fork_copies_history_not_weights(family):
    hub, alice, shas = family["hub"], family["alice"], family["shas"]
    bob = hub.account("bob")
    url = bob.api.duplicate_repo("alice/ft1", "bob/ft1-fork")
    assert url.repo_id == "bob/ft1-fork" and url.files_copy_pending is False
    fork = bob.api.model_info("bob/ft1-fork", files_metadata=True)
    src = alice.api.model_info("alice/ft1", files_metadata=True)
    assert fork.sha == src.sha == shas["ft1"]
    assert [c.commit_id for c in bob.api.list_repo_commits("bob/ft1-fork")] == [c.commit_id for c in alice.api.list_repo_commits("alice/ft1")]
    lfs = lambda info: {s.rfilename: s.lfs.sha256 for s in info.siblings if s.lfs}  # noqa: E731
    assert lfs(fork) == lfs(src) and lfs(fork)
    body = wait_scanned(hub, "bob/ft1-fork", bob.token)
    (edge,) = body["parents"]
    assert (edge["parent"], edge["relation"], edge["source"], edge["verification"]) == ("alice/ft1", "fork", "fork_api", "verified")
    assert edge["parentCommit"] == shas["ft1"]
    assert body["relation"] == "fork"
    # A later commit on the fork adds its declared lineage and keeps the fork edge.
    publish(bob, "bob/ft1-fork", {"README.md": card(base_model="alice/base", base_model_relation="finetune")}, hub=hub)
    body = lineage(hub, "bob/ft1-fork")
    assert {(e["parent"], e["relation"]) for e in body["parents"]} == {("alice/ft1", "fork"), ("alice/base", "finetune")}
    assert lineage(hub, "alice/ft1")["counts"]["children"] == {"fork": 1, "merge": 1}
    # exist_ok: the 409 carries the url the client reads.
    again = bob.api.duplicate_repo("alice/ft1", "bob/ft1-fork", exist_ok=True)
    assert again.repo_id == "bob/ft1-fork"
    # A private repo the caller cannot read is refused like a missing one.
    publish(alice, "alice/secret", {"model.safetensors": w.safetensors_bytes(family["base"])}, private=True)
    with pytest.raises(RepositoryNotFoundError):
        bob.api.duplicate_repo("alice/secret", "bob/stolen")
    # The owner's fork of a private repo stays private by default.
    alice.api.duplicate_repo("alice/secret", "alice/secret-copy")
    assert alice.api.model_info("alice/secret-copy").private is True


def test_private_models_never_leak_into_lineage_answers(hub):
    alice, bob = hub.account("alice"), hub.account("bob")
    base = w.random_model(1)
    publish(alice, "alice/base", {"model.safetensors": w.safetensors_bytes(base)}, hub=hub)
    ft, _ = w.finetune(base, 2)
    publish(alice, "alice/hidden-ft", {"model.safetensors": w.safetensors_bytes(ft), "README.md": card(base_model="alice/base")}, private=True, hub=hub)
    publish(bob, "bob/public-ft", {"model.safetensors": w.safetensors_bytes(ft), "README.md": card(base_model="alice/base")}, hub=hub)

    def view(token):
        body = get(hub, "/api/models/alice/base/lineage/descendants", token).json()
        return sorted(i["id"] for i in body["items"]), body["counts"]["descendantsTotal"]

    assert view(None) == (["bob/public-ft"], 1)
    assert view(bob.token) == (["bob/public-ft"], 1)
    assert view(alice.token) == (["alice/hidden-ft", "bob/public-ft"], 2)
    assert hub.api(None).model_info("alice/base", expand=["childrenModelCount"]).children_model_count == 1
    assert hub.api(alice.token).model_info("alice/base", expand=["childrenModelCount"]).children_model_count == 2
    # Suggestions never name a private model to others.
    assert all(s["id"] != "alice/hidden-ft" for s in lineage(hub, "bob/public-ft", bob.token)["suggestedParents"])
    # Making it public counts it for everyone; private again hides it again.
    alice.api.update_repo_settings("alice/hidden-ft", private=False)
    assert view(None) == (["alice/hidden-ft", "bob/public-ft"], 2)
    alice.api.update_repo_settings("alice/hidden-ft", private=True)
    assert view(None) == (["bob/public-ft"], 1)
    # A private parent is shown to others as hidden, without its name or numbers.
    alice.api.update_repo_settings("alice/base", private=True)
    (edge,) = lineage(hub, "bob/public-ft", bob.token)["parents"]
    assert edge["available"] is False and edge["unavailableReason"] == "hidden"
    assert edge["parent"] is None and edge["evidence"] is None and edge["parentCommit"] is None
    assert get(hub, "/api/models/bob/public-ft/lineage/ancestors", bob.token).json()["nodes"] == []
    # The edge-derived tags name only public parents (the card's own text stays as written).
    assert "base_model:finetune:alice/base" not in hub.api(None).model_info("bob/public-ft").tags
    assert [m.id for m in hub.api(None).list_models(filter="base_model:finetune:alice/base")] == []


def test_deleted_parent_leaves_children_intact(hub):
    alice = hub.account("alice")
    base = w.random_model(1)
    publish(alice, "alice/base", {"model.safetensors": w.safetensors_bytes(base)}, hub=hub)
    ft, _ = w.finetune(base, 2)
    publish(alice, "alice/ft", {"model.safetensors": w.safetensors_bytes(ft), "README.md": card(base_model="alice/base")}, hub=hub)
    ft2, _ = w.finetune(ft, 3)
    publish(alice, "alice/ft-of-ft", {"model.safetensors": w.safetensors_bytes(ft2), "README.md": card(base_model="alice/ft")}, hub=hub)
    assert get(hub, "/api/models/alice/base/lineage/descendants").json()["counts"]["descendantsTotal"] == 2
    alice.api.delete_repo("alice/ft")
    (edge,) = lineage(hub, "alice/ft-of-ft")["parents"]
    assert (edge["parent"], edge["available"], edge["unavailableReason"]) == ("alice/ft", False, "deleted")
    assert get(hub, "/api/models/alice/ft-of-ft/lineage/ancestors").json()["nodes"] == []
    assert get(hub, "/api/models/alice/base/lineage/descendants").json()["counts"]["descendantsTotal"] == 0
    assert hub.api(None).model_info("alice/ft-of-ft").id == "alice/ft-of-ft"


def test_pins_relation_changes_and_cycles(hub):
    alice = hub.account("alice")
    base = w.random_model(1)
    first = publish(alice, "alice/base", {"model.safetensors": w.safetensors_bytes(base)}, hub=hub)
    second = publish(alice, "alice/base", {"README.md": card(license="mit")}, hub=hub)
    ft, _ = w.finetune(base, 2)
    publish(alice, "alice/ft", {"model.safetensors": w.safetensors_bytes(ft), "README.md": card(base_model=f"alice/base@{first}")}, hub=hub)
    assert lineage(hub, "alice/ft")["parents"][0]["parentCommit"] == first
    publish(alice, "alice/ft", {"README.md": card(base_model="alice/base@no-such-rev")}, hub=hub)
    body = lineage(hub, "alice/ft")
    assert body["parents"][0]["parentCommit"] == second
    assert any("no-such-rev" in x for x in body["scan"]["warnings"])
    # Changing the stated relation replaces the edge and moves the counts.
    publish(alice, "alice/ft", {"README.md": card(base_model="alice/base", base_model_relation="distill")}, hub=hub)
    assert [e["relation"] for e in lineage(hub, "alice/ft")["parents"]] == ["distill"]
    assert get(hub, "/api/models/alice/base/lineage/descendants").json()["counts"]["children"] == {"distill": 1}
    # base naming its own descendant would close a cycle: refused with a warning.
    publish(alice, "alice/base", {"README.md": card(base_model="alice/ft")}, hub=hub)
    body = lineage(hub, "alice/base")
    assert body["parents"] == []
    assert any("cycle" in x for x in body["scan"]["warnings"]), body["scan"]


def test_bad_declarations_and_hostile_headers_become_warnings(hub):
    alice = hub.account("alice")
    bomb = "---\na: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\nbase_model: alice/x\n---\n"
    # The client validates cards before committing; a raw commit gets the bomb through.
    alice.api.create_repo("alice/bomb")
    r = raw_commit(hub, alice.token, "alice/bomb", [header_line("bomb"), file_line("README.md", bomb.encode())])
    assert r.status_code == 200, r.text
    wait_scanned(hub, "alice/bomb", alice.token)
    assert any("README.md" in x for x in lineage(hub, "alice/bomb")["scan"]["warnings"])

    publish(alice, "alice/odd", {"README.md": card(base_model=["not a repo", "alice/missing", "alice/odd", 7], base_model_relation="cousin")}, hub=hub)
    body = lineage(hub, "alice/odd")
    warnings = "\n".join(body["scan"]["warnings"])
    assert body["parents"] == []
    for needle in ["not a repo", "alice/missing", "itself", "cousin", "non-string"]:
        assert needle in warnings, warnings

    past_end = struct.pack("<Q", 10**9) + b"{}"
    overlap = w.safetensors_bytes({"a": ([2], [1.0, 2.0]), "b": ([2], [3.0, 4.0])})
    overlap = overlap.replace(b'"data_offsets": [8, 16]', b'"data_offsets": [4, 12]')
    huge_string = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**60)
    publish(alice, "alice/hostile", {"a.safetensors": past_end, "b.safetensors": overlap, "c.gguf": huge_string}, hub=hub)
    body = lineage(hub, "alice/hostile")
    warnings = body["scan"]["warnings"]
    assert len([x for x in warnings if x.startswith(("a.safetensors", "b.safetensors", "c.gguf"))]) == 3, warnings
    files = {f["path"]: f for f in get(hub, "/api/models/alice/hostile/tensors").json()["files"]}
    assert all(files[p]["error"] for p in ["a.safetensors", "b.safetensors", "c.gguf"])
    assert hub.api(None).model_info("alice/hostile").id == "alice/hostile"


def test_reparenting_moves_the_whole_subtree(hub):
    alice = hub.account("alice")
    base_a, base_b = w.random_model(1), w.random_model(2)
    publish(alice, "alice/a", {"model.safetensors": w.safetensors_bytes(base_a)}, hub=hub)
    publish(alice, "alice/b", {"model.safetensors": w.safetensors_bytes(base_b)}, hub=hub)
    mid, _ = w.finetune(base_a, 3)
    publish(alice, "alice/mid", {"model.safetensors": w.safetensors_bytes(mid), "README.md": card(base_model="alice/a")}, hub=hub)
    leaf, _ = w.finetune(mid, 4)
    publish(alice, "alice/leaf", {"model.safetensors": w.safetensors_bytes(leaf), "README.md": card(base_model="alice/mid")}, hub=hub)
    ancestors = lambda repo: sorted((n["id"], n["depth"]) for n in get(hub, f"/api/models/{repo}/lineage/ancestors").json()["nodes"])  # noqa: E731
    totals = lambda repo: get(hub, f"/api/models/{repo}/lineage/descendants").json()["counts"]["descendantsTotal"]  # noqa: E731
    assert ancestors("alice/leaf") == [("alice/a", 2), ("alice/mid", 1)]
    assert (totals("alice/a"), totals("alice/b")) == (2, 0)
    # mid now claims b (a lie about the weights, but the graph follows the declaration).
    publish(alice, "alice/mid", {"README.md": card(base_model="alice/b")}, hub=hub)
    assert ancestors("alice/leaf") == [("alice/b", 2), ("alice/mid", 1)]
    assert (totals("alice/a"), totals("alice/b")) == (0, 2)
    (edge,) = lineage(hub, "alice/mid")["parents"]
    assert edge["verification"] == "contradicted"
    # Both parents at once: a merge, and the leaf descends from both bases.
    publish(alice, "alice/mid", {"README.md": card(base_model=["alice/a", "alice/b"])}, hub=hub)
    assert ancestors("alice/leaf") == [("alice/a", 2), ("alice/b", 2), ("alice/mid", 1)]
    assert (totals("alice/a"), totals("alice/b")) == (2, 2)
    assert get(hub, "/api/models/alice/a/lineage/descendants").json()["counts"]["children"] == {"merge": 1}
