//! API tokens: create, list, revoke, scopes, expiry, last use, storage.

use std::time::{Duration, Instant};

use grove_tests::checks::{assert_close, assert_date, assert_keys, assert_token_format};
use grove_tests::{TestHub, Value, json};

const INFO_KEYS: &[&str] = &[
    "id",
    "name",
    "scope",
    "createdAt",
    "expiresAt",
    "lastUsedAt",
];

fn create(hub: &TestHub, bearer: &str, name: &str, scope: &str) -> Value {
    hub.post(
        "/api/tokens",
        Some(bearer),
        &json!({"name": name, "scope": scope}),
    )
    .expect(201)
}

fn list(hub: &TestHub, bearer: &str) -> Vec<Value> {
    let body = hub.get("/api/tokens", Some(bearer)).expect(200);
    assert_keys(&body, &["tokens"]);
    body["tokens"]
        .as_array()
        .expect("tokens is an array")
        .clone()
}

fn find<'a>(tokens: &'a [Value], id: &Value) -> Option<&'a Value> {
    tokens.iter().find(|t| t["id"] == *id)
}

fn id_path(info: &Value) -> String {
    format!(
        "/api/tokens/{}",
        info["id"].as_str().expect("token id is a string")
    )
}

#[test]
fn create_a_token_with_each_scope() {
    let hub = TestHub::start();
    let (alice, jwt) = hub.user_session("alice");
    let mut seen = Vec::new();
    for scope in ["read", "write", "admin"] {
        let name = format!("ci-{scope}");
        let created = create(&hub, &jwt, &name, scope);
        let mut keys = INFO_KEYS.to_vec();
        keys.push("token");
        assert_keys(&created, &keys);
        assert!(created["id"].is_string(), "id is not a string: {created}");
        assert_eq!(created["name"], name.as_str());
        assert_eq!(created["scope"], scope);
        assert_close(assert_date(&created["createdAt"]), chrono::Utc::now(), 120);
        assert_eq!(created["expiresAt"], Value::Null);
        assert_eq!(created["lastUsedAt"], Value::Null);
        let token = created["token"].as_str().unwrap().to_string();
        assert_token_format(&token);

        let me = hub.whoami(&token);
        assert_eq!(me["name"], "alice");
        assert_eq!(me["id"], alice.account["id"]);
        assert_eq!(me["auth"]["type"], "access_token");
        assert_eq!(
            me["auth"]["accessToken"],
            json!({"displayName": name, "role": scope})
        );
        seen.push((created["id"].clone(), token));
    }
    assert_ne!(seen[0], seen[1]);
    assert_ne!(seen[1].0, seen[2].0);
    assert_ne!(seen[0].1, seen[2].1);
}

#[test]
fn list_shows_token_info_and_no_secret() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let created: Vec<Value> = ["read", "write", "admin"]
        .iter()
        .map(|s| create(&hub, &jwt, s, s))
        .collect();
    let resp = hub.get("/api/tokens", Some(&jwt));
    resp.expect_status(200);
    let tokens = list(&hub, &jwt);
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    for c in &created {
        let info = find(&tokens, &c["id"]).unwrap_or_else(|| panic!("{c} not listed"));
        assert_keys(info, INFO_KEYS);
        let mut expected = c.clone();
        expected.as_object_mut().unwrap().remove("token");
        assert_eq!(*info, expected);
        let secret = c["token"].as_str().unwrap();
        assert!(
            !resp.body.contains(secret),
            "the token list contains a token"
        );
        let random = secret.strip_prefix("grove_").unwrap();
        assert!(
            !resp.body.contains(random),
            "the token list contains a token's random part"
        );
    }
}

#[test]
fn tokens_are_per_user() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    let (_, bob) = hub.user_session("bob");
    create(&hub, &alice, "mine", "read");
    assert_eq!(list(&hub, &bob), Vec::<Value>::new());
    assert_eq!(list(&hub, &alice).len(), 1);
}

#[test]
fn expiry_field() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    for days in [1, 30, 3650] {
        let created = hub
            .post(
                "/api/tokens",
                Some(&jwt),
                &json!({"name": format!("d{days}"), "scope": "read", "expiresInDays": days}),
            )
            .expect(201);
        let expires = assert_date(&created["expiresAt"]);
        assert_close(
            expires,
            chrono::Utc::now() + chrono::Duration::days(days),
            120,
        );
        let token = created["token"].as_str().unwrap();
        hub.whoami(token);
        let listed = list(&hub, &jwt);
        assert_eq!(
            find(&listed, &created["id"]).unwrap()["expiresAt"],
            created["expiresAt"]
        );
    }
}

