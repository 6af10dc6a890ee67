"""model_info / dataset_info (sha, siblings, cardData, tags, dates, downloads), validate-yaml,
list_repo_tree / list_repo_files / get_paths_info, and list_models."""

import re
import time

import pytest
import requests
from huggingface_hub import CommitOperationAdd, RepoFile, RepoFolder
from huggingface_hub.errors import EntryNotFoundError, RevisionNotFoundError

from support import auth, download, file_line, git_blob_sha1, header_line, is_hex40, random_bytes, raw_commit, settled, sha256

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

README = b"""---
license: mit
language:
- en
tags:
- grove-test
- tiny
datasets:
- alice/corpus
pipeline_tag: text-generation
library_name: transformers
---
# Tiny

A tiny model for tests.
"""


@pytest.fixture
def alice(hub):
    account = hub.account("alice")
    account.api.create_repo("alice/tiny")
    return account


# --- model_info ----------------------------------------------------------------------------------


def test_model_info_sha_and_siblings(hub, alice):
    api = alice.api
    info = api.create_commit(
        "alice/tiny",
        operations=[CommitOperationAdd("config.json", b"{}"), CommitOperationAdd("sub/w.bin", b"\0\1\2")],
        commit_message="files",
    )
    model = api.model_info("alice/tiny")
    assert model.id == "alice/tiny"
    assert model.author == "alice"
    assert model.sha == info.oid
    assert {s.rfilename for s in model.siblings} == {".gitattributes", "config.json", "sub/w.bin"}
    older = api.list_repo_commits("alice/tiny")[1].commit_id
    assert api.model_info("alice/tiny", revision=older).sha == older
    assert {s.rfilename for s in api.model_info("alice/tiny", revision=older).siblings} == {".gitattributes"}
    with pytest.raises(RevisionNotFoundError):
        api.model_info("alice/tiny", revision="nowhere")


def test_model_info_with_files_metadata(hub, alice):
    data = b'{"a": 1}\n'
    alice.api.upload_file(path_or_fileobj=data, path_in_repo="config.json", repo_id="alice/tiny")
    siblings = {s.rfilename: s for s in alice.api.model_info("alice/tiny", files_metadata=True).siblings}
    assert siblings["config.json"].size == len(data)
    assert siblings["config.json"].blob_id == git_blob_sha1(data)
    assert siblings["config.json"].lfs is None


def test_model_info_dates_are_utc_with_z(hub, alice):
    raw = requests.get(f"{hub.url}/api/models/alice/tiny", timeout=30).json()
    assert DATE.match(raw["createdAt"]), raw["createdAt"]
    assert DATE.match(raw["lastModified"]), raw["lastModified"]
    before = alice.api.model_info("alice/tiny")
    assert before.created_at.utcoffset().total_seconds() == 0
    assert before.last_modified >= before.created_at
    time.sleep(1.1)  # commit times may have a resolution of one second
    alice.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/tiny")
    after = alice.api.model_info("alice/tiny")
    assert after.created_at == before.created_at
    assert after.last_modified > before.last_modified


def test_card_data_and_tags_come_from_readme_front_matter(hub, alice):
    alice.api.upload_file(path_or_fileobj=README, path_in_repo="README.md", repo_id="alice/tiny")
    info = alice.api.model_info("alice/tiny")
    assert info.card_data is not None
    assert info.card_data.license == "mit"
    assert info.card_data.tags == ["grove-test", "tiny"]
    assert info.card_data.datasets == ["alice/corpus"]
    assert {"license:mit", "grove-test", "tiny"} <= set(info.tags)
    # Changing the card changes what is derived from it.
    alice.api.upload_file(
        path_or_fileobj=b"---\nlicense: apache-2.0\n---\n# Tiny\n", path_in_repo="README.md", repo_id="alice/tiny"
    )
    info = alice.api.model_info("alice/tiny")
    assert info.card_data.license == "apache-2.0"
    assert "license:apache-2.0" in info.tags
    assert "license:mit" not in info.tags
    assert "grove-test" not in info.tags


