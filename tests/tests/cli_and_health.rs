//! The README path, the operational endpoints and the command line.

use grove_tests::checks::{
    assert_account, assert_close, assert_date, assert_keys, assert_nonempty_str,
    assert_token_format,
};
use grove_tests::{TestHub, json};

/// The README path: `grove user create`, `grove token create`, then `GET /api/whoami-v2`.
#[test]
fn readme_path_user_token_whoami() {
    let hub = TestHub::start();
    let alice = hub.user("alice");
    assert_account(&alice.account, "user", "alice");
    assert_eq!(alice.account["isAdmin"], false);

    let token = hub.token("alice", "write");
    assert_token_format(&token);

    let me = hub.whoami(&token);
    assert_keys(
        &me,
        &[
            "type", "id", "name", "fullname", "email", "isPro", "canPay", "orgs", "auth",
        ],
    );
    assert_eq!(me["type"], "user");
    assert_eq!(me["id"], alice.account["id"]);
    assert_eq!(me["name"], "alice");
    assert_eq!(me["isPro"], false);
    assert_eq!(me["canPay"], false);
    assert_eq!(me["orgs"], json!([]));
    assert_keys(&me["auth"], &["type", "accessToken"]);
    assert_eq!(me["auth"]["type"], "access_token");
    assert_keys(&me["auth"]["accessToken"], &["displayName", "role"]);
    assert_eq!(me["auth"]["accessToken"]["role"], "write");
    assert!(me["auth"]["accessToken"]["displayName"].is_string());
}

#[test]
fn serve_prints_exactly_one_line_to_stdout() {
    let hub = TestHub::start();
    // Some traffic, including errors, must not add anything to stdout.
    hub.get("/healthz", None).expect_status(200);
    hub.signup("alice", "a-long-password").expect_status(201);
    hub.post(
        "/api/login",
        None,
        &json!({"username": "alice", "password": "wrong-password"}),
    )
    .expect_error(401);
    hub.get("/no/such/route", None).expect_error(404);
    hub.user("bob");
    let lines = hub.stdout_lines();
    assert_eq!(lines, vec![format!("listening on {}", hub.base_url())]);
    let addr = hub
        .base_url()
        .strip_prefix("http://127.0.0.1:")
        .expect("listens on 127.0.0.1");
    let port: u16 = addr.parse().expect("the address ends in a port");
    assert_ne!(port, 0, "port 0 must be resolved to the real port");
}

#[test]
fn healthz_is_ok() {
    let hub = TestHub::start();
    let resp = hub.get("/healthz", None);
    assert_eq!(resp.expect(200), json!({"status": "ok"}));
    assert!(
        resp.is_json(),
        "healthz Content-Type: {:?}",
        resp.header("content-type")
    );
}

#[test]
fn readyz_reports_database_and_storage() {
    let hub = TestHub::start();
    let resp = hub.get("/readyz", None);
    assert_eq!(resp.expect(200), json!({"database": "ok", "storage": "ok"}));
    assert!(resp.is_json());
}

/// With the default storage `file://<data-dir>/objects` replaced by a plain file, the store is
/// unreachable and readiness must say so.
#[test]
fn readyz_is_503_when_storage_is_unreachable() {
    let hub = TestHub::builder().default_storage().start();
    hub.get("/readyz", None).expect_status(200);
    let objects = hub.data_dir().join("objects");
    if objects.is_dir() {
        std::fs::remove_dir_all(&objects).unwrap();
    }
    std::fs::write(&objects, b"not a directory").unwrap();
    let resp = hub.get("/readyz", None);
    resp.expect_status(503);
    let body = resp.json();
    assert_eq!(body["database"], "ok", "{body}");
    assert_ne!(body["storage"], "ok", "{body}");
    // Liveness is a different question.
    hub.get("/healthz", None).expect_status(200);
}

