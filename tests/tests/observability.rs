//! Metrics and logs: requests counted by route pattern, and no secret ever in the logs.

use grove_tests::metrics::{find, sum};
use grove_tests::{Method, TestHub, Value, json};

const REQUESTS: &str = "grove_http_requests_total";

#[test]
fn metrics_count_requests_by_route_pattern() {
    let hub = TestHub::start();
    hub.user("alice");
    let token = hub.token("alice", "admin");
    hub.get("/api/users/alice/overview", None)
        .expect_status(200);
    hub.get("/api/users/alice/overview", None)
        .expect_status(200);
    hub.get("/api/users/nobody-here/overview", None)
        .expect_error(404);
    hub.delete("/api/tokens/no-such-id-12345", Some(&token))
        .expect_error(404);

    let resp = hub.get("/metrics", None);
    resp.expect_status(200);
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "metrics Content-Type {content_type:?}"
    );
    let text = resp.body.clone();
    let samples = grove_tests::metrics::parse(&text);

    let overview = "/api/users/{name}/overview";
    let get_ok = [("method", "GET"), ("route", overview), ("status", "200")];
    assert_eq!(sum(&samples, REQUESTS, &get_ok), 2.0, "{text}");
    let get_404 = [("method", "GET"), ("route", overview), ("status", "404")];
    assert_eq!(sum(&samples, REQUESTS, &get_404), 1.0, "{text}");
    let delete = [
        ("method", "DELETE"),
        ("route", "/api/tokens/{id}"),
        ("status", "404"),
    ];
    assert_eq!(sum(&samples, REQUESTS, &delete), 1.0, "{text}");

    // The raw paths never become label values.
    for raw in ["alice", "nobody-here", "no-such-id-12345"] {
        let leaked: Vec<_> = samples
            .iter()
            .filter(|s| s.labels.values().any(|v| v.contains(raw)))
            .collect();
        assert!(
            leaked.is_empty(),
            "raw path part {raw:?} in labels: {leaked:?}"
        );
    }

    // The duration histogram, by method and route.
    let count = sum(
        &samples,
        "grove_http_request_duration_seconds_count",
        &[("method", "GET"), ("route", overview)],
    );
    assert_eq!(count, 3.0, "{text}");
    let buckets = find(
        &samples,
        "grove_http_request_duration_seconds_bucket",
        &[("method", "GET"), ("route", overview), ("le", "+Inf")],
    );
    assert_eq!(buckets.iter().map(|s| s.value).sum::<f64>(), 3.0, "{text}");
    assert!(
        !find(
            &samples,
            "grove_http_request_duration_seconds_sum",
            &[("route", overview)]
        )
        .is_empty()
    );

    // Byte counters exist and have counted something.
    assert!(
        sum(&samples, "grove_http_response_bytes_total", &[]) > 0.0,
        "{text}"
    );
    assert!(
        !find(&samples, "grove_http_request_bytes_total", &[]).is_empty(),
        "no grove_http_request_bytes_total: {text}"
    );
}

#[test]
fn metrics_count_each_new_request() {
    let hub = TestHub::start();
    let labels = [("method", "GET"), ("route", "/healthz"), ("status", "200")];
    let before = sum(&hub.metrics(), REQUESTS, &labels);
    for _ in 0..3 {
        hub.get("/healthz", None).expect_status(200);
    }
    let after = sum(&hub.metrics(), REQUESTS, &labels);
    assert_eq!(after - before, 3.0);
}

#[test]
fn unmatched_paths_do_not_become_labels() {
    let hub = TestHub::start();
    for i in 0..5 {
        hub.get(&format!("/no-such-route-{i}/secretish"), None)
            .expect_error(404);
    }
    let text = hub.metrics_text();
    assert!(
        !text.contains("no-such-route"),
        "raw unmatched path in metrics:\n{text}"
    );
    assert!(
        !text.contains("secretish"),
        "raw unmatched path in metrics:\n{text}"
    );
    // Yet they are counted, as 404s.
    let samples = grove_tests::metrics::parse(&text);
    assert_eq!(
        sum(&samples, REQUESTS, &[("method", "GET"), ("status", "404")]),
        5.0,
        "{text}"
    );
}

