"""Branches, tags, list_repo_refs and list_repo_commits (including pagination)."""

import pytest
import requests
from huggingface_hub import CommitOperationAdd
from huggingface_hub.errors import HfHubHTTPError, RevisionNotFoundError

from support import download, is_hex40, status_of


@pytest.fixture
def alice(hub):
    account = hub.account("alice")
    account.api.create_repo("alice/tiny")
    return account


def test_list_repo_refs_of_a_new_repo(hub, alice):
    refs = alice.api.list_repo_refs("alice/tiny")
    assert [(b.name, b.ref) for b in refs.branches] == [("main", "refs/heads/main")]
    assert refs.branches[0].target_commit == alice.api.model_info("alice/tiny").sha
    assert refs.tags == []
    assert refs.converts == []


def test_create_branch_commit_to_it_and_delete_it(hub, alice, cache_dir):
    api = alice.api
    base = api.upload_file(path_or_fileobj=b"main v1", path_in_repo="f.txt", repo_id="alice/tiny").oid
    api.create_branch("alice/tiny", branch="dev")
    on_dev = api.upload_file(path_or_fileobj=b"dev v2", path_in_repo="f.txt", repo_id="alice/tiny", revision="dev").oid
    branches = {b.name: b.target_commit for b in api.list_repo_refs("alice/tiny").branches}
    assert branches == {"main": base, "dev": on_dev}
    assert api.model_info("alice/tiny").sha == base
    assert api.model_info("alice/tiny", revision="dev").sha == on_dev
    assert download(hub, "alice/tiny", "f.txt", token=None, cache_dir=cache_dir, revision="dev") == b"dev v2"
    assert download(hub, "alice/tiny", "f.txt", token=None, cache_dir=cache_dir) == b"main v1"
    assert [c.commit_id for c in api.list_repo_commits("alice/tiny", revision="dev")][:2] == [on_dev, base]
    api.delete_branch("alice/tiny", branch="dev")
    assert [b.name for b in api.list_repo_refs("alice/tiny").branches] == ["main"]
    assert api.revision_exists("alice/tiny", "dev") is False
    # The commit itself is still reachable by id.
    assert download(hub, "alice/tiny", "f.txt", token=None, cache_dir=cache_dir, revision=on_dev) == b"dev v2"


def test_branch_from_a_given_revision(hub, alice):
    api = alice.api
    c1 = api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id="alice/tiny").oid
    api.upload_file(path_or_fileobj=b"2", path_in_repo="two.txt", repo_id="alice/tiny")
    api.create_branch("alice/tiny", branch="old", revision=c1)
    assert api.model_info("alice/tiny", revision="old").sha == c1
    assert "two.txt" not in api.list_repo_files("alice/tiny", revision="old")


def test_branch_with_a_slash_in_its_name(hub, alice, cache_dir):
    api = alice.api
    api.create_branch("alice/tiny", branch="feat/x")
    commit = api.upload_file(path_or_fileobj=b"on feat/x", path_in_repo="f.txt", repo_id="alice/tiny", revision="feat/x").oid
    assert api.model_info("alice/tiny", revision="feat/x").sha == commit
    assert download(hub, "alice/tiny", "f.txt", token=None, cache_dir=cache_dir, revision="feat/x") == b"on feat/x"
    assert "f.txt" in api.list_repo_files("alice/tiny", revision="feat/x")
    assert {b.name for b in api.list_repo_refs("alice/tiny").branches} == {"main", "feat/x"}


def test_create_existing_branch_is_409_unless_exist_ok(hub, alice):
    api = alice.api
    api.create_branch("alice/tiny", branch="dev")
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_branch("alice/tiny", branch="dev")
    assert status_of(excinfo) == 409
    api.create_branch("alice/tiny", branch="dev", exist_ok=True)


def test_branch_from_unknown_revision_is_refused(hub, alice):
    with pytest.raises(RevisionNotFoundError):
        alice.api.create_branch("alice/tiny", branch="x", revision="no-such-thing")
    assert alice.api.revision_exists("alice/tiny", "x") is False


@pytest.mark.parametrize("name", ["refs/pr/5", "bad..name", "with space", "-dash", "a~b"])
def test_invalid_branch_name_is_400(hub, alice, name):
    with pytest.raises(HfHubHTTPError) as excinfo:
        alice.api.create_branch("alice/tiny", branch=name)
    assert status_of(excinfo) == 400


def test_commit_to_an_unknown_branch_is_revision_not_found(hub, alice):
    with pytest.raises(RevisionNotFoundError):
        alice.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/tiny", revision="nowhere")


def test_tags(hub, alice, cache_dir):
    api = alice.api
    c1 = api.upload_file(path_or_fileobj=b"v1", path_in_repo="f.txt", repo_id="alice/tiny").oid
    api.create_tag("alice/tiny", tag="v1.0", tag_message="first release")
    c2 = api.upload_file(path_or_fileobj=b"v2", path_in_repo="f.txt", repo_id="alice/tiny").oid
    api.create_tag("alice/tiny", tag="old", revision=c1)
    api.create_tag("alice/tiny", tag="latest")
    tags = {t.name: (t.ref, t.target_commit) for t in api.list_repo_refs("alice/tiny").tags}
    assert tags == {
        "v1.0": ("refs/tags/v1.0", c1),
        "old": ("refs/tags/old", c1),
        "latest": ("refs/tags/latest", c2),
    }
    assert download(hub, "alice/tiny", "f.txt", token=None, cache_dir=cache_dir, revision="v1.0") == b"v1"
    assert api.model_info("alice/tiny", revision="latest").sha == c2
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_tag("alice/tiny", tag="v1.0")
    assert status_of(excinfo) == 409
    api.create_tag("alice/tiny", tag="v1.0", exist_ok=True)
    api.delete_tag("alice/tiny", tag="v1.0")
    assert {t.name for t in api.list_repo_refs("alice/tiny").tags} == {"old", "latest"}
    with pytest.raises(RevisionNotFoundError):
        download(hub, "alice/tiny", "f.txt", token=None, cache_dir=cache_dir, revision="v1.0")