#[test]
fn openapi_lists_every_endpoint_of_the_contract() {
    let hub = TestHub::start();
    let spec = hub.get("/api/openapi.json", None).expect(200);
    let version = assert_nonempty_str(&spec["openapi"]);
    assert!(version.starts_with("3.1"), "openapi version {version}");
    assert!(spec["info"]["title"].is_string(), "info.title missing");
    let paths = spec["paths"].as_object().expect("paths is an object");
    let expected: &[(&str, &[&str])] = &[
        ("/api/signup", &["post"]),
        ("/api/login", &["post"]),
        ("/api/logout", &["post"]),
        ("/api/whoami-v2", &["get"]),
        ("/api/tokens", &["get", "post"]),
        ("/api/tokens/{id}", &["delete"]),
        ("/api/organizations", &["post"]),
        ("/api/organizations/{name}", &["get"]),
        ("/api/organizations/{name}/members", &["get"]),
        (
            "/api/organizations/{name}/members/{user}",
            &["put", "delete"],
        ),
        ("/api/users/{name}/overview", &["get"]),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
        ("/metrics", &["get"]),
        ("/api/openapi.json", &["get"]),
    ];
    let mut missing = Vec::new();
    for (path, methods) in expected {
        for method in *methods {
            if paths.get(*path).and_then(|p| p.get(*method)).is_none() {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "openapi.json lacks {missing:?}; it has {:?}",
        paths.keys().collect::<Vec<_>>()
    );
}

#[test]
fn cli_user_create_prints_the_account() {
    let hub = TestHub::start();
    let out = hub.cli_stdin(
        [
            "user",
            "create",
            "bob",
            "--email",
            "bob@example.com",
            "--fullname",
            "Bob Builder",
            "--password-stdin",
        ],
        "bob-password-1",
    );
    out.success();
    let account = out.json();
    assert_account(&account, "user", "bob");
    assert_eq!(account["fullname"], "Bob Builder");
    assert_eq!(account["isAdmin"], false);
    assert_close(assert_date(&account["createdAt"]), chrono::Utc::now(), 120);

    // The same account over HTTP, and the password works.
    assert_eq!(
        hub.get("/api/users/bob/overview", None).expect(200),
        account
    );
    let jwt = hub.login("bob", "bob-password-1");
    let me = hub.whoami(&jwt);
    assert_eq!(me["email"], "bob@example.com");
    assert_eq!(me["fullname"], "Bob Builder");
    assert_eq!(me["id"], account["id"]);
}

#[test]
fn cli_user_create_admin() {
    let hub = TestHub::start();
    let boss = hub.user_with("boss", &["--admin"]);
    assert_account(&boss.account, "user", "boss");
    assert_eq!(boss.account["isAdmin"], true);
    let overview = hub.get("/api/users/boss/overview", None).expect(200);
    assert_eq!(overview["isAdmin"], true);
    let plain = hub.user("plain");
    assert_eq!(plain.account["isAdmin"], false);
}

#[test]
fn cli_token_create_prints_only_the_token() {
    let hub = TestHub::start();
    let alice = hub.user("alice");
    let out = hub.cli([
        "token",
        "create",
        "alice",
        "--scope",
        "read",
        "--name",
        "laptop",
        "--expires-in-days",
        "7",
    ]);
    let stdout = out.success();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "token create printed more than the token: {stdout:?}"
    );
    let token = lines[0].trim();
    assert_token_format(token);
    assert_eq!(stdout.trim(), token);

    let me = hub.whoami(token);
    assert_eq!(me["auth"]["accessToken"]["role"], "read");
    assert_eq!(me["auth"]["accessToken"]["displayName"], "laptop");

    let jwt = hub.login("alice", &alice.password);
    let list = hub.get("/api/tokens", Some(&jwt)).expect(200);
    let tokens = list["tokens"].as_array().expect("tokens array");
    assert_eq!(tokens.len(), 1, "{list}");
    assert_eq!(tokens[0]["name"], "laptop");
    assert_eq!(tokens[0]["scope"], "read");
    let expires = assert_date(&tokens[0]["expiresAt"]);
    assert_close(expires, chrono::Utc::now() + chrono::Duration::days(7), 120);
}

#[test]
fn cli_org_create_makes_the_owner_admin() {
    let hub = TestHub::start();
    let alice = hub.user("alice");
    let org = hub.org("acme", "alice");
    assert_account(&org, "org", "acme");
    assert_eq!(hub.get("/api/organizations/acme", None).expect(200), org);

    let token = hub.token("alice", "read");
    let me = hub.whoami(&token);
    let orgs = me["orgs"].as_array().expect("orgs array");
    assert_eq!(orgs.len(), 1, "{me}");
    assert_keys(&orgs[0], &["type", "id", "name", "fullname", "roleInOrg"]);
    assert_eq!(orgs[0]["type"], "org");
    assert_eq!(orgs[0]["id"], org["id"]);
    assert_eq!(orgs[0]["name"], "acme");
    assert_eq!(orgs[0]["roleInOrg"], "admin");

    let members = hub
        .get("/api/organizations/acme/members", Some(&token))
        .expect(200);
    assert_eq!(
        members,
        json!({"members": [{"name": "alice", "role": "admin"}]})
    );
    let _ = alice;
}

#[test]
fn cli_takes_data_dir_and_database_url_from_the_environment() {
    let hub = TestHub::start();
    let out = hub
        .cli_cmd(["user", "create", "carol", "--password-stdin"])
        .stdin("carol-password")
        .config_by_env()
        .run();
    out.success();
    assert_account(&out.json(), "user", "carol");
    // The running hub sees the user the CLI created.
    hub.login("carol", "carol-password");
}

#[test]
fn cli_migrate_is_idempotent() {
    let hub = TestHub::start();
    hub.user("alice");
    hub.cli(["migrate"]).success();
    hub.cli(["migrate"]).success();
    hub.get("/healthz", None).expect_status(200);
    hub.get("/api/users/alice/overview", None)
        .expect_status(200);
}

#[test]
fn cli_duplicate_user_fails() {
    let hub = TestHub::start();
    hub.user("alice");
    let before = hub.get("/api/users/alice/overview", None).expect(200);
    for name in ["alice", "Alice", "ALICE"] {
        let out = hub.cli_stdin(
            ["user", "create", name, "--password-stdin"],
            "another-password",
        );
        out.failure();
    }
    // The original account is untouched and keeps its password.
    assert_eq!(
        hub.get("/api/users/alice/overview", None).expect(200),
        before
    );
    hub.login("alice", &TestHub::password_for("alice"));
    hub.post(
        "/api/login",
        None,
        &json!({"username": "alice", "password": "another-password"}),
    )
    .expect_error(401);
}

#[test]
fn cli_token_for_unknown_user_fails() {
    let hub = TestHub::start();
    let out = hub.cli(["token", "create", "nobody", "--scope", "read"]);
    out.failure();
    assert!(
        !out.stdout.contains("grove_"),
        "printed a token anyway: {}",
        out.stdout
    );
}

#[test]
fn cli_bad_scope_is_exit_2() {
    let hub = TestHub::start();
    let alice = hub.user("alice");
    for scope in ["superuser", "", "READ"] {
        let out = hub.cli(["token", "create", "alice", "--scope", scope]);
        assert_eq!(out.failure(), 2, "scope {scope:?}: {}", out.stderr);
    }
    let out = hub.cli(["token", "create", "alice"]);
    assert_eq!(out.failure(), 2, "missing --scope: {}", out.stderr);
    let jwt = hub.login("alice", &alice.password);
    assert_eq!(
        hub.get("/api/tokens", Some(&jwt)).expect(200),
        json!({"tokens": []})
    );
}

#[test]
fn cli_bad_user_input_is_exit_2() {
    let hub = TestHub::start();
    for name in ["a b", "-x", "api", "settings", &"a".repeat(43)] {
        // `--` ends the options, so the data dir comes from the environment here.
        let out = hub
            .cli_cmd(["user", "create", "--password-stdin", "--", name])
            .stdin("long-enough-pw")
            .config_by_env()
            .run();
        assert_eq!(out.failure(), 2, "name {name:?}: {}", out.stderr);
    }
    let out = hub.cli_stdin(["user", "create", "shorty", "--password-stdin"], "short");
    assert_eq!(out.failure(), 2, "short password: {}", out.stderr);
    hub.get("/api/users/shorty/overview", None)
        .expect_error(404);
    let out = hub.cli_stdin(
        [
            "user",
            "create",
            "mailer",
            "--email",
            "not an email",
            "--password-stdin",
        ],
        "long-enough-pw",
    );
    assert_eq!(out.failure(), 2, "bad email: {}", out.stderr);
    hub.get("/api/users/mailer/overview", None)
        .expect_error(404);
    hub.user("valid");
    let out = hub.cli([
        "token",
        "create",
        "valid",
        "--scope",
        "read",
        "--expires-in-days",
        "0",
    ]);
    assert_eq!(out.failure(), 2, "expires-in-days 0: {}", out.stderr);
}

#[test]
fn cli_org_errors() {
    let hub = TestHub::start();
    hub.user("alice");
    hub.cli(["org", "create", "acme", "--owner", "nobody"])
        .failure();
    hub.get("/api/organizations/acme", None).expect_error(404);
    hub.org("acme", "alice");
    hub.cli(["org", "create", "acme", "--owner", "alice"])
        .failure();
    hub.cli(["org", "create", "ACME", "--owner", "alice"])
        .failure();
    hub.cli(["org", "create", "alice", "--owner", "alice"])
        .failure();
    let out = hub.cli(["org", "create", "new", "--owner", "alice"]);
    assert_eq!(out.failure(), 2, "reserved org name: {}", out.stderr);
}
