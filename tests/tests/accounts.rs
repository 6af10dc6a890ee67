//! Signup, account shapes, overview, whoami, and the rules for names, passwords and emails.

use grove_tests::checks::{assert_account, assert_close, assert_date, assert_keys};
use grove_tests::{TestHub, json};

#[test]
fn signup_creates_an_account() {
    let hub = TestHub::start();
    let resp = hub.post(
        "/api/signup",
        None,
        &json!({
            "username": "alice",
            "password": "alice-password",
            "email": "alice@example.com",
            "fullname": "Alice Liddell",
        }),
    );
    let account = resp.expect(201);
    assert_account(&account, "user", "alice");
    assert_eq!(account["fullname"], "Alice Liddell");
    assert_eq!(account["isAdmin"], false);
    assert_close(assert_date(&account["createdAt"]), chrono::Utc::now(), 120);
    assert!(
        !resp.body.contains("alice@example.com"),
        "signup response shows the email"
    );
    assert!(
        !resp.body.contains("alice-password"),
        "signup response shows the password"
    );

    let overview = hub.get("/api/users/alice/overview", None).expect(200);
    assert_eq!(overview, account);

    let jwt = hub.login("alice", "alice-password");
    let me = hub.whoami(&jwt);
    assert_keys(
        &me,
        &[
            "type", "id", "name", "fullname", "email", "isPro", "canPay", "orgs", "auth",
        ],
    );
    assert_eq!(me["type"], "user");
    assert_eq!(me["id"], account["id"]);
    assert_eq!(me["name"], "alice");
    assert_eq!(me["fullname"], "Alice Liddell");
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["isPro"], false);
    assert_eq!(me["canPay"], false);
    assert_eq!(me["orgs"], json!([]));
    assert_eq!(me["auth"], json!({"type": "session"}));
}

#[test]
fn signup_with_only_username_and_password() {
    let hub = TestHub::start();
    let account = hub.signup("bob", "bob-password").expect(201);
    assert_account(&account, "user", "bob");
    hub.login("bob", "bob-password");
}

#[test]
fn account_ids_are_distinct() {
    let hub = TestHub::start();
    let a = hub.signup("alice", "alice-password").expect(201);
    let b = hub.signup("bob", "bob-password").expect(201);
    assert_ne!(a["id"], b["id"]);
}

#[test]
fn overview_of_unknown_user_is_404() {
    let hub = TestHub::start();
    hub.get("/api/users/nobody/overview", None)
        .expect_error(404);
}

#[test]
fn whoami_needs_a_credential() {
    let hub = TestHub::start();
    hub.get("/api/whoami-v2", None).expect_error(401);
}

#[test]
fn names_are_unique_without_regard_to_case() {
    let hub = TestHub::start();
    hub.signup("alice", "alice-password").expect_status(201);
    let before = hub.get("/api/users/alice/overview", None).expect(200);
    for name in ["alice", "Alice", "ALICE", "aLiCe"] {
        hub.signup(name, "other-password").expect_error(409);
    }
    // The CLI agrees.
    hub.cli_stdin(
        ["user", "create", "Alice", "--password-stdin"],
        "other-password",
    )
    .failure();
    assert_eq!(
        hub.get("/api/users/alice/overview", None).expect(200),
        before
    );
    hub.login("alice", "alice-password");
    hub.post(
        "/api/login",
        None,
        &json!({"username": "alice", "password": "other-password"}),
    )
    .expect_error(401);
}

#[test]
fn name_length_limits() {
    let hub = TestHub::start();
    let max = "a".repeat(42);
    assert_account(&hub.signup(&max, "long-enough").expect(201), "user", &max);
    hub.signup("b", "long-enough").expect_status(201);
    let over = "c".repeat(43);
    hub.signup(&over, "long-enough").expect_error(400);
    hub.get(&format!("/api/users/{over}/overview"), None)
        .expect_error_in(&[400, 404]);
    hub.signup("", "long-enough").expect_error(400);
}

#[test]
fn names_with_dots_dashes_and_underscores_are_valid() {
    let hub = TestHub::start();
    for name in ["a.b", "a_b", "a-b", "A1", "9lives", "x.y-z_w"] {
        let account = hub.signup(name, "long-enough").expect(201);
        assert_account(&account, "user", name);
    }
}