def test_card_derived_fields_dataset_tag_pipeline_and_library(hub, alice):
    alice.api.upload_file(path_or_fileobj=README, path_in_repo="README.md", repo_id="alice/tiny")
    info = alice.api.model_info("alice/tiny")
    assert "dataset:alice/corpus" in info.tags
    assert info.pipeline_tag == "text-generation"
    assert info.library_name == "transformers"


def test_card_data_is_per_revision(hub, alice):
    c1 = alice.api.upload_file(path_or_fileobj=README, path_in_repo="README.md", repo_id="alice/tiny").oid
    alice.api.upload_file(path_or_fileobj=b"---\nlicense: other\n---\n", path_in_repo="README.md", repo_id="alice/tiny")
    assert alice.api.model_info("alice/tiny").card_data.license == "other"
    assert alice.api.model_info("alice/tiny", revision=c1).card_data.license == "mit"


def test_readme_without_front_matter_has_no_card_fields(hub, alice):
    alice.api.upload_file(path_or_fileobj=b"# Just a title\n", path_in_repo="README.md", repo_id="alice/tiny")
    info = alice.api.model_info("alice/tiny")
    assert not info.card_data
    assert not any(t.startswith("license:") for t in (info.tags or []))


def _alias_bomb() -> bytes:
    """YAML whose aliases expand to 10**10 strings ("billion laughs")."""
    lines = ["a: &a [" + ",".join(["lol"] * 10) + "]"]
    for prev, name in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    return ("---\n" + "\n".join(lines) + "\n---\n# alias bomb\n").encode()


@pytest.mark.parametrize(
    "readme",
    [
        b"---\nlicense: [unclosed\n---\n# broken yaml\n",
        _alias_bomb(),
        b"---\n" + b"[" * 10000 + b"\n---\n# deep nesting\n",
        b"---\n\xff\xfe not utf-8\n---\n",
    ],
    ids=["unclosed", "alias-bomb", "deep-nesting", "not-utf8"],
)
def test_hostile_front_matter_does_not_break_model_info(hub, alice, readme):
    # Sent raw: the client's validate-yaml step is skipped, as a hostile client would.
    r = raw_commit(hub, alice.token, "alice/tiny", [header_line("bad card"), file_line("README.md", readme)])
    if r.status_code != 200:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        return
    started = time.monotonic()
    info = requests.get(f"{hub.url}/api/models/alice/tiny", timeout=30)
    assert info.status_code == 200, info.text
    assert time.monotonic() - started < 10
    assert info.json()["sha"] == r.json()["commitOid"]
    assert alice.api.model_info("alice/tiny").sha == r.json()["commitOid"]


def test_validate_yaml_endpoint(hub, alice):
    r = requests.post(
        f"{hub.url}/api/validate-yaml",
        json={"content": README.decode(), "repoType": "model"},
        headers=auth(alice.token),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] == []
    assert isinstance(body["warnings"], list)


def _downloads_when_settled(hub, repo, expected):
    """The download count once it reaches `expected` (counters may be updated a moment later), or
    whatever it is after 5 s."""
    deadline = time.monotonic() + 5
    while True:
        value = hub.api(None).model_info(repo).downloads
        if value >= expected or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_downloads_are_counted(hub, alice, cache_dir):
    alice.api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id="alice/tiny")
    assert alice.api.model_info("alice/tiny").downloads == 0
    download(hub, "alice/tiny", "config.json", token=None, cache_dir=cache_dir)
    assert _downloads_when_settled(hub, "alice/tiny", 1) == 1
    download(hub, "alice/tiny", "config.json", token=alice.token, cache_dir=cache_dir)
    assert _downloads_when_settled(hub, "alice/tiny", 2) == 2
    # Looking is not downloading.
    for _ in range(3):
        alice.api.model_info("alice/tiny")
        alice.api.list_repo_files("alice/tiny")
    assert hub.api(None).model_info("alice/tiny").downloads == 2


