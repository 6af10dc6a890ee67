"""whoami through the stock client."""

import pytest
import requests
from huggingface_hub.errors import HfHubHTTPError

from support import status_of


def test_whoami_names_the_user_the_token_and_its_scope(hub):
    alice = hub.account("alice", scope="write")
    me = alice.api.whoami()
    assert me["name"] == "alice"
    assert me["type"] == "user"
    assert me["orgs"] == []
    assert me["auth"]["type"] == "access_token"
    assert me["auth"]["accessToken"]["role"] == "write"
    assert isinstance(me["auth"]["accessToken"]["displayName"], str)


@pytest.mark.parametrize("scope", ["read", "write", "admin"])
def test_whoami_reports_each_scope(hub, scope):
    user = hub.account("bob", scope=scope)
    assert user.api.whoami()["auth"]["accessToken"]["role"] == scope


def test_whoami_lists_orgs_with_roles(hub):
    alice = hub.account("alice")
    hub.create_org("acme", owner="alice")
    me = alice.api.whoami(cache=False)
    assert [(o["name"], o["roleInOrg"]) for o in me["orgs"]] == [("acme", "admin")]


def test_whoami_with_an_unknown_token_is_401(hub):
    hub.account("alice")
    api = hub.api("grove_" + "x" * 40)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.whoami()
    assert status_of(excinfo) == 401


def test_whoami_anonymous_is_401_on_the_wire(hub):
    r = requests.get(f"{hub.url}/api/whoami-v2", timeout=30)
    assert r.status_code == 401
    assert "error" in r.json()
