//! Login, logout, the session cookie and the session JWT, including forged JWTs.

use grove_tests::checks::{assert_close, assert_date, assert_keys, assert_nonempty_str};
use grove_tests::jwt::{self, now_secs};
use grove_tests::{Method, TestHub, Value, json};
use jsonwebtoken::Algorithm;

#[test]
fn login_returns_token_expiry_name_and_cookie() {
    let hub = TestHub::start();
    let alice = hub.user("alice");
    let resp = hub.post(
        "/api/login",
        None,
        &json!({"username": "alice", "password": alice.password}),
    );
    let body = resp.expect(200);
    assert_keys(&body, &["token", "expiresAt", "name"]);
    assert_eq!(body["name"], "alice");
    let token = assert_nonempty_str(&body["token"]);
    let expires = assert_date(&body["expiresAt"]);
    assert!(
        expires > chrono::Utc::now(),
        "session already expired: {expires}"
    );

    let cookie = resp.set_cookie("grove_session").unwrap_or_else(|| {
        panic!(
            "login sets no grove_session cookie; Set-Cookie: {:?}",
            resp.set_cookies()
        )
    });
    assert!(
        !cookie.value.is_empty(),
        "empty session cookie: {}",
        cookie.raw
    );
    assert_eq!(
        cookie.attribute("httponly"),
        Some(""),
        "not HttpOnly: {}",
        cookie.raw
    );
    assert_eq!(
        cookie
            .attribute("samesite")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("lax"),
        "not SameSite=Lax: {}",
        cookie.raw
    );
    assert_eq!(
        cookie.attribute("path"),
        Some("/"),
        "not Path=/: {}",
        cookie.raw
    );

    // The JWT's claims.
    let parsed = jwt::parse(&token);
    assert_eq!(parsed.header["alg"], "HS256", "{}", parsed.header);
    assert_eq!(parsed.payload["iss"], "grove", "{}", parsed.payload);
    let aud = &parsed.payload["aud"];
    assert!(
        aud == "grove-web"
            || aud
                .as_array()
                .is_some_and(|a| a.contains(&json!("grove-web"))),
        "aud is {aud}"
    );
    assert_nonempty_str(&parsed.payload["jti"]);
    let exp = parsed.payload["exp"].as_i64().expect("exp is a number");
    assert!(exp > now_secs(), "exp {exp} is not in the future");
    assert_close(
        chrono::DateTime::from_timestamp(exp, 0).unwrap(),
        expires,
        2,
    );
}

#[test]
fn session_jwt_works_as_bearer() {
    let hub = TestHub::start();
    let (alice, jwt) = hub.user_session("alice");
    let me = hub.whoami(&jwt);
    assert_eq!(me["name"], "alice");
    assert_eq!(me["id"], alice.account["id"]);
    assert_eq!(me["auth"], json!({"type": "session"}));
}

#[test]
fn session_cookie_works_as_credential() {
    let hub = TestHub::start();
    let alice = hub.user("alice");

    // A browser-like client: the cookie store sends what login set.
    let browser = hub.cookie_client();
    let resp = browser
        .post(hub.url("/api/login"))
        .json(&json!({"username": "alice", "password": alice.password}))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = browser.get(hub.url("/api/whoami-v2")).send().unwrap();
    assert_eq!(
        resp.status().as_u16(),
        200,
        "whoami with the session cookie"
    );
    let me: Value = resp.json().unwrap();
    assert_eq!(me["name"], "alice");
    assert_eq!(me["auth"]["type"], "session");

    // The cookie by hand, with no Authorization header.
    let login = hub.post(
        "/api/login",
        None,
        &json!({"username": "alice", "password": alice.password}),
    );
    login.expect_status(200);
    let cookie = login
        .set_cookie("grove_session")
        .expect("grove_session cookie");
    let resp = hub.send(
        hub.request(Method::GET, "/api/whoami-v2", None)
            .header("cookie", format!("grove_session={}", cookie.value)),
    );
    assert_eq!(resp.expect(200)["name"], "alice");

    // A cookie that is not a valid session is no credential.
    let resp = hub.send(hub.request(Method::GET, "/api/whoami-v2", None).header(
        "cookie",
        format!("grove_session={}", jwt::flip_signature(&cookie.value)),
    ));
    resp.expect_error(401);
}