def test_dataset_info(hub):
    alice = hub.account("alice")
    alice.api.create_repo("alice/corpus", repo_type="dataset")
    card = b"---\nlicense: cc-by-4.0\ntags:\n- grove-data\n---\n# Corpus\n"
    commit = alice.api.create_commit(
        "alice/corpus",
        repo_type="dataset",
        operations=[CommitOperationAdd("README.md", card), CommitOperationAdd("data/train.csv", b"a,b\n1,2\n")],
        commit_message="data",
    ).oid
    info = alice.api.dataset_info("alice/corpus")
    assert info.id == "alice/corpus"
    assert info.sha == commit
    assert info.private is False
    assert info.card_data.license == "cc-by-4.0"
    assert {"license:cc-by-4.0", "grove-data"} <= set(info.tags)
    assert {s.rfilename for s in info.siblings} >= {"README.md", "data/train.csv"}


# --- trees ---------------------------------------------------------------------------------------


@pytest.fixture
def tree_repo(alice):
    """alice/tiny with a.txt (commit ca), dir/b.txt (cb), dir/sub/c.txt and dir/sub/d.bin (cd)."""
    api = alice.api
    ca = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id="alice/tiny", commit_message="add a").oid
    cb = api.upload_file(path_or_fileobj=b"bb", path_in_repo="dir/b.txt", repo_id="alice/tiny", commit_message="add b").oid
    d = random_bytes(2048, seed=5)
    cd = api.create_commit(
        "alice/tiny",
        operations=[CommitOperationAdd("dir/sub/c.txt", b"ccc"), CommitOperationAdd("dir/sub/d.bin", d)],
        commit_message="add c and d",
    ).oid
    return {"ca": ca, "cb": cb, "cd": cd, "d": d}


def _kinds(entries):
    return {e.path: ("file" if isinstance(e, RepoFile) else "dir") for e in entries}


def test_list_repo_tree_levels(hub, alice, tree_repo):
    api = alice.api
    assert _kinds(api.list_repo_tree("alice/tiny")) == {".gitattributes": "file", "a.txt": "file", "dir": "dir"}
    assert _kinds(api.list_repo_tree("alice/tiny", "dir")) == {"dir/b.txt": "file", "dir/sub": "dir"}
    assert _kinds(api.list_repo_tree("alice/tiny", "dir/sub")) == {"dir/sub/c.txt": "file", "dir/sub/d.bin": "file"}
    assert _kinds(api.list_repo_tree("alice/tiny", recursive=True)) == {
        ".gitattributes": "file",
        "a.txt": "file",
        "dir": "dir",
        "dir/b.txt": "file",
        "dir/sub": "dir",
        "dir/sub/c.txt": "file",
        "dir/sub/d.bin": "file",
    }
    entries = {e.path: e for e in api.list_repo_tree("alice/tiny", recursive=True)}
    assert entries["dir/b.txt"].size == 2
    assert entries["dir/b.txt"].blob_id == git_blob_sha1(b"bb")
    assert entries["dir/sub/d.bin"].lfs.sha256 == sha256(tree_repo["d"])
    assert is_hex40(entries["dir"].tree_id)
    assert entries["dir"].tree_id != entries["dir/sub"].tree_id
    assert all(e.last_commit is None for e in entries.values())


def test_list_repo_tree_at_an_older_revision(hub, alice, tree_repo):
    assert _kinds(alice.api.list_repo_tree("alice/tiny", revision=tree_repo["ca"])) == {
        ".gitattributes": "file",
        "a.txt": "file",
    }


def test_list_repo_tree_expand_gives_last_commits(hub, alice, tree_repo):
    entries = {e.path: e for e in alice.api.list_repo_tree("alice/tiny", recursive=True, expand=True)}
    assert entries["a.txt"].last_commit.oid == tree_repo["ca"]
    assert entries["a.txt"].last_commit.title == "add a"
    assert entries["dir/b.txt"].last_commit.oid == tree_repo["cb"]
    assert entries["dir/sub/c.txt"].last_commit.oid == tree_repo["cd"]
    assert entries["dir"].last_commit.oid == tree_repo["cd"]
    assert entries["a.txt"].last_commit.date.utcoffset().total_seconds() == 0


def test_list_repo_tree_errors(hub, alice, tree_repo):
    with pytest.raises(EntryNotFoundError):
        list(alice.api.list_repo_tree("alice/tiny", "no/such/dir"))
    with pytest.raises(RevisionNotFoundError):
        list(alice.api.list_repo_tree("alice/tiny", revision="nowhere"))