#[test]
fn invalid_names_are_400_and_create_nothing() {
    let hub = TestHub::start();
    let invalid = [
        "-x", "_x", ".x", "a b", "a/b", "ä", "aä", "a@b", "a:b", "a\\b", "a\nb", "a%b", "ab.git",
        "a..b", "a--b", " a", "a ",
    ];
    for name in invalid {
        let message = hub.signup(name, "long-enough").expect_error(400);
        assert!(!message.is_empty());
    }
    // Nothing was created: none of them can log in.
    for name in invalid {
        hub.post(
            "/api/login",
            None,
            &json!({"username": name, "password": "long-enough"}),
        )
        .expect_error_in(&[400, 401]);
    }
}

#[test]
fn reserved_names_are_400() {
    let hub = TestHub::start();
    for name in [
        "api",
        "new",
        "settings",
        "login",
        "logout",
        "signup",
        "models",
        "datasets",
        "spaces",
        "organizations",
        "admin",
        "static",
        "docs",
    ] {
        hub.signup(name, "long-enough").expect_error(400);
        hub.post(
            "/api/login",
            None,
            &json!({"username": name, "password": "long-enough"}),
        )
        .expect_error_in(&[400, 401]);
    }
}

#[test]
fn password_length_is_counted_in_bytes() {
    let hub = TestHub::start();
    hub.signup("short", "1234567").expect_error(400);
    hub.get("/api/users/short/overview", None).expect_error(404);
    hub.signup("eight", "12345678").expect_status(201);
    hub.login("eight", "12345678");

    // Four two-byte characters are eight bytes.
    hub.signup("umlaut", "ääää").expect_status(201);
    hub.login("umlaut", "ääää");
    // ...and three are six.
    hub.signup("umlaut3", "äää").expect_error(400);

    let max = "p".repeat(1024);
    hub.signup("longest", &max).expect_status(201);
    hub.login("longest", &max);
    hub.signup("toolong", &"p".repeat(1025)).expect_error(400);
    // 513 two-byte characters: 513 characters, 1026 bytes.
    hub.signup("toolong2", &"ä".repeat(513)).expect_error(400);
    for name in ["short", "umlaut3", "toolong", "toolong2"] {
        hub.get(&format!("/api/users/{name}/overview"), None)
            .expect_error(404);
    }
}

#[test]
fn email_rules() {
    let hub = TestHub::start();
    let long_local = "a".repeat(250);
    let too_long = format!("{long_local}@b.cd"); // 255 bytes
    for (i, email) in [
        "nobody",
        "a@@b.c",
        "a@b@c",
        "a b@c.d",
        "a@b .c",
        too_long.as_str(),
    ]
    .iter()
    .enumerate()
    {
        let name = format!("mail{i}");
        hub.post(
            "/api/signup",
            None,
            &json!({"username": name, "password": "long-enough", "email": email}),
        )
        .expect_error(400);
        hub.get(&format!("/api/users/{name}/overview"), None)
            .expect_error(404);
    }
    let just_fits = format!("{}@b.c", "a".repeat(250)); // 254 bytes
    hub.post(
        "/api/signup",
        None,
        &json!({"username": "fits", "password": "long-enough", "email": just_fits}),
    )
    .expect_status(201);
    let jwt = hub.login("fits", "long-enough");
    assert_eq!(hub.whoami(&jwt)["email"], just_fits);
}

#[test]
fn disable_signup_refuses_signup_but_not_the_cli() {
    let hub = TestHub::builder().disable_signup().start();
    hub.signup("alice", "alice-password").expect_error(403);
    hub.get("/api/users/alice/overview", None).expect_error(404);
    let bob = hub.user("bob");
    hub.login("bob", &bob.password);
}

#[test]
fn disable_signup_from_the_environment() {
    let hub = TestHub::builder()
        .env("GROVE_DISABLE_SIGNUP", "true")
        .start();
    hub.signup("alice", "alice-password").expect_error(403);
    hub.get("/api/users/alice/overview", None).expect_error(404);
}

#[test]
fn signup_is_open_by_default() {
    let hub = TestHub::start();
    hub.signup("alice", "alice-password").expect_status(201);
}