#[test]
fn logout_revokes_the_session_and_clears_the_cookie() {
    let hub = TestHub::start();
    let alice = hub.user("alice");
    let first = hub.login("alice", &alice.password);
    let second = hub.login("alice", &alice.password);
    assert_ne!(first, second, "two logins gave the same session");

    let resp = hub.send(hub.request(Method::POST, "/api/logout", Some(&first)));
    resp.expect_status(204);
    assert_eq!(resp.body, "", "204 with a body");
    let cleared = resp.set_cookie("grove_session").unwrap_or_else(|| {
        panic!(
            "logout does not clear grove_session; Set-Cookie: {:?}",
            resp.set_cookies()
        )
    });
    let max_age_zero = cleared
        .attribute("max-age")
        .is_some_and(|v| v.trim().parse::<i64>().is_ok_and(|n| n <= 0));
    let expired = cleared.attribute("expires").is_some_and(|v| {
        chrono::DateTime::parse_from_rfc2822(v.trim().replace("GMT", "+0000").as_str())
            .is_ok_and(|t| t < chrono::Utc::now())
    });
    assert!(
        max_age_zero || expired,
        "logout's grove_session cookie does not clear it: {}",
        cleared.raw
    );

    // The same JWT is refused now, as bearer and as cookie.
    hub.get("/api/whoami-v2", Some(&first)).expect_error(401);
    let resp = hub.send(
        hub.request(Method::GET, "/api/whoami-v2", None)
            .header("cookie", format!("grove_session={first}")),
    );
    resp.expect_error(401);
    hub.send(hub.request(Method::POST, "/api/logout", Some(&first)))
        .expect_error(401);
    hub.get("/api/tokens", Some(&first)).expect_error(401);

    // Only that session: the other one still works.
    assert_eq!(hub.whoami(&second)["name"], "alice");
}

#[test]
fn logout_with_cookie_only() {
    let hub = TestHub::start();
    let alice = hub.user("alice");
    let jwt = hub.login("alice", &alice.password);
    let resp = hub.send(
        hub.request(Method::POST, "/api/logout", None)
            .header("cookie", format!("grove_session={jwt}")),
    );
    resp.expect_status(204);
    hub.get("/api/whoami-v2", Some(&jwt)).expect_error(401);
}

#[test]
fn logout_without_credentials_is_401() {
    let hub = TestHub::start();
    hub.send(hub.request(Method::POST, "/api/logout", None))
        .expect_error(401);
}

#[test]
fn wrong_password_and_unknown_user_are_the_same_401() {
    let hub = TestHub::start();
    hub.user("alice");
    let wrong = hub
        .post(
            "/api/login",
            None,
            &json!({"username": "alice", "password": "not-the-password"}),
        )
        .expect_error(401);
    let unknown = hub
        .post(
            "/api/login",
            None,
            &json!({"username": "nobody", "password": "not-the-password"}),
        )
        .expect_error(401);
    assert_eq!(wrong, unknown, "login errors tell users apart");
    let resp = hub.post(
        "/api/login",
        None,
        &json!({"username": "alice", "password": "not-the-password"}),
    );
    assert!(
        resp.set_cookie("grove_session").is_none(),
        "failed login set a cookie"
    );
}

#[test]
fn session_key_is_64_hex_characters() {
    let hub = TestHub::start();
    let key = hub.session_key();
    assert_eq!(key.len(), 64, "session.key is {} characters", key.len());
    assert!(
        key.chars().all(|c| c.is_ascii_hexdigit()),
        "session.key is not hex"
    );
}

