//! Bad request bodies and routes: each a 4xx with the JSON error envelope, and no change.

use grove_tests::{Method, TestHub, Value, json};

fn overview_status(hub: &TestHub, name: &str) -> u16 {
    hub.get(&format!("/api/users/{name}/overview"), None).status
}

fn tokens(hub: &TestHub, bearer: &str) -> Vec<Value> {
    hub.get("/api/tokens", Some(bearer)).expect(200)["tokens"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn signup_malformed_bodies_are_400() {
    let hub = TestHub::start();
    let json_ct = Some("application/json");
    let cases: &[(Option<&str>, &str)] = &[
        (json_ct, "{"),
        (
            json_ct,
            r#"{"username": "mallory", "password": "long-enough""#,
        ),
        (
            json_ct,
            r#"{"username": "mallory", "password": "long-enough",}"#,
        ),
        (json_ct, ""),
        (json_ct, "null"),
        (json_ct, "[]"),
        (json_ct, r#"["mallory", "long-enough"]"#),
        (json_ct, r#""mallory""#),
        (json_ct, r#"{"username": 5, "password": "long-enough"}"#),
        (json_ct, r#"{"username": "mallory", "password": 12345678}"#),
        (json_ct, r#"{"username": null, "password": "long-enough"}"#),
        (json_ct, r#"{"username": "mallory"}"#),
        (json_ct, r#"{"password": "long-enough"}"#),
        (
            json_ct,
            r#"{"username": "mallory", "password": "long-enough", "email": 7}"#,
        ),
    ];
    for (ct, body) in cases {
        let resp = hub.post_raw("/api/signup", None, *ct, body);
        assert_eq!(
            resp.status, 400,
            "body {body:?}: got {} {}",
            resp.status, resp.body
        );
        resp.expect_error(400);
    }
    assert_eq!(overview_status(&hub, "mallory"), 404);
    hub.get("/healthz", None).expect_status(200);
}

#[test]
fn non_json_content_types_are_400() {
    let hub = TestHub::start();
    let body = r#"{"username": "mallory", "password": "long-enough"}"#;
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/xml"),
    ] {
        let resp = hub.post_raw("/api/signup", None, ct, body);
        assert_eq!(
            resp.status, 400,
            "content type {ct:?}: got {} {}",
            resp.status, resp.body
        );
        resp.expect_error(400);
    }
    let form = "username=mallory&password=long-enough";
    hub.post_raw(
        "/api/signup",
        None,
        Some("application/x-www-form-urlencoded"),
        form,
    )
    .expect_error(400);
    assert_eq!(overview_status(&hub, "mallory"), 404);

    // Login too: a valid user, right password, wrong content type.
    hub.signup("alice", "alice-password").expect_status(201);
    let login = r#"{"username": "alice", "password": "alice-password"}"#;
    let resp = hub.post_raw("/api/login", None, Some("text/plain"), login);
    resp.expect_error(400);
    assert!(resp.set_cookie("grove_session").is_none());
}

#[test]
fn non_utf8_body_is_400() {
    let hub = TestHub::start();
    let resp = hub.send(
        hub.request(Method::POST, "/api/signup", None)
            .header("content-type", "application/json")
            .body(vec![b'{', 0xff, 0xfe, b'}']),
    );
    resp.expect_error(400);
    hub.get("/healthz", None).expect_status(200);
}

#[test]
fn unknown_fields_are_400() {
    let hub = TestHub::start();
    // mallory exists, so the member probe below fails for its body, not for its user.
    hub.user("mallory");
    let (_, jwt) = hub.user_session("alice");
    hub.post(
        "/api/signup",
        None,
        &json!({"username": "eve", "password": "long-enough", "isAdmin": true}),
    )
    .expect_error(400);
    hub.post(
        "/api/signup",
        None,
        &json!({"username": "eve", "password": "long-enough", "role": "admin"}),
    )
    .expect_error(400);
    assert_eq!(overview_status(&hub, "eve"), 404);

    let resp = hub.post(
        "/api/login",
        None,
        &json!({"username": "alice", "password": TestHub::password_for("alice"), "remember": true}),
    );
    resp.expect_error(400);
    assert!(resp.set_cookie("grove_session").is_none());

    hub.post(
        "/api/tokens",
        Some(&jwt),
        &json!({"name": "t", "scope": "read", "owner": "bob"}),
    )
    .expect_error(400);
    assert_eq!(tokens(&hub, &jwt), Vec::<Value>::new());

    hub.post(
        "/api/organizations",
        Some(&jwt),
        &json!({"name": "acme", "plan": "enterprise"}),
    )
    .expect_error(400);
    hub.get("/api/organizations/acme", None).expect_error(404);

    hub.post("/api/organizations", Some(&jwt), &json!({"name": "acme"}))
        .expect_status(201);
    hub.put(
        "/api/organizations/acme/members/mallory",
        Some(&jwt),
        &json!({"role": "read", "extra": 1}),
    )
    .expect_error(400);
    let members = hub
        .get("/api/organizations/acme/members", Some(&jwt))
        .expect(200);
    assert_eq!(
        members,
        json!({"members": [{"name": "alice", "role": "admin"}]})
    );
}

#[test]
fn token_body_rules() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let bad = [
        json!({"name": "", "scope": "read"}),
        json!({"name": "n".repeat(101), "scope": "read"}),
        json!({"scope": "read"}),
        json!({"name": "t"}),
        json!({"name": "t", "scope": "superuser"}),
        json!({"name": "t", "scope": "READ"}),
        json!({"name": "t", "scope": ""}),
        json!({"name": "t", "scope": "read", "expiresInDays": 0}),
        json!({"name": "t", "scope": "read", "expiresInDays": -1}),
        json!({"name": "t", "scope": "read", "expiresInDays": 3651}),
        json!({"name": "t", "scope": "read", "expiresInDays": "ten"}),
        json!({"name": "t", "scope": "read", "expiresInDays": 1.5}),
        json!({"name": 7, "scope": "read"}),
    ];
    for body in &bad {
        let resp = hub.post("/api/tokens", Some(&jwt), body);
        assert_eq!(
            resp.status, 400,
            "{body}: got {} {}",
            resp.status, resp.body
        );
        resp.expect_error(400);
    }
    assert_eq!(tokens(&hub, &jwt), Vec::<Value>::new());
    let max = "n".repeat(100);
    let created = hub.post(
        "/api/tokens",
        Some(&jwt),
        &json!({"name": max, "scope": "read"}),
    );
    assert_eq!(created.expect(201)["name"], max.as_str());
    assert_eq!(tokens(&hub, &jwt).len(), 1);
}

#[test]
fn member_role_rules() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    hub.user("bob");
    hub.post("/api/organizations", Some(&jwt), &json!({"name": "acme"}))
        .expect_status(201);
    for body in [
        json!({"role": "owner"}),
        json!({"role": "ADMIN"}),
        json!({"role": ""}),
        json!({"role": 1}),
        json!({}),
        json!({"role": null}),
    ] {
        let resp = hub.put("/api/organizations/acme/members/bob", Some(&jwt), &body);
        assert_eq!(
            resp.status, 400,
            "{body}: got {} {}",
            resp.status, resp.body
        );
        resp.expect_error(400);
    }
    hub.post_raw(
        "/api/organizations",
        Some(&jwt),
        Some("application/json"),
        "{",
    )
    .expect_error(400);
    let resp = hub.send(
        hub.request(
            Method::PUT,
            "/api/organizations/acme/members/bob",
            Some(&jwt),
        )
        .header("content-type", "text/plain")
        .body(r#"{"role": "read"}"#),
    );
    resp.expect_error(400);
    let members = hub
        .get("/api/organizations/acme/members", Some(&jwt))
        .expect(200);
    assert_eq!(
        members,
        json!({"members": [{"name": "alice", "role": "admin"}]})
    );
}

#[test]
fn unknown_routes_are_404_json() {
    let hub = TestHub::start();
    let token = {
        hub.user("alice");
        hub.token("alice", "admin")
    };
    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::GET, "/api/nope"),
        (Method::POST, "/api/nope"),
        (Method::GET, "/api/users/alice"),
        (Method::GET, "/api/users/alice/overview/extra"),
        (Method::GET, "/api/organizations/acme/members/alice/extra"),
        (Method::DELETE, "/api/v2/tokens"),
    ] {
        let resp = hub.send(hub.request(method.clone(), path, None));
        resp.expect_error(404);
        let resp = hub.send(hub.request(method, path, Some(&token)));
        resp.expect_error(404);
    }
}

#[test]
fn wrong_methods_are_json_errors() {
    let hub = TestHub::start();
    for (method, path) in [
        (Method::PATCH, "/api/tokens"),
        (Method::DELETE, "/api/signup"),
        (Method::GET, "/api/login"),
        (Method::PUT, "/healthz"),
    ] {
        let resp = hub.send(hub.request(method, path, None));
        resp.expect_error_in(&[404, 405]);
    }
}

#[test]
fn oversized_body_is_refused() {
    let hub = TestHub::start();
    let huge = "p".repeat(8 * 1024 * 1024);
    let resp = hub.post(
        "/api/signup",
        None,
        &json!({"username": "big", "password": huge}),
    );
    resp.expect_error_in(&[400, 413]);
    assert_eq!(overview_status(&hub, "big"), 404);
    hub.get("/healthz", None).expect_status(200);
}

/// A barrage of everything above, then the hub still serves ordinary requests.
#[test]
fn server_stays_up_after_bad_input() {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let bodies = [
        "{",
        "",
        "[]",
        "\u{0}",
        "{\"username\":",
        "{}{}",
        "😀",
        "{\"a\":1e999999}",
    ];
    for path in [
        "/api/signup",
        "/api/login",
        "/api/tokens",
        "/api/organizations",
    ] {
        for body in bodies {
            for ct in [Some("application/json"), Some("text/plain"), None] {
                let resp = hub.post_raw(path, Some(&jwt), ct, body);
                assert!(
                    (400..500).contains(&resp.status),
                    "POST {path} {ct:?} {body:?}: got {} {}",
                    resp.status,
                    resp.body
                );
                resp.expect_error(resp.status);
            }
        }
    }
    for bearer in ["", "x", "grove_", "a.b.c", "Bearer Bearer"] {
        let resp = hub.send(
            hub.request(Method::GET, "/api/whoami-v2", None)
                .header("authorization", format!("Bearer {bearer}")),
        );
        resp.expect_error(401);
    }
    hub.get("/healthz", None).expect_status(200);
    assert_eq!(
        hub.get("/readyz", None).expect(200),
        json!({"database": "ok", "storage": "ok"})
    );
    assert_eq!(hub.whoami(&jwt)["name"], "alice");
    hub.signup("bob", "bob-password").expect_status(201);
    assert_eq!(tokens(&hub, &jwt), Vec::<Value>::new());
}