def test_list_repo_files(hub, alice, tree_repo):
    assert sorted(alice.api.list_repo_files("alice/tiny")) == [
        ".gitattributes",
        "a.txt",
        "dir/b.txt",
        "dir/sub/c.txt",
        "dir/sub/d.bin",
    ]
    assert sorted(alice.api.list_repo_files("alice/tiny", revision=tree_repo["cb"])) == [
        ".gitattributes",
        "a.txt",
        "dir/b.txt",
    ]


def test_get_paths_info(hub, alice, tree_repo):
    entries = alice.api.get_paths_info("alice/tiny", ["a.txt", "dir", "missing.txt", "dir/sub/d.bin"])
    by_path = {e.path: e for e in entries}
    assert set(by_path) == {"a.txt", "dir", "dir/sub/d.bin"}
    assert isinstance(by_path["a.txt"], RepoFile)
    assert by_path["a.txt"].size == 1
    assert isinstance(by_path["dir"], RepoFolder)
    assert by_path["dir/sub/d.bin"].lfs.sha256 == sha256(tree_repo["d"])
    expanded = {e.path: e for e in alice.api.get_paths_info("alice/tiny", ["a.txt"], expand=True)}
    assert expanded["a.txt"].last_commit.oid == tree_repo["ca"]
    old = alice.api.get_paths_info("alice/tiny", ["a.txt", "dir/sub/c.txt"], revision=tree_repo["cb"])
    assert [e.path for e in old] == ["a.txt"]


# --- list_models ---------------------------------------------------------------------------------

ALL = ["alice/alpha-model", "alice/beta-model", "bob/gamma-thing"]


def _ids(models):
    return [m.id for m in models]


@pytest.fixture
def catalogue(hub, cache_dir):
    """alice/alpha-model (mit, grove-test), alice/beta-model (apache-2.0), bob/gamma-thing
    (apache-2.0), created in that order; beta downloaded twice, gamma once; plus a dataset and a
    private model. Waits (5 s at most) until the listing shows the downloads, as the search index
    and counters may trail the writes a moment."""
    alice = hub.account("alice")
    bob = hub.account("bob")
    for api, repo, card in (
        (alice.api, "alice/alpha-model", b"---\nlicense: mit\ntags:\n- grove-test\n---\n"),
        (alice.api, "alice/beta-model", b"---\nlicense: apache-2.0\n---\n"),
        (bob.api, "bob/gamma-thing", b"---\nlicense: apache-2.0\n---\n"),
    ):
        time.sleep(0.01)
        api.create_repo(repo)
        api.upload_file(path_or_fileobj=card, path_in_repo="README.md", repo_id=repo)
        api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id=repo)
    alice.api.create_repo("alice/alpha-model-data", repo_type="dataset")
    alice.api.create_repo("alice/hidden-model", private=True)
    for repo in ("alice/beta-model", "alice/beta-model", "bob/gamma-thing"):
        download(hub, repo, "config.json", token=None, cache_dir=cache_dir)
    want = {"alice/beta-model": 2, "bob/gamma-thing": 1, "alice/alpha-model": 0}
    settled(lambda: {m.id: m.downloads for m in hub.api(None).list_models()}, want)
    return alice, bob


def test_list_models_lists_public_models_only(hub, catalogue):
    anon = hub.api(None)
    assert sorted(_ids(anon.list_models())) == ALL
    assert {m.id: m.downloads for m in anon.list_models()} == {
        "alice/beta-model": 2,
        "bob/gamma-thing": 1,
        "alice/alpha-model": 0,
    }


def test_list_models_author_and_search(hub, catalogue):
    anon = hub.api(None)
    assert sorted(_ids(anon.list_models(author="alice"))) == ["alice/alpha-model", "alice/beta-model"]
    assert _ids(anon.list_models(author="bob")) == ["bob/gamma-thing"]
    assert _ids(anon.list_models(author="nobody")) == []
    assert sorted(_ids(anon.list_models(search="model"))) == ["alice/alpha-model", "alice/beta-model"]
    assert _ids(anon.list_models(search="gamma")) == ["bob/gamma-thing"]
    assert _ids(anon.list_models(search="no-such-words-anywhere")) == []