/// Makes a hub handle every kind of secret, then returns the secrets.
fn handle_secrets(hub: &TestHub) -> Vec<String> {
    let mut secrets = Vec::new();
    let password = "Signup-Secret-Password-42";
    hub.post(
        "/api/signup",
        None,
        &json!({"username": "alice", "password": password, "email": "alice@example.com"}),
    )
    .expect_status(201);
    secrets.push(password.to_string());

    let wrong = "Wrong-Secret-Password-43";
    hub.post(
        "/api/login",
        None,
        &json!({"username": "alice", "password": wrong}),
    )
    .expect_error(401);
    hub.post(
        "/api/login",
        None,
        &json!({"username": "nobody", "password": wrong}),
    )
    .expect_error(401);
    secrets.push(wrong.to_string());

    let short = "Short-1";
    hub.signup("shorty", short).expect_error(400);
    secrets.push(short.to_string());

    let jwt = hub.login("alice", password);
    secrets.push(jwt.clone());
    secrets.push(jwt.rsplit_once('.').unwrap().1.to_string());

    let created = hub
        .post(
            "/api/tokens",
            Some(&jwt),
            &json!({"name": "t", "scope": "admin"}),
        )
        .expect(201);
    let token = created["token"].as_str().unwrap().to_string();
    hub.whoami(&token);
    hub.get("/api/tokens", Some(&token)).expect_status(200);
    secrets.push(token.clone());
    secrets.push(token.strip_prefix("grove_").unwrap().to_string());

    let cli_password = "Cli-Secret-Password-44";
    let out = hub.cli_stdin(["user", "create", "bob", "--password-stdin"], cli_password);
    out.success();
    assert!(!out.stderr.contains(cli_password) && !out.stdout.contains(cli_password));
    secrets.push(cli_password.to_string());
    let bob_jwt = hub.login("bob", cli_password);
    secrets.push(bob_jwt);

    let out = hub.cli(["token", "create", "bob", "--scope", "write"]);
    let cli_token = out.success().trim().to_string();
    assert!(
        !out.stderr.contains(&cli_token),
        "token create logs the token on stderr"
    );
    hub.whoami(&cli_token);
    secrets.push(cli_token);

    // Credentials that fail: still secrets.
    let near_miss = format!("{token}X");
    hub.get("/api/whoami-v2", Some(&near_miss))
        .expect_error(401);
    let tampered = grove_tests::jwt::flip_signature(&jwt);
    hub.get("/api/whoami-v2", Some(&tampered)).expect_error(401);
    secrets.push(tampered);
    // Cookie.
    let resp = hub.send(
        hub.request(Method::GET, "/api/whoami-v2", None)
            .header("cookie", format!("grove_session={jwt}")),
    );
    resp.expect_status(200);

    // Logout last (the JWT stays a secret after).
    hub.send(hub.request(Method::POST, "/api/logout", Some(&jwt)))
        .expect_status(204);
    hub.get("/api/whoami-v2", Some(&jwt)).expect_error(401);

    secrets.push(hub.session_key());
    secrets
}

fn assert_no_secrets(logs: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(!secret.is_empty());
        if let Some(line) = logs.lines().find(|l| l.contains(secret.as_str())) {
            panic!("a secret appears in the hub's logs, in the line: {line}");
        }
    }
}

#[test]
fn secrets_never_in_logs() {
    let hub = TestHub::start();
    let secrets = handle_secrets(&hub);
    assert_no_secrets(&hub.logs(), &secrets);
}

#[test]
fn secrets_never_in_json_debug_logs() {
    let hub = TestHub::builder()
        .args(["--log-format", "json"])
        .env("RUST_LOG", "debug")
        .start();
    let secrets = handle_secrets(&hub);
    let logs = hub.logs();
    assert_no_secrets(&logs, &secrets);
}

#[test]
fn json_log_format_writes_json_lines() {
    let hub = TestHub::builder().args(["--log-format", "json"]).start();
    hub.user("alice");
    hub.get("/api/users/alice/overview", None)
        .expect_status(200);
    hub.get("/nope", None).expect_error(404);
    let logs = hub.logs();
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(
            parsed.is_ok_and(|v| v.is_object()),
            "not a JSON log line: {line}"
        );
    }
}
