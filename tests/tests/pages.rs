//! The web UI's server-rendered pages through the real server: they render with data, carry the
//! security headers, never pass a card's HTML or script through, and answer for a private repo
//! exactly as for a missing one. (Browser journeys come with the UI issue's Chromium tests.)

use grove_tests::{TestHub, json};

const EVIL_CARD: &str = "---\nlicense: apache-2.0\npipeline_tag: text-generation\n\
    tags: [\"<img src=x onerror=alert(1)>\"]\n---\n\
    # Evil <script>alert(1)</script>\n\n\
    [click](javascript:alert(1)) <iframe src=\"https://evil.example\"></iframe>\n\n\
    | a | b |\n|---|---|\n| 1 | 2 |\n";

/// The page body with the `/` entity decoded (the templates escape `/` in text and attributes,
/// which browsers display as `/`).
fn text(page: &grove_tests::Resp) -> String {
    page.body.replace("&#x2f;", "/")
}

/// GET as a browser does (`Accept: text/html`): page URLs answer API clients with JSON errors.
fn browse(hub: &TestHub, path: &str, token: Option<&str>) -> grove_tests::Resp {
    let rb = hub
        .request(grove_tests::Method::GET, path, token)
        .header("accept", "text/html,application/xhtml+xml");
    hub.send(rb)
}

fn seed(hub: &TestHub) -> String {
    hub.user("alice");
    let token = hub.token("alice", "write");
    for (name, private) in [("evil-card", false), ("secret", true)] {
        hub.post(
            "/api/repos/create",
            Some(&token),
            &json!({"name": name, "private": private}),
        )
        .expect(200);
        hub.commit_files(
            &token,
            &format!("alice/{name}"),
            &[
                ("README.md", EVIL_CARD.as_bytes().to_vec()),
                ("weights.bin", vec![0u8; 3000]),
            ],
        );
    }
    token
}