// ---- forged JWTs ----

/// A hub, a logged-in user, the JWT, its payload and the signing key.
struct Forge {
    hub: TestHub,
    jwt: String,
    payload: Value,
    key: Vec<u8>,
}

fn forge() -> Forge {
    let hub = TestHub::start();
    let (_, jwt) = hub.user_session("alice");
    let payload = jwt::parse(&jwt).payload;
    let key = hub.session_key().into_bytes();
    Forge {
        hub,
        jwt,
        payload,
        key,
    }
}

impl Forge {
    /// The payload with `key` set to `value`, re-signed with the right key.
    fn with(&self, key: &str, value: Value) -> String {
        self.resign(|p| {
            p.insert(key.into(), value);
        })
    }

    /// The payload without `key`, re-signed with the right key.
    fn without(&self, key: &str) -> String {
        self.resign(|p| {
            p.remove(key);
        })
    }

    fn resign(&self, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
        let mut payload = self.payload.clone();
        edit(payload.as_object_mut().unwrap());
        jwt::sign_hs256(&payload, &self.key)
    }

    /// The control for every forgery below: re-signing the payload with the key from
    /// `session.key` (and a slightly different `exp`) gives a JWT the hub accepts. Without it, a
    /// forgery test would pass even if the test signed wrongly.
    fn assert_control_accepted(&self) {
        let exp = self.payload["exp"].as_i64().unwrap();
        let copy = self.resign(|p| {
            p.insert("exp".into(), json!(exp - 10));
        });
        assert_ne!(copy, self.jwt);
        let resp = self.hub.get("/api/whoami-v2", Some(&copy));
        assert_eq!(
            resp.status, 200,
            "a JWT re-signed with the trimmed ASCII content of session.key is refused: {}",
            resp.body
        );
        assert_eq!(resp.json()["name"], "alice");
    }

    #[track_caller]
    fn assert_refused(&self, forged: &str, what: &str) {
        let resp = self.hub.get("/api/whoami-v2", Some(forged));
        assert_eq!(
            resp.status, 401,
            "{what}: expected 401, got {}: {}",
            resp.status, resp.body
        );
        resp.expect_error(401);
        // As a cookie too.
        let resp = self.hub.send(
            self.hub
                .request(Method::GET, "/api/whoami-v2", None)
                .header("cookie", format!("grove_session={forged}")),
        );
        assert_eq!(
            resp.status, 401,
            "{what} (cookie): got {}: {}",
            resp.status, resp.body
        );
    }

    fn assert_still_up(&self) {
        self.hub.get("/healthz", None).expect_status(200);
        assert_eq!(self.hub.whoami(&self.jwt)["name"], "alice");
    }
}

#[test]
fn expired_jwt_is_refused() {
    let f = forge();
    f.assert_control_accepted();
    let now = now_secs();
    let expired = f.resign(|p| {
        p.insert("exp".into(), json!(now - 3600));
        if p.contains_key("iat") {
            p.insert("iat".into(), json!(now - 7200));
        }
        if p.contains_key("nbf") {
            p.insert("nbf".into(), json!(now - 7200));
        }
    });
    f.assert_refused(&expired, "expired JWT");
    f.assert_still_up();
}

#[test]
fn tampered_jwt_is_refused() {
    let f = forge();
    f.assert_control_accepted();
    f.assert_refused(&jwt::flip_signature(&f.jwt), "flipped signature character");

    let mut later = f.payload.clone();
    later["exp"] = json!(f.payload["exp"].as_i64().unwrap() + 3600);
    f.assert_refused(
        &jwt::replace_payload(&f.jwt, &later),
        "payload exp changed, old signature",
    );

    let mut other = f.payload.clone();
    other["jti"] = json!(uuid::Uuid::new_v4().to_string());
    f.assert_refused(
        &jwt::replace_payload(&f.jwt, &other),
        "payload jti changed, old signature",
    );

    let (head, _) = f.jwt.rsplit_once('.').unwrap();
    f.assert_refused(&format!("{head}."), "signature removed");
    f.assert_still_up();
}

