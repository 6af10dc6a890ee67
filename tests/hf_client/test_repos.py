"""create_repo, delete_repo, update_repo_settings, repo_exists, and what a new repo holds."""

import pytest
import requests
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from support import download, is_hex40, status_of


def test_create_model_repo_returns_its_url(hub):
    alice = hub.account("alice")
    url = alice.api.create_repo("alice/tiny")
    assert str(url) == f"{hub.url}/alice/tiny"
    assert url.repo_id == "alice/tiny"
    assert url.repo_type == "model"
    info = alice.api.model_info("alice/tiny")
    assert info.id == "alice/tiny"
    assert info.private is False
    assert is_hex40(info.sha)


def test_create_dataset_repo_returns_its_url(hub):
    alice = hub.account("alice")
    url = alice.api.create_repo("alice/corpus", repo_type="dataset")
    assert str(url) == f"{hub.url}/datasets/alice/corpus"
    assert url.repo_type == "dataset"
    info = alice.api.dataset_info("alice/corpus")
    assert info.id == "alice/corpus"
    assert is_hex40(info.sha)
    # A dataset is not a model of the same name.
    assert alice.api.repo_exists("alice/corpus", repo_type="dataset") is True
    assert alice.api.repo_exists("alice/corpus") is False
    with pytest.raises(RepositoryNotFoundError):
        alice.api.model_info("alice/corpus")


def test_model_and_dataset_of_the_same_name_are_separate(hub):
    alice = hub.account("alice")
    alice.api.create_repo("alice/twin")
    alice.api.create_repo("alice/twin", repo_type="dataset")
    alice.api.upload_file(path_or_fileobj=b"model side\n", path_in_repo="side.txt", repo_id="alice/twin")
    assert "side.txt" in alice.api.list_repo_files("alice/twin")
    assert "side.txt" not in alice.api.list_repo_files("alice/twin", repo_type="dataset")


def test_new_repo_has_an_initial_commit_with_gitattributes(hub, cache_dir):
    alice = hub.account("alice")
    alice.api.create_repo("alice/fresh")
    commits = alice.api.list_repo_commits("alice/fresh")
    assert len(commits) == 1
    assert commits[0].commit_id == alice.api.model_info("alice/fresh").sha
    assert alice.api.list_repo_files("alice/fresh") == [".gitattributes"]
    text = download(hub, "alice/fresh", ".gitattributes", token=alice.token, cache_dir=cache_dir).decode()
    assert "*.safetensors filter=lfs diff=lfs merge=lfs -text" in text


def test_create_existing_repo_is_409_and_exist_ok_returns_the_url(hub):
    alice = hub.account("alice")
    alice.api.create_repo("alice/tiny")
    with pytest.raises(HfHubHTTPError) as excinfo:
        alice.api.create_repo("alice/tiny")
    assert status_of(excinfo) == 409
    assert str(alice.api.create_repo("alice/tiny", exist_ok=True)) == f"{hub.url}/alice/tiny"
    # The raw 409 carries the url too (the client reads it).
    r = requests.post(
        f"{hub.url}/api/repos/create",
        json={"name": "tiny", "organization": "alice"},
        headers={"Authorization": f"Bearer {alice.token}"},
        timeout=30,
    )
    assert r.status_code == 409
    assert r.json()["url"] == f"{hub.url}/alice/tiny"


def test_create_private_repo_with_exist_ok_keeps_it_private(hub):
    alice = hub.account("alice")
    alice.api.create_repo("alice/secret", private=True)
    alice.api.create_repo("alice/secret", exist_ok=True)
    assert alice.api.model_info("alice/secret").private is True


def test_create_private_repo(hub):
    alice = hub.account("alice")
    alice.api.create_repo("alice/secret", private=True)
    assert alice.api.model_info("alice/secret").private is True
    with pytest.raises(RepositoryNotFoundError):
        hub.api(None).model_info("alice/secret")