def test_list_models_filter_by_tags(hub, catalogue):
    anon = hub.api(None)
    assert _ids(anon.list_models(filter="license:mit")) == ["alice/alpha-model"]
    assert _ids(anon.list_models(filter="grove-test")) == ["alice/alpha-model"]
    assert sorted(_ids(anon.list_models(filter="license:apache-2.0"))) == ["alice/beta-model", "bob/gamma-thing"]
    assert _ids(anon.list_models(filter="license:apache-2.0", author="bob")) == ["bob/gamma-thing"]
    assert _ids(anon.list_models(filter="license:gpl-3.0")) == []


def test_list_models_sort_and_limit(hub, catalogue):
    alice, _ = catalogue
    anon = hub.api(None)
    assert _ids(anon.list_models(sort="createdAt")) == ["bob/gamma-thing", "alice/beta-model", "alice/alpha-model"]
    assert _ids(anon.list_models(sort="downloads")) == ["alice/beta-model", "bob/gamma-thing", "alice/alpha-model"]
    assert _ids(anon.list_models(sort="createdAt", limit=2)) == ["bob/gamma-thing", "alice/beta-model"]
    assert len(_ids(anon.list_models(limit=1))) == 1
    time.sleep(0.01)
    alice.api.upload_file(path_or_fileobj=b"new", path_in_repo="new.txt", repo_id="alice/alpha-model")
    newest = settled(lambda: _ids(anon.list_models(sort="lastModified"))[0], "alice/alpha-model")
    assert newest == "alice/alpha-model"


def test_list_models_pages_have_absolute_links(hub, catalogue):
    r = requests.get(f"{hub.url}/api/models", params={"limit": 1, "sort": "createdAt"}, timeout=30)
    assert r.status_code == 200
    page = r.json()
    assert [m["id"] for m in page] == ["bob/gamma-thing"]
    seen = [m["id"] for m in page]
    next_url = r.links.get("next", {}).get("url")
    while next_url:
        assert next_url.startswith(f"{hub.url}/"), next_url
        r = requests.get(next_url, timeout=30)
        assert r.status_code == 200
        seen += [m["id"] for m in r.json()]
        next_url = r.links.get("next", {}).get("url")
    if len(seen) > 1:
        assert seen == ["bob/gamma-thing", "alice/beta-model", "alice/alpha-model"]


def test_list_models_full_and_card_data(hub, catalogue):
    anon = hub.api(None)
    [alpha] = [m for m in anon.list_models(author="alice", full=True, cardData=True) if m.id == "alice/alpha-model"]
    assert is_hex40(alpha.sha)
    assert alpha.card_data.license == "mit"
    assert "license:mit" in alpha.tags
    assert {s.rfilename for s in alpha.siblings} >= {"README.md", "config.json"}


def test_list_models_and_model_info_agree(hub, catalogue):
    """A repo's fields in the listing are the same as in its model_info."""
    anon = hub.api(None)
    for listed in anon.list_models(full=True):
        info = anon.model_info(listed.id)
        for field in ("sha", "created_at", "last_modified", "private", "downloads", "author"):
            assert getattr(listed, field) == getattr(info, field), (listed.id, field)
        assert sorted(listed.tags) == sorted(info.tags), listed.id


def test_list_models_owner_sees_own_private_repo(hub, catalogue):
    alice, bob = catalogue
    assert settled(lambda: "alice/hidden-model" in _ids(alice.api.list_models(author="alice")), True) is True
    assert "alice/hidden-model" not in _ids(bob.api.list_models(author="alice"))
    assert "alice/hidden-model" not in _ids(hub.api(None).list_models())


def test_list_datasets(hub, catalogue):
    alice, _ = catalogue
    alice.api.create_repo("alice/hidden-data", repo_type="dataset", private=True)
    anon = hub.api(None)
    assert settled(lambda: [d.id for d in anon.list_datasets(author="alice")], ["alice/alpha-model-data"]) == [
        "alice/alpha-model-data"
    ]
    assert "alice/hidden-data" in [d.id for d in alice.api.list_datasets(author="alice")]
    assert all("/" in d.id and not d.id.endswith("-model") for d in anon.list_datasets())