#[test]
fn pages_render_safely_with_security_headers() {
    let hub = TestHub::start();
    let token = seed(&hub);
    for path in [
        "/",
        "/models",
        "/models?search=evil",
        "/datasets",
        "/alice/evil-card",
    ] {
        let page = browse(&hub, path, None);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        let lower = page.body.to_ascii_lowercase();
        assert!(
            !lower.contains("<script"),
            "{path}: a script tag reached the page"
        );
        assert!(!lower.contains("javascript:"), "{path}");
        assert!(!lower.contains("<iframe"), "{path}");
        assert!(!lower.contains("<img src=x"), "{path}");
    }
    let model = browse(&hub, "/alice/evil-card", None);
    let body = text(&model);
    assert!(
        body.contains("Evil &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
    assert!(body.contains("<table>") && body.contains("weights.bin"));
    assert!(body.contains("/alice/evil-card/resolve/"), "download links");
    let search = text(&browse(&hub, "/models?search=evil", None));
    assert!(
        search.contains("alice/evil-card") && !search.contains("alice/secret"),
        "{search}"
    );
    let css = browse(&hub, "/assets/grove.css", None);
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));

    // A private repo's page is the missing-page answer, byte for byte, for anyone without access.
    let hidden = browse(&hub, "/alice/secret", None);
    let missing = browse(&hub, "/alice/no-such-model", None);
    assert_eq!((hidden.status, missing.status), (404, 404));
    assert_eq!(hidden.body, missing.body);
    assert_eq!(browse(&hub, "/alice/secret", Some(&token)).status, 200);
    assert!(!text(&browse(&hub, "/", None)).contains("alice/secret"));
    assert!(text(&browse(&hub, "/", Some(&token))).contains("alice/secret"));

    // API paths keep their JSON answers; other methods on pages are not pages.
    // API clients (no `Accept: text/html`) get the JSON error envelope from page URLs too.
    let as_client = hub.get("/alice/no-such-model", None);
    assert_eq!(as_client.status, 404);
    assert!(
        as_client
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    let api = hub.get("/api/no-such-thing", None);
    assert_eq!(api.status, 404);
    assert!(
        api.header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    let post = hub.post("/alice/evil-card", None, &json!({}));
    assert_eq!(post.status, 404);
    assert_eq!(browse(&hub, "/evals/jobs/999", None).status, 404);
}

#[test]
fn the_family_graph_shows_visible_relatives_only() {
    let hub = TestHub::start();
    hub.user("alice");
    let token = hub.token("alice", "write");
    for (name, private, parent) in [
        ("base", false, None),
        ("kid", false, Some("alice/base")),
        ("hidden-kid", true, Some("alice/base")),
    ] {
        hub.post(
            "/api/repos/create",
            Some(&token),
            &json!({"name": name, "private": private}),
        )
        .expect(200);
        let card = match parent {
            Some(p) => format!("---\nbase_model: {p}\n---\n# {name}\n"),
            None => format!("# {name}\n"),
        };
        hub.commit_files(
            &token,
            &format!("alice/{name}"),
            &[("README.md", card.into_bytes())],
        );
    }
    // The lineage scan runs in the background: wait until both children are in the graph.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let owner_view = loop {
        let page = text(&browse(&hub, "/alice/base", Some(&token)));
        if page.contains("href=\"/alice/kid\"") && page.contains("href=\"/alice/hidden-kid\"") {
            break page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the family never appeared: {page}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(owner_view.contains("<svg class=\"dag\""));
    let public_view = text(&browse(&hub, "/alice/base", None));
    assert!(
        public_view.contains("<svg class=\"dag\"") && public_view.contains("href=\"/alice/kid\"")
    );
    assert!(
        !public_view.contains("hidden-kid"),
        "a private child leaked into the graph"
    );
    let kid = text(&browse(&hub, "/alice/kid", None));
    assert!(
        kid.contains("finetune of") && kid.contains("href=\"/alice/base\""),
        "{kid}"
    );
}

#[test]
fn history_files_and_account_pages() {
    let hub = TestHub::start();
    let token = seed(&hub);
    hub.commit_files(
        &token,
        "alice/evil-card",
        &[("notes/<b>.txt", b"line one\n<script>x</script>\n".to_vec())],
    );
    let history = text(&browse(&hub, "/alice/evil-card/commits", None));
    assert!(
        history.contains("add files") && history.matches("<li>").count() >= 3,
        "{history}"
    );
    let blob = browse(&hub, "/alice/evil-card/blob/main/notes/%3Cb%3E.txt", None);
    assert_eq!(blob.status, 200, "{}", blob.body);
    let body = text(&blob);
    assert!(
        body.contains("line one")
            && body.contains("&lt;script&gt;x&lt;/script&gt;")
            && !body.contains("<script>")
    );
    assert!(body.contains("notes/&lt;b&gt;.txt"), "the path is escaped");
    let weights = text(&browse(
        &hub,
        "/alice/evil-card/blob/main/weights.bin",
        None,
    ));
    assert!(
        weights.contains("3.0 kB") && weights.contains("Git LFS"),
        "{weights}"
    );
    assert_eq!(
        browse(&hub, "/alice/evil-card/blob/main/missing.txt", None).status,
        404
    );
    assert_eq!(
        browse(&hub, "/alice/secret/blob/main/README.md", None).status,
        404
    );
    assert_eq!(browse(&hub, "/alice/secret/commits", None).status, 404);
    let page = text(&browse(&hub, "/alice/evil-card", None));
    assert!(
        page.contains("branch: main") && page.contains("/alice/evil-card/commits?revision=main"),
        "{page}"
    );
    let account = text(&browse(&hub, "/alice", None));
    assert!(account.contains("alice/evil-card") && !account.contains("alice/secret"));
    assert!(text(&browse(&hub, "/alice", Some(&token))).contains("alice/secret"));
    assert_eq!(browse(&hub, "/nobody-here", None).status, 404);
    assert_eq!(browse(&hub, "/favicon.ico", None).status, 404);
}