/// White-box: no request can age a token by a day, so the test moves its expiry into the past
/// in the database (table `api_tokens`, columns `id` and `expires_at` of the hub's schema).
#[test]
fn expired_token_is_refused() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let created = hub
        .post(
            "/api/tokens",
            Some(&jwt),
            &json!({"name": "old", "scope": "admin", "expiresInDays": 1}),
        )
        .expect(201);
    let keep = create(&hub, &jwt, "keep", "read");
    let token = created["token"].as_str().unwrap();
    hub.whoami(token);
    let id = created["id"].as_str().unwrap();
    assert!(
        id.chars().all(|c| c.is_ascii_digit()),
        "token id {id:?} is not the row id"
    );
    let changed = hub.execute_sql(&format!(
        "UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00' WHERE id = {id}"
    ));
    assert_eq!(changed, 1);
    hub.get("/api/whoami-v2", Some(token)).expect_error(401);
    hub.get("/api/tokens", Some(token)).expect_error(401);
    hub.whoami(keep["token"].as_str().unwrap());
}

#[test]
fn last_used_at_is_set_after_use() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let created = create(&hub, &jwt, "used", "read");
    let unused = create(&hub, &jwt, "unused", "read");
    let token = created["token"].as_str().unwrap();
    assert_eq!(
        find(&list(&hub, &jwt), &created["id"]).unwrap()["lastUsedAt"],
        Value::Null
    );

    hub.whoami(token);
    let deadline = Instant::now() + Duration::from_secs(3);
    let last_used = loop {
        let tokens = list(&hub, &jwt);
        let value = find(&tokens, &created["id"]).unwrap()["lastUsedAt"].clone();
        if !value.is_null() || Instant::now() > deadline {
            break value;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        !last_used.is_null(),
        "lastUsedAt still null after the token was used"
    );
    let used_at = assert_date(&last_used);
    let created_at = assert_date(&created["createdAt"]);
    assert!(
        used_at >= created_at,
        "lastUsedAt {used_at} before createdAt {created_at}"
    );
    assert_close(used_at, chrono::Utc::now(), 60);
    assert_eq!(
        find(&list(&hub, &jwt), &unused["id"]).unwrap()["lastUsedAt"],
        Value::Null
    );
}

#[test]
fn revoked_token_is_refused() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let keep = create(&hub, &jwt, "keep", "read");
    let gone = create(&hub, &jwt, "gone", "write");
    let gone_token = gone["token"].as_str().unwrap();
    hub.whoami(gone_token);

    let resp = hub.delete(&id_path(&gone), Some(&jwt));
    resp.expect_status(204);
    assert_eq!(resp.body, "");
    hub.get("/api/whoami-v2", Some(gone_token))
        .expect_error(401);
    let tokens = list(&hub, &jwt);
    assert!(
        find(&tokens, &gone["id"]).is_none(),
        "revoked token still listed: {tokens:?}"
    );
    assert!(find(&tokens, &keep["id"]).is_some());
    hub.delete(&id_path(&gone), Some(&jwt)).expect_error(404);
    hub.whoami(keep["token"].as_str().unwrap());
}

#[test]
fn admin_token_manages_tokens() {
    let hub = TestHub::start();
    hub.user("alice");
    let admin = hub.token("alice", "admin");
    let created = create(&hub, &admin, "from-admin", "read");
    let token = created["token"].as_str().unwrap();
    assert_eq!(hub.whoami(token)["name"], "alice");
    let tokens = list(&hub, &admin);
    assert!(find(&tokens, &created["id"]).is_some(), "{tokens:?}");
    hub.delete(&id_path(&created), Some(&admin))
        .expect_status(204);
    hub.get("/api/whoami-v2", Some(token)).expect_error(401);
    assert_eq!(hub.whoami(&admin)["auth"]["accessToken"]["role"], "admin");
}

#[test]
fn only_the_owner_can_revoke() {
    let hub = TestHub::start();
    let (_, alice) = hub.user_session("alice");
    let (_, bob) = hub.user_session("bob");
    let bob_admin = hub.token("bob", "admin");
    let created = create(&hub, &alice, "alices", "read");
    let token = created["token"].as_str().unwrap();

    // Someone else's token answers like a token that does not exist.
    hub.delete(&id_path(&created), Some(&bob)).expect_error(404);
    hub.delete(&id_path(&created), Some(&bob_admin))
        .expect_error(404);
    hub.delete("/api/tokens/no-such-token", Some(&bob))
        .expect_error(404);
    hub.delete("/api/tokens/999999", Some(&bob))
        .expect_error(404);
    hub.whoami(token);
    assert!(find(&list(&hub, &alice), &created["id"]).is_some());
}

#[test]
fn token_endpoints_need_a_credential() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let created = create(&hub, &jwt, "x", "read");
    hub.get("/api/tokens", None).expect_error(401);
    hub.post("/api/tokens", None, &json!({"name": "y", "scope": "read"}))
        .expect_error(401);
    hub.delete(&id_path(&created), None).expect_error(401);
    assert_eq!(list(&hub, &jwt).len(), 1);
}