#[test]
fn alg_none_jwt_is_refused() {
    let f = forge();
    f.assert_control_accepted();
    f.assert_refused(&jwt::unsigned(&f.payload), "alg none");
    for alg in ["None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        let token = format!(
            "{}.{}.",
            jwt::encode_part(&header),
            jwt::encode_part(&f.payload)
        );
        f.assert_refused(&token, alg);
    }
    // alg none with the original signature kept.
    let sig = f.jwt.rsplit_once('.').unwrap().1;
    let token = format!("{}{sig}", jwt::unsigned(&f.payload));
    f.assert_refused(&token, "alg none with the real signature");
    f.assert_still_up();
}

#[test]
fn jwt_with_another_algorithm_or_secret_is_refused() {
    let f = forge();
    f.assert_control_accepted();
    let other = jwt::sign_hs256(&f.payload, b"an entirely different secret of some length");
    f.assert_refused(&other, "HS256 with another secret");
    let hex_key = jwt::sign_hs256(&f.payload, &decode_hex(&f.key));
    f.assert_refused(&hex_key, "HS256 with the hex-decoded key");
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = jwt::sign(&f.payload, &f.key, alg);
        f.assert_refused(&token, &format!("{alg:?} with the right key"));
    }
    f.assert_still_up();
}

fn decode_hex(text: &[u8]) -> Vec<u8> {
    text.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

#[test]
fn jwt_claims_are_checked() {
    let f = forge();
    f.assert_control_accepted();
    f.assert_refused(&f.with("iss", json!("evil")), "iss evil");
    f.assert_refused(&f.without("iss"), "no iss");
    f.assert_refused(&f.with("aud", json!("other")), "aud other");
    f.assert_refused(&f.without("aud"), "no aud");
    f.assert_refused(&f.without("exp"), "no exp");
    f.assert_refused(&f.with("exp", json!("never")), "exp as text");
    f.assert_refused(&f.without("jti"), "no jti");
    let unknown = uuid::Uuid::new_v4().to_string();
    f.assert_refused(&f.with("jti", json!(unknown)), "unknown jti");
    f.assert_still_up();
}

#[test]
fn revoked_session_stays_revoked_when_resigned() {
    let f = forge();
    f.assert_control_accepted();
    f.hub
        .send(f.hub.request(Method::POST, "/api/logout", Some(&f.jwt)))
        .expect_status(204);
    let exp = f.payload["exp"].as_i64().unwrap();
    let resigned = f.with("exp", json!(exp + 60));
    f.assert_refused(&resigned, "re-signed JWT of a revoked session");
    f.assert_refused(&f.jwt, "revoked JWT");
}

#[test]
fn garbage_credentials_are_401() {
    let hub = TestHub::start();
    let alice = hub.user("alice");
    let real = hub.token("alice", "admin");
    let unknown = format!("grove_{}", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4");
    for bearer in [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        "grove_",
        unknown.as_str(),
        &format!("{real}x"),
        &real[..real.len() - 1],
    ] {
        hub.get("/api/whoami-v2", Some(bearer)).expect_error(401);
        hub.get("/api/tokens", Some(bearer)).expect_error(401);
    }
    for header in [
        "Bearer",
        "Bearer ",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
        &format!("Token {real}"),
    ] {
        let resp = hub.send(
            hub.request(Method::GET, "/api/whoami-v2", None)
                .header("authorization", header),
        );
        resp.expect_error(401);
    }
    hub.get("/api/whoami-v2", None).expect_error(401);
    hub.get("/healthz", None).expect_status(200);
    assert_eq!(hub.whoami(&real)["name"], "alice");
    let _ = alice;
}
