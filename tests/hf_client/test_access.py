"""Who may see and change what: private repos look exactly like missing ones to everyone else,
read tokens cannot write (403), and organisation roles decide on org repos."""

import pytest
import requests
from huggingface_hub import CommitOperationAdd, snapshot_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from support import auth, download, header_line, file_line, raw_commit, repo_state, status_of


@pytest.fixture
def world(hub):
    """alice owns the private alice/secret (with secret.txt) and the public alice/open; bob is
    another user."""
    alice = hub.account("alice")
    bob = hub.account("bob")
    alice.api.create_repo("alice/secret", private=True)
    alice.api.upload_file(path_or_fileobj=b"top secret\n", path_in_repo="secret.txt", repo_id="alice/secret")
    alice.api.upload_file(
        path_or_fileobj=b"---\nlicense: mit\ntags:\n- hush\n---\n", path_in_repo="README.md", repo_id="alice/secret"
    )
    alice.api.create_repo("alice/open")
    alice.api.upload_file(path_or_fileobj=b"open\n", path_in_repo="open.txt", repo_id="alice/open")
    return alice, bob


def _outsiders(hub, bob):
    return {"anonymous": (hub.api(None), None), "bob": (bob.api, bob.token)}


@pytest.mark.parametrize("who", ["anonymous", "bob"])
def test_private_repo_is_invisible_like_a_missing_one(hub, world, cache_dir, who):
    alice, bob = world
    api, token = _outsiders(hub, bob)[who]
    for repo in ("alice/secret", "alice/missing"):
        with pytest.raises(RepositoryNotFoundError):
            api.model_info(repo)
        with pytest.raises(RepositoryNotFoundError):
            download(hub, repo, "secret.txt", token=token, cache_dir=cache_dir)
        with pytest.raises(RepositoryNotFoundError):
            list(api.list_repo_tree(repo))
        with pytest.raises(RepositoryNotFoundError):
            api.list_repo_files(repo)
        with pytest.raises(RepositoryNotFoundError):
            api.list_repo_commits(repo)
        with pytest.raises(RepositoryNotFoundError):
            api.list_repo_refs(repo)
        with pytest.raises(RepositoryNotFoundError):
            api.get_paths_info(repo, ["secret.txt"])
        with pytest.raises(RepositoryNotFoundError):
            snapshot_download(repo, endpoint=hub.url, token=token or False, cache_dir=str(cache_dir / who))
        assert api.repo_exists(repo) is False
        assert api.file_exists(repo, "secret.txt") is False
        assert api.revision_exists(repo, "main") is False
    listed = [m.id for m in api.list_models()]
    assert "alice/open" in listed
    assert "alice/secret" not in listed
    assert [m.id for m in api.list_models(author="alice")] == ["alice/open"]
    assert [m.id for m in api.list_models(filter="hush")] == []
    assert [m.id for m in api.list_models(search="secret")] == []


@pytest.mark.parametrize("who", ["anonymous", "bob"])
def test_private_repo_answers_like_a_missing_one_on_the_wire(hub, world, who):
    _, bob = world
    headers = auth(None if who == "anonymous" else bob.token)
    for path in (
        "/api/models/{}",
        "/api/models/{}/revision/main",
        "/api/models/{}/tree/main",
        "/api/models/{}/refs",
        "/api/models/{}/commits/main",
        "/{}/resolve/main/secret.txt",
    ):
        hidden = requests.get(hub.url + path.format("alice/secret"), headers=headers, timeout=30)
        missing = requests.get(hub.url + path.format("alice/missing"), headers=headers, timeout=30)
        assert hidden.status_code == missing.status_code, path
        assert hidden.status_code in (401, 404), path
        assert hidden.headers.get("X-Error-Code") == missing.headers.get("X-Error-Code") == "RepoNotFound", path
        assert hidden.json().keys() == missing.json().keys(), path
        assert b"secret" not in hidden.content.replace(b"alice/secret", b""), (path, hidden.content)