def test_tag_on_unknown_revision_is_refused(hub, alice):
    with pytest.raises(RevisionNotFoundError):
        alice.api.create_tag("alice/tiny", tag="t", revision="nowhere")
    assert alice.api.list_repo_refs("alice/tiny").tags == []


def test_committing_to_a_tag_is_refused(hub, alice):
    api = alice.api
    api.create_tag("alice/tiny", tag="frozen")
    before = api.list_repo_refs("alice/tiny")
    with pytest.raises(HfHubHTTPError):
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/tiny", revision="frozen")
    after = api.list_repo_refs("alice/tiny")
    assert after.tags == before.tags
    assert after.branches == before.branches


def test_list_repo_commits_newest_first_with_fields(hub, alice):
    api = alice.api
    ids = [
        api.upload_file(path_or_fileobj=f"{i}".encode(), path_in_repo=f"{i}.txt", repo_id="alice/tiny", commit_message=f"c{i}").oid
        for i in range(3)
    ]
    commits = api.list_repo_commits("alice/tiny")
    assert [c.commit_id for c in commits[:3]] == ids[::-1]
    assert [c.title for c in commits[:3]] == ["c2", "c1", "c0"]
    assert all(is_hex40(c.commit_id) for c in commits)
    assert commits[0].authors == ["alice"]
    dates = [c.created_at for c in commits]
    assert all(d.tzinfo is not None for d in dates)
    assert dates == sorted(dates, reverse=True)
    formatted = api.list_repo_commits("alice/tiny", formatted=True)
    assert [c.commit_id for c in formatted] == [c.commit_id for c in commits]


def test_list_repo_commits_of_unknown_revision(hub, alice):
    with pytest.raises(RevisionNotFoundError):
        alice.api.list_repo_commits("alice/tiny", revision="nowhere")


def test_list_repo_commits_paginates_with_absolute_links(hub, alice):
    api = alice.api
    made = [
        api.create_commit(
            "alice/tiny", operations=[CommitOperationAdd(f"f{i}.txt", f"{i}\n".encode())], commit_message=f"c{i}"
        ).oid
        for i in range(60)
    ]
    commits = api.list_repo_commits("alice/tiny")
    ids = [c.commit_id for c in commits]
    assert ids[:60] == made[::-1]
    assert len(ids) == len(set(ids)) == 61  # + the initial commit

    # The wire: the first page must not be the whole history, and its `Link` must be absolute.
    url = f"{hub.url}/api/models/alice/tiny/commits/main"
    first = requests.get(url, timeout=30)
    assert first.status_code == 200
    if len(first.json()) == 61:
        first = requests.get(url, params={"limit": 20}, timeout=30)
    page = first.json()
    assert len(page) < 61, "61 commits came back in one page: the server neither pages at 50 nor honours limit"
    next_url = first.links["next"]["url"]
    assert next_url.startswith(f"{hub.url}/"), next_url
    seen = [c["id"] for c in page]
    while next_url:
        r = requests.get(next_url, timeout=30)
        assert r.status_code == 200
        seen += [c["id"] for c in r.json()]
        next_url = r.links.get("next", {}).get("url")
        assert next_url is None or next_url.startswith(f"{hub.url}/")
    assert seen == ids


@pytest.mark.parametrize("expr", ["main~1", "main^", "HEAD", "main@{1}", "HEAD~1:f.txt"])
def test_revisions_are_names_or_ids_not_git_expressions(hub, alice, cache_dir, expr):
    api = alice.api
    api.upload_file(path_or_fileobj=b"1", path_in_repo="f.txt", repo_id="alice/tiny")
    api.upload_file(path_or_fileobj=b"2", path_in_repo="f.txt", repo_id="alice/tiny")
    with pytest.raises(RevisionNotFoundError):
        api.model_info("alice/tiny", revision=expr)
    with pytest.raises(RevisionNotFoundError):
        download(hub, "alice/tiny", "f.txt", token=None, cache_dir=cache_dir, revision=expr)


def test_short_commit_id_is_not_a_revision_for_downloads(hub, alice, cache_dir):
    """Full 40-hex ids, branches and tags resolve; what a short prefix does is not fixed by the
    protocol, but it must never resolve to a different commit."""
    api = alice.api
    commit = api.upload_file(path_or_fileobj=b"1", path_in_repo="f.txt", repo_id="alice/tiny").oid
    try:
        sha = api.model_info("alice/tiny", revision=commit[:12]).sha
    except RevisionNotFoundError:
        return
    assert sha == commit


def test_default_branch_cannot_be_deleted(hub, alice):
    head = alice.api.model_info("alice/tiny").sha
    with pytest.raises(HfHubHTTPError) as excinfo:
        alice.api.delete_branch("alice/tiny", branch="main")
    assert 400 <= status_of(excinfo) < 500
    assert {b.name: b.target_commit for b in alice.api.list_repo_refs("alice/tiny").branches} == {"main": head}
