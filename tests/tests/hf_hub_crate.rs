//! The Rust `hf-hub` crate's download API against the real `grove` binary: what Rust users
//! (candle, mistral.rs, text-embeddings-inference…) use to fetch weights.

use grove_tests::TestHub;
use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Repo, RepoType};
use serde_json::json;

fn api(hub: &TestHub, token: Option<String>, cache: &std::path::Path) -> hf_hub::api::sync::Api {
    ApiBuilder::new()
        .with_endpoint(hub.base_url().to_string())
        .with_token(token)
        .with_cache_dir(cache.to_path_buf())
        .with_progress(false)
        .build()
        .unwrap()
}

/// Deterministic binary content (it has NUL bytes, so the hub stores it as LFS).
fn weights(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) % 251) as u8).collect()
}

#[test]
fn hf_hub_downloads_regular_and_lfs_files_by_branch_tag_and_commit() {
    let hub = TestHub::start();
    hub.user("alice");
    let token = hub.token("alice", "write");
    hub.post("/api/repos/create", Some(&token), &json!({"name": "tiny"}))
        .expect(200);
    let config = br#"{"model_type": "llama", "hidden_size": 8}"#.to_vec();
    let model = weights(3 * 1024 * 1024 + 17);
    let first = hub.commit_files(
        &token,
        "alice/tiny",
        &[
            ("config.json", config.clone()),
            ("model.safetensors", model.clone()),
        ],
    );
    hub.post(
        "/api/models/alice/tiny/tag/main",
        Some(&token),
        &json!({"tag": "v1"}),
    )
    .expect(200);
    let second = hub.commit_files(&token, "alice/tiny", &[("config.json", b"{}".to_vec())]);

    let cache = tempfile::tempdir().unwrap();
    let api = api(&hub, Some(token.clone()), cache.path());
    let main = api.model("alice/tiny".to_string());
    assert_eq!(
        std::fs::read(main.get("config.json").unwrap()).unwrap(),
        b"{}"
    );
    assert_eq!(
        std::fs::read(main.get("model.safetensors").unwrap()).unwrap(),
        model
    );
    let info = main.info().unwrap();
    assert_eq!(info.sha, second);
    let mut names: Vec<_> = info.siblings.iter().map(|s| s.rfilename.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        [".gitattributes", "config.json", "model.safetensors"]
    );

    // Older versions stay downloadable, by tag and by commit id.
    for rev in ["v1".to_string(), first.clone()] {
        let repo = api.repo(Repo::with_revision(
            "alice/tiny".into(),
            RepoType::Model,
            rev,
        ));
        assert_eq!(
            std::fs::read(repo.get("config.json").unwrap()).unwrap(),
            config
        );
    }
}

#[test]
fn hf_hub_cannot_see_private_repos_without_access() {
    let hub = TestHub::start();
    hub.user("alice");
    hub.user("mallory");
    let token = hub.token("alice", "write");
    hub.post(
        "/api/repos/create",
        Some(&token),
        &json!({"name": "secret", "visibility": "private"}),
    )
    .expect(200);
    hub.commit_files(&token, "alice/secret", &[("config.json", b"{}".to_vec())]);

    let cache = tempfile::tempdir().unwrap();
    let other = hub.token("mallory", "read");
    for credential in [None, Some(other)] {
        let api = api(&hub, credential, cache.path());
        assert!(api.model("alice/secret".into()).get("config.json").is_err());
        assert!(api.model("alice/secret".into()).info().is_err());
    }
    let owner = api(&hub, Some(token), cache.path());
    assert_eq!(
        std::fs::read(
            owner
                .model("alice/secret".into())
                .get("config.json")
                .unwrap()
        )
        .unwrap(),
        b"{}"
    );
}