def test_owner_sees_the_private_repo(hub, world, cache_dir):
    alice, _ = world
    info = alice.api.model_info("alice/secret")
    assert info.private is True
    assert download(hub, "alice/secret", "secret.txt", token=alice.token, cache_dir=cache_dir) == b"top secret\n"
    assert "secret.txt" in alice.api.list_repo_files("alice/secret")


def test_outsiders_cannot_write_to_a_private_repo(hub, world):
    alice, bob = world
    before = repo_state(alice.api, "alice/secret")
    with pytest.raises(RepositoryNotFoundError):
        bob.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/secret")
    with pytest.raises(RepositoryNotFoundError):
        bob.api.delete_repo("alice/secret")
    with pytest.raises(RepositoryNotFoundError):
        bob.api.create_branch("alice/secret", branch="mine")
    r = raw_commit(hub, bob.token, "alice/secret", [header_line(), file_line("x.txt", b"x")])
    assert r.status_code == 404 and r.headers.get("X-Error-Code") == "RepoNotFound", (r.status_code, r.text)
    assert repo_state(alice.api, "alice/secret") == before


def test_outsiders_cannot_write_to_a_public_repo(hub, world):
    alice, bob = world
    before = repo_state(alice.api, "alice/open")
    with pytest.raises(HfHubHTTPError) as excinfo:
        bob.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/open")
    assert status_of(excinfo) == 403
    with pytest.raises(HfHubHTTPError) as excinfo:
        bob.api.create_tag("alice/open", tag="bobs")
    assert status_of(excinfo) == 403
    assert repo_state(alice.api, "alice/open") == before


def test_read_token_cannot_write(hub, world):
    alice, _ = world
    reader = hub.api(hub.create_token("alice", "read"))
    before = repo_state(alice.api, "alice/open")
    attempts = {
        "create_repo": lambda: reader.create_repo("alice/new"),
        "upload_file": lambda: reader.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/open"),
        "create_commit": lambda: reader.create_commit(
            "alice/open", operations=[CommitOperationAdd("y.txt", b"y")], commit_message="y"
        ),
        "delete_file": lambda: reader.delete_file("open.txt", repo_id="alice/open"),
        "create_branch": lambda: reader.create_branch("alice/open", branch="b"),
        "create_tag": lambda: reader.create_tag("alice/open", tag="t"),
        "update_repo_settings": lambda: reader.update_repo_settings("alice/open", private=True),
        "delete_repo": lambda: reader.delete_repo("alice/open"),
    }
    for name, attempt in attempts.items():
        with pytest.raises(HfHubHTTPError) as excinfo:
            attempt()
        assert status_of(excinfo) == 403, name
    assert repo_state(alice.api, "alice/open") == before
    assert alice.api.model_info("alice/open").private is False
    assert alice.api.repo_exists("alice/new") is False
    # It still reads, private repos included.
    assert reader.model_info("alice/secret").private is True


def test_read_token_raw_commit_is_403(hub, world):
    alice, _ = world
    token = hub.create_token("alice", "read")
    before = repo_state(alice.api, "alice/open")
    r = raw_commit(hub, token, "alice/open", [header_line(), file_line("x.txt", b"x")])
    assert r.status_code == 403, r.text
    assert repo_state(alice.api, "alice/open") == before


@pytest.fixture
def org(hub):
    """acme (owner alice) with bob as reader and carol as writer; dave is not a member. acme/vault
    is private and holds vault.txt."""
    alice = hub.account("alice", scope="admin")
    bob = hub.account("bob")
    carol = hub.account("carol")
    dave = hub.account("dave")
    hub.create_org("acme", owner="alice")
    hub.set_member("acme", "bob", "read", alice.token)
    hub.set_member("acme", "carol", "write", alice.token)
    alice.api.create_repo("acme/vault", private=True)
    alice.api.upload_file(path_or_fileobj=b"vault\n", path_in_repo="vault.txt", repo_id="acme/vault")
    return alice, bob, carol, dave


