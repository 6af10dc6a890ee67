//! Organisations: creation, the shared namespace, members and roles, and the effective right.

use grove_tests::checks::{assert_account, assert_keys};
use grove_tests::{TestHub, Value, json};

fn members(hub: &TestHub, org: &str, bearer: &str) -> Value {
    let mut body = hub
        .get(&format!("/api/organizations/{org}/members"), Some(bearer))
        .expect(200);
    assert_keys(&body, &["members"]);
    let list = body["members"].as_array_mut().expect("members is an array");
    for m in list.iter() {
        assert_keys(m, &["name", "role"]);
    }
    list.sort_by_key(|m| m["name"].as_str().unwrap_or_default().to_string());
    body
}

fn role_in(hub: &TestHub, bearer: &str, org: &str) -> Option<Value> {
    let me = hub.whoami(bearer);
    me["orgs"]
        .as_array()
        .expect("orgs is an array")
        .iter()
        .find(|o| o["name"] == org)
        .map(|o| o["roleInOrg"].clone())
}

fn member_path(org: &str, user: &str) -> String {
    format!("/api/organizations/{org}/members/{user}")
}

#[test]
fn creator_becomes_admin() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let org = hub
        .post(
            "/api/organizations",
            Some(&jwt),
            &json!({"name": "acme", "fullname": "Acme Inc"}),
        )
        .expect(201);
    assert_account(&org, "org", "acme");
    assert_eq!(org["fullname"], "Acme Inc");
    assert_eq!(hub.get("/api/organizations/acme", None).expect(200), org);

    let me = hub.whoami(&jwt);
    assert_eq!(
        me["orgs"],
        json!([{
            "type": "org",
            "id": org["id"],
            "name": "acme",
            "fullname": "Acme Inc",
            "roleInOrg": "admin",
        }])
    );
    assert_eq!(
        members(&hub, "acme", &jwt),
        json!({"members": [{"name": "alice", "role": "admin"}]})
    );
}

#[test]
fn create_org_needs_write_scope() {
    let hub = TestHub::start();
    hub.user("alice");
    let write = hub.token("alice", "write");
    let read = hub.token("alice", "read");
    hub.post("/api/organizations", None, &json!({"name": "anon"}))
        .expect_error(401);
    hub.post(
        "/api/organizations",
        Some(&read),
        &json!({"name": "readco"}),
    )
    .expect_error(403);
    for name in ["anon", "readco"] {
        hub.get(&format!("/api/organizations/{name}"), None)
            .expect_error(404);
    }
    let org = hub
        .post(
            "/api/organizations",
            Some(&write),
            &json!({"name": "writeco"}),
        )
        .expect(201);
    assert_account(&org, "org", "writeco");
    assert_eq!(role_in(&hub, &write, "writeco"), Some(json!("admin")));
}

#[test]
fn users_and_orgs_share_one_namespace() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    for name in ["alice", "Alice", "ALICE"] {
        hub.post("/api/organizations", Some(&jwt), &json!({"name": name}))
            .expect_error(409);
        hub.get(&format!("/api/organizations/{name}"), None)
            .expect_error(404);
    }
    hub.post("/api/organizations", Some(&jwt), &json!({"name": "acme"}))
        .expect_status(201);
    hub.post("/api/organizations", Some(&jwt), &json!({"name": "acme"}))
        .expect_error(409);
    hub.post("/api/organizations", Some(&jwt), &json!({"name": "Acme"}))
        .expect_error(409);
    for name in ["acme", "ACME"] {
        hub.signup(name, "long-enough").expect_error(409);
    }
    hub.cli_stdin(
        ["user", "create", "acme", "--password-stdin"],
        "long-enough",
    )
    .failure();
    hub.post(
        "/api/login",
        None,
        &json!({"username": "acme", "password": "long-enough"}),
    )
    .expect_error(401);
    // Still one org named acme with one admin.
    assert_eq!(
        members(&hub, "acme", &jwt),
        json!({"members": [{"name": "alice", "role": "admin"}]})
    );
}