/// An org `acme` with admins `alice` and `bob` and member `carol` (read); `dave` is no member.
fn org_setup(hub: &TestHub) -> String {
    for name in ["alice", "bob", "carol", "dave"] {
        hub.user(name);
    }
    hub.org("acme", "alice");
    let session = hub.login("alice", &TestHub::password_for("alice"));
    hub.set_member(&session, "acme", "bob", "admin")
        .expect_status(200);
    hub.set_member(&session, "acme", "carol", "read")
        .expect_status(200);
    session
}

fn members(hub: &TestHub, bearer: &str) -> Value {
    let mut body = hub
        .get("/api/organizations/acme/members", Some(bearer))
        .expect(200);
    body["members"]
        .as_array_mut()
        .unwrap()
        .sort_by_key(|m| m["name"].to_string());
    body
}

fn assert_forbidden_everywhere(hub: &TestHub, token: &str, session: &str) {
    let before = members(hub, session);
    let existing = create(hub, session, "existing", "read");
    let tokens_before = list(hub, session);
    let responses = vec![
        hub.post(
            "/api/tokens",
            Some(token),
            &json!({"name": "n", "scope": "read"}),
        ),
        hub.get("/api/tokens", Some(token)),
        hub.delete(&id_path(&existing), Some(token)),
        hub.set_member(token, "acme", "carol", "write"),
        hub.set_member(token, "acme", "dave", "read"),
        hub.delete("/api/organizations/acme/members/bob", Some(token)),
        hub.delete("/api/organizations/acme/members/carol", Some(token)),
    ];
    for resp in &responses {
        resp.expect_error(403);
    }
    assert_eq!(members(hub, session), before, "membership changed");
    hub.whoami(existing["token"].as_str().unwrap());
    let ids = |tokens: &[Value]| {
        let mut ids: Vec<String> = tokens.iter().map(|t| t["id"].to_string()).collect();
        ids.sort();
        ids
    };
    let after = list(hub, session);
    assert_eq!(
        ids(&after),
        ids(&tokens_before),
        "tokens were created or revoked: {after:?}"
    );
}

#[test]
fn read_token_cannot_create_tokens_orgs_or_manage_members() {
    let hub = TestHub::start();
    let session = org_setup(&hub);
    let read = hub.token("alice", "read");
    assert_eq!(hub.whoami(&read)["auth"]["accessToken"]["role"], "read");
    assert_forbidden_everywhere(&hub, &read, &session);
    hub.post("/api/organizations", Some(&read), &json!({"name": "newco"}))
        .expect_error(403);
    hub.get("/api/organizations/newco", None).expect_error(404);
    // Leaving oneself needs write scope.
    hub.delete("/api/organizations/acme/members/alice", Some(&read))
        .expect_error(403);
    // Reading is allowed.
    members(&hub, &read);
}

#[test]
fn write_token_cannot_create_tokens_or_manage_members() {
    let hub = TestHub::start();
    let session = org_setup(&hub);
    let write = hub.token("alice", "write");
    assert_forbidden_everywhere(&hub, &write, &session);
    // But it can create an organisation.
    let org = hub
        .post(
            "/api/organizations",
            Some(&write),
            &json!({"name": "newco"}),
        )
        .expect(201);
    assert_eq!(org["name"], "newco");
}

#[test]
fn admin_token_can_manage_members() {
    let hub = TestHub::start();
    let session = org_setup(&hub);
    let admin = hub.token("alice", "admin");
    let body = hub.set_member(&admin, "acme", "dave", "write").expect(200);
    assert_eq!(body, json!({"name": "dave", "role": "write"}));
    hub.delete("/api/organizations/acme/members/dave", Some(&admin))
        .expect_status(204);
    let names: Vec<Value> = members(&hub, &session)["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("alice"), json!("bob"), json!("carol")]);
}

/// The database holds neither tokens nor passwords nor session JWTs in the clear.
#[test]
fn secrets_are_not_stored_in_the_clear() {
    let hub = TestHub::start();
    hub.signup("alice", "PlainPassword-123").expect_status(201);
    let jwt = hub.login("alice", "PlainPassword-123");
    let created = create(&hub, &jwt, "t", "write");
    let token = created["token"].as_str().unwrap().to_string();
    hub.whoami(&token);
    let cli_token = hub.token("alice", "read");
    // The probe itself works: the token's name is stored.
    assert!(
        hub.database_contains("alice"),
        "the database search finds nothing"
    );
    for secret in [
        token.as_str(),
        token.strip_prefix("grove_").unwrap(),
        cli_token.as_str(),
        cli_token.strip_prefix("grove_").unwrap(),
        "PlainPassword-123",
        jwt.as_str(),
    ] {
        assert!(
            !hub.database_contains(secret),
            "the database holds a secret in the clear"
        );
    }
}
