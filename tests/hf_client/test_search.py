"""list_models through the stock client, answered by the search index: free text ranked by
relevance, filters (tags, language, license, lineage), pipeline_tag, num_parameters, author,
sorts, pagination, and private models invisible to others."""

from __future__ import annotations

import time

import requests
from huggingface_hub import CommitOperationAdd

import weights as w
from test_lineage import card, wait_scanned


def publish(account, repo_id, files, private=False):
    account.api.create_repo(repo_id, private=private, exist_ok=True)
    ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=d) for p, d in files.items()]
    account.api.create_commit(repo_id, operations=ops, commit_message="publish")


def ids(models) -> list[str]:
    return [m.id for m in models]


def test_list_models_is_answered_by_the_search_index(hub):
    alice, bob = hub.account("alice"), hub.account("bob")
    base = w.random_model(1)
    publish(alice, "alice/LexGerman-1B", {"README.md": card(license="mit", language=["de"], pipeline_tag="text-generation", tags=["legal"]) + b"A legal-domain model for German contract law.\n", "model.safetensors": w.safetensors_bytes(base)})
    wait_scanned(hub, "alice/LexGerman-1B", alice.token)
    publish(alice, "alice/rad-summarizer", {"README.md": card(license="apache-2.0", language=["en"], pipeline_tag="summarization") + b"Radiology report summarization.\n"})
    publish(bob, "bob/contract-review-fr", {"README.md": card(license="mit", language=["fr"], base_model="alice/LexGerman-1B") + b"Contract review for French law firms.\n"})
    wait_scanned(hub, "bob/contract-review-fr", bob.token)
    publish(alice, "alice/secret-legal-draft", {"README.md": card(license="mit", language=["de"]) + b"Unreleased German legal model.\n"}, private=True)
    anon = hub.api(None)

    # Relevance: the German legal model first for a German legal query.
    assert ids(anon.list_models(search="german legal"))[0] == "alice/LexGerman-1B"
    # Name tokens: camel case and digits split, prefixes of the last word.
    assert ids(anon.list_models(search="lex german 1b")) == ["alice/LexGerman-1B"]
    assert ids(anon.list_models(search="summ")) == ["alice/rad-summarizer"]
    # Filters as on the Hub.
    assert sorted(ids(anon.list_models(filter="license:mit"))) == ["alice/LexGerman-1B", "bob/contract-review-fr"]
    assert ids(anon.list_models(filter=["license:mit", "de"])) == ["alice/LexGerman-1B"]
    assert ids(anon.list_models(filter="language:fr")) == ["bob/contract-review-fr"]
    assert ids(anon.list_models(filter="base_model:finetune:alice/LexGerman-1B")) == ["bob/contract-review-fr"]
    assert ids(anon.list_models(pipeline_tag="summarization")) == ["alice/rad-summarizer"]
    params = w.parameter_count(base)
    assert ids(anon.list_models(num_parameters=f"min:{params // 2},max:{params * 2}")) == ["alice/LexGerman-1B"]
    assert ids(anon.list_models(num_parameters=f"min:{params * 2}")) == []
    assert sorted(ids(anon.list_models(author="alice"))) == ["alice/LexGerman-1B", "alice/rad-summarizer"]
    assert ids(anon.list_models(gated=True)) == []
    # The owner finds the private draft; nobody else does.
    assert "alice/secret-legal-draft" not in ids(anon.list_models(search="legal"))
    assert "alice/secret-legal-draft" not in ids(bob.api.list_models(search="legal"))
    assert "alice/secret-legal-draft" in ids(alice.api.list_models(search="legal"))
    # Sorts and pagination: likes/created orders are total, pages do not overlap.
    created = ids(anon.list_models(sort="createdAt"))
    assert created[0] == "bob/contract-review-fr" and len(created) == 3
    pages = []
    url = f"{hub.url}/api/models?sort=createdAt&limit=1"
    while url:
        r = requests.get(url, timeout=30)
        pages += [m["id"] for m in r.json()]
        url = r.links.get("next", {}).get("url")
    assert pages == created
    # A commit shows up in the next listing at once.
    publish(alice, "alice/rad-summarizer", {"README.md": card(license="apache-2.0") + b"Now a kazoo transcription model.\n"})
    t = time.time()
    assert ids(anon.list_models(search="kazoo")) == ["alice/rad-summarizer"]
    assert time.time() - t < 1.0