#[test]
fn org_names_follow_the_name_rules() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let too_long = "o".repeat(43);
    for name in [
        "", "-x", "a b", "a/b", "ä", "x.git", "a..b", "a--b", "new", "api", &too_long,
    ] {
        hub.post("/api/organizations", Some(&jwt), &json!({"name": name}))
            .expect_error(400);
    }
    assert_eq!(hub.whoami(&jwt)["orgs"], json!([]));
    let max = "o".repeat(42);
    hub.post("/api/organizations", Some(&jwt), &json!({"name": max}))
        .expect_status(201);
}

#[test]
fn unknown_org_is_404() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    hub.get("/api/organizations/nope", None).expect_error(404);
    hub.get("/api/organizations/nope/members", Some(&jwt))
        .expect_error(404);
}

#[test]
fn add_member_and_change_roles() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    let (_, bob) = hub.user_session("bob");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    assert_eq!(role_in(&hub, &bob, "acme"), None);

    for role in ["write", "admin", "read", "write"] {
        let body = hub.set_member(&alice, "acme", "bob", role).expect(200);
        assert_eq!(body, json!({"name": "bob", "role": role}));
        assert_eq!(
            role_in(&hub, &bob, "acme"),
            Some(json!(role)),
            "after setting {role}"
        );
        assert_eq!(
            members(&hub, "acme", &alice),
            json!({"members": [
                {"name": "alice", "role": "admin"},
                {"name": "bob", "role": role},
            ]})
        );
    }
    // An API token of bob's sees the same role.
    let bob_token = hub.token("bob", "read");
    assert_eq!(role_in(&hub, &bob_token, "acme"), Some(json!("write")));
}

#[test]
fn members_list_needs_membership() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    let (_, bob) = hub.user_session("bob");
    let (_, carol) = hub.user_session("carol");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.set_member(&alice, "acme", "bob", "read")
        .expect_status(200);

    hub.get("/api/organizations/acme/members", None)
        .expect_error(401);
    hub.get("/api/organizations/acme/members", Some(&carol))
        .expect_error(403);
    let carol_read = hub.token("carol", "read");
    hub.get("/api/organizations/acme/members", Some(&carol_read))
        .expect_error(403);
    // A read member with a read token may list.
    let bob_read = hub.token("bob", "read");
    assert_eq!(
        members(&hub, "acme", &bob_read),
        members(&hub, "acme", &bob)
    );
    // The org itself is public.
    hub.get("/api/organizations/acme", None).expect_status(200);
}

#[test]
fn non_admin_member_cannot_manage_members() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    let (_, bob) = hub.user_session("bob");
    hub.user("carol");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.set_member(&alice, "acme", "bob", "write")
        .expect_status(200);
    hub.set_member(&alice, "acme", "carol", "read")
        .expect_status(200);
    let before = members(&hub, "acme", &alice);

    // bob's session has admin scope, but bob is only a writer in acme.
    hub.set_member(&bob, "acme", "carol", "admin")
        .expect_error(403);
    hub.set_member(&bob, "acme", "bob", "admin")
        .expect_error(403);
    hub.delete(&member_path("acme", "carol"), Some(&bob))
        .expect_error(403);
    hub.delete(&member_path("acme", "alice"), Some(&bob))
        .expect_error(403);
    // A stranger neither.
    hub.user("mallory");
    let mallory = hub.login("mallory", &TestHub::password_for("mallory"));
    hub.set_member(&mallory, "acme", "mallory", "admin")
        .expect_error(403);
    hub.delete(&member_path("acme", "alice"), Some(&mallory))
        .expect_error(403);

    assert_eq!(members(&hub, "acme", &alice), before);
    assert_eq!(role_in(&hub, &bob, "acme"), Some(json!("write")));
}

#[test]
fn org_admin_with_a_write_token_cannot_manage_members() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    hub.user("bob");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    let write = hub.token("alice", "write");
    hub.set_member(&write, "acme", "bob", "read")
        .expect_error(403);
    let admin = hub.token("alice", "admin");
    hub.set_member(&admin, "acme", "bob", "read")
        .expect_status(200);
}