def test_private_org_repo_readable_by_every_member(hub, org, cache_dir):
    alice, bob, carol, dave = org
    for member in (alice, bob, carol):
        assert member.api.model_info("acme/vault").private is True, member.name
        got = download(hub, "acme/vault", "vault.txt", token=member.token, cache_dir=cache_dir)
        assert got == b"vault\n", member.name
    with pytest.raises(RepositoryNotFoundError):
        dave.api.model_info("acme/vault")
    assert "acme/vault" not in [m.id for m in dave.api.list_models(author="acme")]


def test_private_org_repo_writable_only_by_write_members(hub, org, cache_dir):
    alice, bob, carol, dave = org
    before = repo_state(alice.api, "acme/vault")
    with pytest.raises(HfHubHTTPError) as excinfo:
        bob.api.upload_file(path_or_fileobj=b"bob", path_in_repo="bob.txt", repo_id="acme/vault")
    assert status_of(excinfo) == 403
    with pytest.raises(RepositoryNotFoundError):
        dave.api.upload_file(path_or_fileobj=b"dave", path_in_repo="dave.txt", repo_id="acme/vault")
    assert repo_state(alice.api, "acme/vault") == before

    carol.api.upload_file(path_or_fileobj=b"carol", path_in_repo="carol.txt", repo_id="acme/vault")
    assert download(hub, "acme/vault", "carol.txt", token=bob.token, cache_dir=cache_dir) == b"carol"
    # A write member's read token is still read-only.
    carol_reader = hub.api(hub.create_token("carol", "read"))
    with pytest.raises(HfHubHTTPError) as excinfo:
        carol_reader.upload_file(path_or_fileobj=b"c2", path_in_repo="c2.txt", repo_id="acme/vault")
    assert status_of(excinfo) == 403


def test_org_repo_creation_needs_write_role(hub, org):
    alice, bob, carol, dave = org
    carol.api.create_repo("acme/by-carol")
    assert alice.api.repo_exists("acme/by-carol") is True
    with pytest.raises(HfHubHTTPError) as excinfo:
        bob.api.create_repo("acme/by-bob")
    assert status_of(excinfo) == 403
    with pytest.raises(HfHubHTTPError) as excinfo:
        dave.api.create_repo("acme/by-dave")
    assert status_of(excinfo) == 403
    assert alice.api.repo_exists("acme/by-bob") is False
    assert alice.api.repo_exists("acme/by-dave") is False


def test_removing_a_member_cuts_access_at_once(hub, org, cache_dir):
    alice, bob, carol, dave = org
    assert bob.api.model_info("acme/vault").private is True
    r = requests.delete(f"{hub.url}/api/organizations/acme/members/bob", headers=auth(alice.token), timeout=30)
    assert r.status_code == 204, r.text
    with pytest.raises(RepositoryNotFoundError):
        bob.api.model_info("acme/vault")
    with pytest.raises(RepositoryNotFoundError):
        download(hub, "acme/vault", "vault.txt", token=bob.token, cache_dir=cache_dir)


def test_org_repo_settings_and_deletion_need_admin_role(hub, org):
    alice, bob, carol, dave = org
    for member in (bob, carol):
        with pytest.raises(HfHubHTTPError) as excinfo:
            member.api.update_repo_settings("acme/vault", private=False)
        assert status_of(excinfo) == 403, member.name
        with pytest.raises(HfHubHTTPError) as excinfo:
            member.api.delete_repo("acme/vault")
        assert status_of(excinfo) == 403, member.name
    assert alice.api.model_info("acme/vault").private is True
    alice.api.delete_repo("acme/vault")
    assert alice.api.repo_exists("acme/vault") is False