def test_create_repo_with_the_legacy_private_field(hub):
    # Older clients send `private: true` instead of `visibility`; the reference asks to accept both.
    alice = hub.account("alice")
    r = requests.post(
        f"{hub.url}/api/repos/create",
        json={"name": "old", "organization": "alice", "private": True},
        headers={"Authorization": f"Bearer {alice.token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.json()["url"] == f"{hub.url}/alice/old"
    assert alice.api.model_info("alice/old").private is True


def test_create_repo_in_someone_elses_namespace_is_403(hub):
    hub.account("alice")
    bob = hub.account("bob")
    with pytest.raises(HfHubHTTPError) as excinfo:
        bob.api.create_repo("alice/intruder")
    assert status_of(excinfo) == 403
    assert hub.api(None).repo_exists("alice/intruder") is False


def test_create_repo_anonymously_is_401(hub):
    hub.account("alice")
    r = requests.post(f"{hub.url}/api/repos/create", json={"name": "x", "organization": "alice"}, timeout=30)
    assert r.status_code == 401


@pytest.mark.parametrize("name", ["bad name", "..", "a%b", "x" * 200, "-lead", "trail.git", ""])
def test_create_repo_with_an_invalid_name_is_400(hub, name):
    alice = hub.account("alice")
    r = requests.post(
        f"{hub.url}/api/repos/create",
        json={"name": name, "organization": "alice"},
        headers={"Authorization": f"Bearer {alice.token}"},
        timeout=30,
    )
    assert r.status_code == 400, r.text


def test_delete_repo(hub):
    alice = hub.account("alice")
    alice.api.create_repo("alice/tiny")
    alice.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/tiny")
    alice.api.delete_repo("alice/tiny")
    assert alice.api.repo_exists("alice/tiny") is False
    with pytest.raises(RepositoryNotFoundError):
        alice.api.model_info("alice/tiny")
    with pytest.raises(RepositoryNotFoundError):
        alice.api.list_repo_files("alice/tiny")
    # The name is free again, and the new repo starts empty.
    alice.api.create_repo("alice/tiny")
    assert "x.txt" not in alice.api.list_repo_files("alice/tiny")


def test_delete_dataset_repo(hub):
    alice = hub.account("alice")
    alice.api.create_repo("alice/corpus", repo_type="dataset")
    alice.api.create_repo("alice/corpus")
    alice.api.delete_repo("alice/corpus", repo_type="dataset")
    assert alice.api.repo_exists("alice/corpus", repo_type="dataset") is False
    assert alice.api.repo_exists("alice/corpus") is True


def test_delete_missing_repo(hub):
    alice = hub.account("alice")
    alice.api.delete_repo("alice/never", missing_ok=True)
    with pytest.raises(RepositoryNotFoundError):
        alice.api.delete_repo("alice/never")


def test_delete_someone_elses_repo_is_refused(hub):
    alice = hub.account("alice")
    bob = hub.account("bob")
    alice.api.create_repo("alice/tiny")
    with pytest.raises(HfHubHTTPError) as excinfo:
        bob.api.delete_repo("alice/tiny")
    assert status_of(excinfo) == 403
    assert alice.api.repo_exists("alice/tiny") is True


def test_update_repo_settings_toggles_visibility(hub):
    alice = hub.account("alice")
    anon = hub.api(None)
    alice.api.create_repo("alice/tiny")
    assert anon.repo_exists("alice/tiny") is True
    alice.api.update_repo_settings("alice/tiny", private=True)
    assert alice.api.model_info("alice/tiny").private is True
    assert anon.repo_exists("alice/tiny") is False
    with pytest.raises(RepositoryNotFoundError):
        anon.model_info("alice/tiny")
    alice.api.update_repo_settings("alice/tiny", private=False)
    assert anon.model_info("alice/tiny").private is False


def test_update_repo_settings_by_another_user_is_refused(hub):
    alice = hub.account("alice")
    bob = hub.account("bob")
    alice.api.create_repo("alice/tiny")
    with pytest.raises(HfHubHTTPError) as excinfo:
        bob.api.update_repo_settings("alice/tiny", private=True)
    assert status_of(excinfo) == 403
    assert alice.api.model_info("alice/tiny").private is False


def test_repo_exists(hub):
    alice = hub.account("alice")
    alice.api.create_repo("alice/tiny")
    assert alice.api.repo_exists("alice/tiny") is True
    assert alice.api.repo_exists("alice/other") is False
    assert alice.api.repo_exists("nobody/tiny") is False


def test_unknown_repo_answers_repo_not_found_code(hub):
    r = requests.get(f"{hub.url}/api/models/nobody/nothing", timeout=30)
    assert r.status_code in (401, 404)
    assert r.headers.get("X-Error-Code") == "RepoNotFound"