#[test]
fn removing_the_last_admin_is_409() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    let (_, bob) = hub.user_session("bob");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.set_member(&alice, "acme", "bob", "write")
        .expect_status(200);

    hub.delete(&member_path("acme", "alice"), Some(&alice))
        .expect_error(409);
    let alice_write = hub.token("alice", "write");
    hub.delete(&member_path("acme", "alice"), Some(&alice_write))
        .expect_error(409);
    assert_eq!(role_in(&hub, &alice, "acme"), Some(json!("admin")));

    // With a second admin, the first may go; then the second is the last.
    hub.set_member(&alice, "acme", "bob", "admin")
        .expect_status(200);
    hub.delete(&member_path("acme", "alice"), Some(&alice))
        .expect_status(204);
    assert_eq!(role_in(&hub, &alice, "acme"), None);
    hub.delete(&member_path("acme", "bob"), Some(&bob))
        .expect_error(409);
    assert_eq!(
        members(&hub, "acme", &bob),
        json!({"members": [{"name": "bob", "role": "admin"}]})
    );
}

/// Demoting the last admin would leave the org without one, just like removing them.
#[test]
fn demoting_the_last_admin_is_409() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.set_member(&alice, "acme", "alice", "write")
        .expect_error(409);
    assert_eq!(role_in(&hub, &alice, "acme"), Some(json!("admin")));
}

#[test]
fn removed_member_loses_access_at_once() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    let (_, bob) = hub.user_session("bob");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.set_member(&alice, "acme", "bob", "admin")
        .expect_status(200);
    let bob_token = hub.token("bob", "admin");
    members(&hub, "acme", &bob_token);
    members(&hub, "acme", &bob);

    let resp = hub.delete(&member_path("acme", "bob"), Some(&alice));
    resp.expect_status(204);
    assert_eq!(resp.body, "");

    // The same credentials, right away.
    hub.get("/api/organizations/acme/members", Some(&bob_token))
        .expect_error(403);
    hub.get("/api/organizations/acme/members", Some(&bob))
        .expect_error(403);
    hub.set_member(&bob_token, "acme", "bob", "admin")
        .expect_error(403);
    assert_eq!(role_in(&hub, &bob, "acme"), None);
    assert_eq!(hub.whoami(&bob_token)["orgs"], json!([]));
    assert_eq!(
        members(&hub, "acme", &alice),
        json!({"members": [{"name": "alice", "role": "admin"}]})
    );
}

#[test]
fn demoted_admin_loses_admin_rights_at_once() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    hub.user("bob");
    hub.user("carol");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.set_member(&alice, "acme", "bob", "admin")
        .expect_status(200);
    let bob_admin = hub.token("bob", "admin");
    hub.set_member(&bob_admin, "acme", "carol", "read")
        .expect_status(200);
    hub.set_member(&alice, "acme", "bob", "write")
        .expect_status(200);
    hub.set_member(&bob_admin, "acme", "carol", "admin")
        .expect_error(403);
    assert_eq!(role_in(&hub, &bob_admin, "acme"), Some(json!("write")));
}

#[test]
fn member_may_leave_with_a_write_token() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    hub.user("bob");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.set_member(&alice, "acme", "bob", "read")
        .expect_status(200);
    let bob_read = hub.token("bob", "read");
    hub.delete(&member_path("acme", "bob"), Some(&bob_read))
        .expect_error(403);
    assert_eq!(role_in(&hub, &bob_read, "acme"), Some(json!("read")));
    let bob_write = hub.token("bob", "write");
    hub.delete(&member_path("acme", "bob"), Some(&bob_write))
        .expect_status(204);
    assert_eq!(role_in(&hub, &bob_write, "acme"), None);
}

#[test]
fn member_endpoints_need_a_credential() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    hub.user("bob");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.put(&member_path("acme", "bob"), None, &json!({"role": "read"}))
        .expect_error(401);
    hub.delete(&member_path("acme", "alice"), None)
        .expect_error(401);
    assert_eq!(
        members(&hub, "acme", &alice),
        json!({"members": [{"name": "alice", "role": "admin"}]})
    );
}

#[test]
fn adding_an_unknown_user_changes_nothing() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    hub.post("/api/organizations", Some(&alice), &json!({"name": "acme"}))
        .expect_status(201);
    hub.set_member(&alice, "acme", "nobody", "read")
        .expect_error_in(&[400, 404]);
    hub.set_member(&alice, "nope", "alice", "read")
        .expect_error(404);
    assert_eq!(
        members(&hub, "acme", &alice),
        json!({"members": [{"name": "alice", "role": "admin"}]})
    );
}
