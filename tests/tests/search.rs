//! Search through the real server: the index follows commits, visibility changes and deletions
//! at once; a missing or corrupt index is rebuilt at start; `grove reindex` rebuilds it; a second
//! server over the same database keeps its own index current; bad queries get a 4xx.

use grove_tests::{TestHub, Value, json};

fn card(front: &str, body: &str) -> Vec<u8> {
    format!("---\n{front}\n---\n{body}\n").into_bytes()
}

fn create(hub: &TestHub, token: &str, name: &str, private: bool) {
    hub.post(
        "/api/repos/create",
        Some(token),
        &json!({"name": name, "private": private}),
    )
    .expect(200);
}

fn ids(v: &Value) -> Vec<String> {
    let items = v.get("items").unwrap_or(v);
    let mut out: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn search(hub: &TestHub, query: &str, token: Option<&str>) -> Value {
    hub.get(&format!("/api/search/models?{query}"), token)
        .expect(200)
}

/// alice's three models: a German legal one (public), a radiology one (public), a private one.
fn seed(hub: &TestHub) -> String {
    hub.user("alice");
    let token = hub.token("alice", "write");
    create(hub, &token, "lex-de", false);
    hub.commit_files(
        &token,
        "alice/lex-de",
        &[(
            "README.md",
            card(
                "license: mit\nlanguage: [de]\npipeline_tag: text-generation",
                "A legal-domain model for German contract law.",
            ),
        )],
    );
    create(hub, &token, "rad-sum", false);
    hub.commit_files(
        &token,
        "alice/rad-sum",
        &[(
            "README.md",
            card(
                "license: apache-2.0\nlanguage: [en]",
                "Radiology report summarization.",
            ),
        )],
    );
    create(hub, &token, "secret-legal", true);
    hub.commit_files(
        &token,
        "alice/secret-legal",
        &[(
            "README.md",
            card("license: mit\nlanguage: [de]", "Unreleased legal model."),
        )],
    );
    token
}

#[test]
fn search_follows_commits_visibility_and_deletion() {
    let hub = TestHub::start();
    let token = seed(&hub);
    // Found right after the commit, with facets counted over the filtered result.
    let r = search(&hub, "q=legal+german&facets=license,language", None);
    assert_eq!(ids(&r), ["alice/lex-de"]);
    assert_eq!(r["facets"]["license"], json!({"mit": 1}));
    assert_eq!(r["total"], 1);
    // The owner also finds (and counts) the private one.
    let r = search(&hub, "q=legal&facets=license", Some(&token));
    assert_eq!(ids(&r), ["alice/lex-de", "alice/secret-legal"]);
    assert_eq!(r["facets"]["license"], json!({"mit": 2}));
    // A facet filter and the Hub listing with the same engine.
    assert_eq!(
        ids(&search(&hub, "license=apache-2.0", None)),
        ["alice/rad-sum"]
    );
    let listed = hub
        .get("/api/models?filter=license:mit&filter=language:de", None)
        .expect(200);
    assert_eq!(ids(&listed), ["alice/lex-de"]);
    // A new commit changes what the card says: searchable at once.
    hub.commit_files(
        &token,
        "alice/rad-sum",
        &[(
            "README.md",
            card("license: apache-2.0", "Now about tomato gardening."),
        )],
    );
    assert_eq!(ids(&search(&hub, "q=tomato", None)), ["alice/rad-sum"]);
    assert!(ids(&search(&hub, "q=radiology", None)).is_empty());
    // Visibility changes and deletions too.
    hub.put(
        "/api/models/alice/lex-de/settings",
        Some(&token),
        &json!({"private": true}),
    )
    .expect(200);
    assert!(ids(&search(&hub, "q=legal", None)).is_empty());
    assert_eq!(
        search(&hub, "q=legal&facets=license", None)["facets"]["license"],
        json!({})
    );
    hub.put(
        "/api/models/alice/lex-de/settings",
        Some(&token),
        &json!({"private": false}),
    )
    .expect(200);
    assert_eq!(ids(&search(&hub, "q=legal", None)), ["alice/lex-de"]);
    hub.send(
        hub.request(
            grove_tests::Method::DELETE,
            "/api/repos/delete",
            Some(&token),
        )
        .json(&json!({"name": "lex-de", "organization": "alice"})),
    )
    .expect_status(200);
    assert!(ids(&search(&hub, "q=legal", None)).is_empty());
    // Suggestions: prefix of a name, visibility applied.
    let s = hub.get("/api/search/suggest?q=sec", None).expect(200);
    assert_eq!(s, json!([]));
    let s = hub
        .get("/api/search/suggest?q=sec", Some(&token))
        .expect(200);
    assert_eq!(s, json!([{"id": "alice/secret-legal"}]));
}

#[test]
fn a_missing_or_corrupt_index_is_rebuilt_and_reindex_rebuilds_it() {
    let mut hub = TestHub::start();
    seed(&hub);
    // While the server runs, reindex refuses to touch its index.
    let busy = hub.cli(["reindex"]);
    assert_eq!(busy.code(), Some(2), "{busy:?}");
    hub.stop();
    let out = hub.cli(["reindex"]);
    assert!(out.success().contains("indexed 3 repo(s)"), "{out:?}");
    // Corrupt the index: the server rebuilds it at start.
    let index_dir = hub.data_dir().join("search");
    std::fs::write(index_dir.join("meta.json"), b"{ not json").unwrap();
    hub.restart();
    assert_eq!(ids(&search(&hub, "q=legal", None)), ["alice/lex-de"]);
    hub.stop();
    std::fs::remove_dir_all(&index_dir).unwrap();
    hub.restart();
    assert_eq!(ids(&search(&hub, "q=radiology", None)), ["alice/rad-sum"]);
}

#[test]
fn a_second_server_over_the_same_database_keeps_its_own_index_current() {
    let hub = TestHub::start();
    let token = seed(&hub);
    let sibling = hub.start_sibling();
    let client = hub.client();
    let on_sibling = |q: &str| -> Value {
        client
            .get(format!("{}/api/search/models?{q}", sibling.base))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(ids(&on_sibling("q=legal")), ["alice/lex-de"]);
    create(&hub, &token, "fresh-model", false);
    hub.commit_files(
        &token,
        "alice/fresh-model",
        &[(
            "README.md",
            card("license: mit", "Kazoo music transcription."),
        )],
    );
    // The second server follows the change log: it sees the write within a second.
    let started = std::time::Instant::now();
    while ids(&on_sibling("q=kazoo")).is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "not indexed within a second"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(ids(&on_sibling("q=kazoo")), ["alice/fresh-model"]);
}

#[test]
fn bad_queries_get_a_clear_4xx_and_the_server_stays_up() {
    let hub = TestHub::start();
    seed(&hub);
    let long = "x".repeat(600);
    for (path, needle) in [
        (format!("/api/search/models?q={long}"), "longer than"),
        ("/api/models?sort=bogus".to_string(), "unknown sort"),
        (
            "/api/models?colour=red".to_string(),
            "unknown query parameter",
        ),
        (
            "/api/models?num_parameters=min:lots".to_string(),
            "parameter count",
        ),
        (
            "/api/search/models?license=mit&facets=colour".to_string(),
            "unknown facet",
        ),
        (
            "/api/search/models?created_after=yesterday".to_string(),
            "date",
        ),
        ("/api/search/suggest?q=a&limit=500".to_string(), "limit"),
        ("/api/models?cursor=bzo5OTk5OTk5OQ".to_string(), "offset"),
    ] {
        let msg = hub.get(&path, None).expect_error(400);
        assert!(msg.contains(needle), "{path}: {msg}");
    }
    // Syntax characters, unbalanced quotes and broken UTF-8 are searched literally.
    for q in [
        "title%3Ax+AND+(y+OR+z*)",
        "%22unbalanced",
        "%FF%FE%FD",
        "%5C%5C%5C",
    ] {
        hub.get(&format!("/api/search/models?q={q}"), None)
            .expect(200);
    }
    // A huge limit is clamped to the largest page.
    let all = hub.get("/api/models?limit=100000", None).expect(200);
    assert_eq!(ids(&all), ["alice/lex-de", "alice/rad-sum"]);
    // Parameter and date ranges parse.
    hub.get("/api/models?num_parameters=min:1B,max:7.5B", None)
        .expect(200);
    hub.get(
        "/api/search/models?created_after=2020-01-01&updated_before=2100-01-01T00:00:00Z",
        None,
    )
    .expect(200);
}
