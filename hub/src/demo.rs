//! `grove serve --demo`: on an empty hub, seed a small world so every page has something to
//! show: two users and an organisation, a family of tiny generated llama models with real
//! lineage (base, fine-tunes in several domains and languages, a LoRA adapter, a merge, a Q8_0
//! GGUF), the built-in eval tasks and a suite, eval jobs for every model, and, when the
//! `grove-worker` binary sits next to `grove`, a worker that runs them to the end.
//!
//! Everything goes through the hub's own HTTP API (repos, commits, eval submissions), so the
//! demo exercises the same paths as real users; only the accounts are made directly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use grove_eval_runner::tiny::{self, TinyShape, Weights};
use serde_json::{Value, json};

use crate::accounts::users::{self, NewUser};
use crate::accounts::{Access, orgs, password, tokens};
use crate::db::Db;
use crate::names::AccountName;

/// The password of the demo accounts (printed in the log).
pub const DEMO_PASSWORD: &str = "grove-demo-password";
pub const ORG: &str = "grove-lab";

struct Client {
    http: reqwest::blocking::Client,
    base: String,
}

impl Client {
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let res = rb.send()?;
        let status = res.status();
        let text = res.text()?;
        anyhow::ensure!(status.is_success(), "{path}: {status}: {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn create_repo(&self, token: &str, id: &str, kind: &str) -> anyhow::Result<()> {
        let (owner, name) = id.split_once('/').unwrap_or(("", id));
        let mut body = json!({"name": name, "type": kind});
        if owner == ORG {
            body["organization"] = json!(ORG);
        }
        self.call(
            reqwest::Method::POST,
            "/api/repos/create",
            token,
            Some(body),
        )
        .map(|_| ())
    }

    /// One commit with every file of `dir` (flat), through the NDJSON commit API.
    fn upload_dir(&self, token: &str, id: &str, kind: &str, dir: &Path) -> anyhow::Result<()> {
        let mut body =
            json!({"key": "header", "value": {"summary": "Upload from the demo seeder"}})
                .to_string();
        body.push('\n');
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let bytes = std::fs::read(e.path())?;
            let line = json!({"key": "file", "value": {
                "content": base64::engine::general_purpose::STANDARD.encode(bytes),
                "path": e.file_name().to_string_lossy(), "encoding": "base64"}});
            body.push_str(&line.to_string());
            body.push('\n');
        }
        let res = self
            .http
            .post(format!("{}/api/{kind}s/{id}/commit/main", self.base))
            .bearer_auth(token)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()?;
        anyhow::ensure!(
            res.status().is_success(),
            "commit to {id}: {}: {}",
            res.status(),
            res.text()?
        );
        Ok(())
    }
}

fn card(front: &str, title: &str, body: &str) -> String {
    format!("---\n{front}---\n\n# {title}\n\n{body}\n")
}

/// The models of the demo world: (repo id, folder, card).
fn write_models(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let shape = TinyShape::TINY;
    let base = tiny::base_weights(&shape, 11);
    let chat = tiny::finetune(&base, 12, 3);
    let code = tiny::finetune(&base, 13, 4);
    let legal = tiny::finetune(&base, 14, 5);
    let medical = tiny::finetune(&base, 15, 6);
    let chat_v2 = tiny::finetune(&chat, 16, 5);
    let merged = tiny::linear_merge(&chat, &code, 0.5);
    let base_id = format!("{ORG}/tiny-base");
    let with_parent = |p: &str, rel: &str| format!("base_model: {p}\nbase_model_relation: {rel}\n");
    let models: Vec<(String, &Weights, String)> = vec![
        (
            base_id.clone(),
            &base,
            card(
                "license: apache-2.0\nlanguage: [en]\npipeline_tag: text-generation\ntags: [tiny, llama, base]\n",
                "Tiny base",
                "A deterministic, tiny llama-family base model (2 layers, 64 hidden units), generated for this demo. Every other model here descends from it.",
            ),
        ),
        (
            format!("{ORG}/tiny-chat"),
            &chat,
            card(
                &format!(
                    "license: apache-2.0\nlanguage: [en]\npipeline_tag: text-generation\ntags: [chat, assistant]\n{}",
                    with_parent(&base_id, "finetune")
                ),
                "Tiny chat",
                "The base, fine-tuned for friendly multi-turn chat. A third of its matrices moved; the rest are byte-identical to the base, which the hub verifies from the weights.",
            ),
        ),
        (
            format!("{ORG}/tiny-code"),
            &code,
            card(
                &format!(
                    "license: mit\nlanguage: [en]\npipeline_tag: text-generation\ntags: [code, python]\n{}",
                    with_parent(&base_id, "finetune")
                ),
                "Tiny code",
                "Fine-tuned on Python and Rust snippets.\n\n```python\ndef add(a, b):\n    return a + b\n```",
            ),
        ),
        (
            "ada/rechts-tiny".into(),
            &legal,
            card(
                &format!(
                    "license: cc-by-4.0\nlanguage: [de]\npipeline_tag: text-generation\ntags: [legal, german]\n{}",
                    with_parent(&base_id, "finetune")
                ),
                "Rechts-Tiny",
                "Ein winziges Modell für deutsches Vertragsrecht, feinabgestimmt auf Mustertexte. Nur für Demonstrationszwecke.",
            ),
        ),
        (
            "lin/radiologie-tiny".into(),
            &medical,
            card(
                &format!(
                    "license: cc-by-nc-4.0\nlanguage: [fr]\npipeline_tag: summarization\ntags: [medical, radiology, french]\n{}",
                    with_parent(&base_id, "finetune")
                ),
                "Radiologie-Tiny",
                "Un petit modèle qui résume des comptes rendus de radiologie en français. Démonstration uniquement : ne pas utiliser en clinique.",
            ),
        ),
        (
            "ada/tiny-chat-v2".into(),
            &chat_v2,
            card(
                &format!(
                    "license: apache-2.0\nlanguage: [en]\npipeline_tag: text-generation\ntags: [chat]\n{}",
                    with_parent(&format!("{ORG}/tiny-chat"), "finetune")
                ),
                "Tiny chat v2",
                "A second round of chat tuning on top of tiny-chat.",
            ),
        ),
        (
            format!("{ORG}/tiny-merge"),
            &merged,
            card(
                &format!(
                    "license: apache-2.0\nlanguage: [en]\npipeline_tag: text-generation\ntags: [merge, mergekit]\nbase_model: [{ORG}/tiny-chat, {ORG}/tiny-code]\nbase_model_relation: merge\n"
                ),
                "Tiny merge",
                "A linear merge (0.5 / 0.5) of tiny-chat and tiny-code.",
            ),
        ),
    ];
    let mut out = Vec::new();
    for (id, weights, text) in models {
        let folder = dir.join(id.replace('/', "__"));
        tiny::write_model(&folder, &shape, weights, &text)?;
        out.push((id, folder));
    }
    // A LoRA adapter and a GGUF quantization of the base.
    let lora = dir.join("lora");
    std::fs::create_dir_all(&lora)?;
    std::fs::write(
        lora.join("adapter_model.safetensors"),
        tiny::safetensors_bytes(&tiny::lora_adapter(&base, 4, 17))?,
    )?;
    std::fs::write(
        lora.join("adapter_config.json"),
        serde_json::to_vec_pretty(&tiny::adapter_config_json(&base_id, 4))?,
    )?;
    std::fs::write(
        lora.join("README.md"),
        card(
            &format!(
                "license: apache-2.0\nlanguage: [en]\nlibrary_name: peft\ntags: [lora, adapter]\n{}",
                with_parent(&base_id, "adapter")
            ),
            "Tiny LoRA",
            "A rank-4 LoRA adapter on the base's q and v projections.",
        ),
    )?;
    out.push(("lin/tiny-lora".into(), lora));
    let gguf = dir.join("gguf");
    std::fs::create_dir_all(&gguf)?;
    let meta = [
        ("general.architecture", "llama"),
        ("general.name", "tiny-base Q8_0"),
    ];
    std::fs::write(
        gguf.join("tiny-base-Q8_0.gguf"),
        tiny::gguf_q8_0_bytes(&base, &meta),
    )?;
    std::fs::write(
        gguf.join("README.md"),
        card(
            &format!(
                "license: apache-2.0\nlanguage: [en]\ntags: [gguf, llama.cpp]\n{}",
                with_parent(&base_id, "quantized")
            ),
            "Tiny base Q8_0",
            "The base quantized to Q8_0 for llama.cpp.",
        ),
    )?;
    out.push((format!("{ORG}/tiny-base-q8"), gguf));
    Ok(out)
}

/// Seeds the demo world when the hub has no account yet; logs what it did.
pub fn seed(db: Db, base_url: String, data_dir: PathBuf) {
    std::thread::spawn(move || {
        if let Err(e) = seed_inner(&db, &base_url, &data_dir) {
            tracing::error!("demo seeding failed: {e:#}");
        }
    });
}

fn seed_inner(db: &Db, base_url: &str, data_dir: &Path) -> anyhow::Result<()> {
    let mut conn = db.get()?;
    let any_user: bool = users::any_account(&mut conn)?;
    if any_user {
        tracing::info!("demo: the hub already has accounts; nothing seeded");
        return Ok(());
    }
    let hash = password::hash(DEMO_PASSWORD)?;
    let mut token_of =
        |name: &str, admin: bool| -> anyhow::Result<(crate::accounts::Account, String)> {
            let user = users::create_user(
                &mut conn,
                NewUser {
                    name: AccountName::parse(name)?,
                    email: None,
                    fullname: String::new(),
                    password_hash: Some(hash.clone()),
                    is_admin: admin,
                },
                None,
            )?;
            let (_, token) = tokens::create_token(&mut conn, user.id, "demo", Access::Write, None)?;
            Ok((user, token))
        };
    let (ada, ada_token) = token_of("ada", true)?;
    let (_, lin_token) = token_of("lin", false)?;
    orgs::create_org(&mut conn, &AccountName::parse(ORG)?, "Grove Lab", &ada)?;
    let (_, worker_token) = crate::evals::workers::create(&mut conn, "demo-worker", Some(ada.id))?;
    drop(conn);
    tracing::info!(
        "demo: accounts ada (site admin) and lin, password {DEMO_PASSWORD:?}; organisation {ORG}"
    );

    let client = Client {
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?,
        base: base_url.to_string(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .http
        .get(format!("{base_url}/healthz"))
        .send()
        .is_err()
    {
        anyhow::ensure!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let work = tempfile::tempdir()?;
    let token_for = |id: &str| {
        if id.starts_with("lin/") {
            &lin_token
        } else {
            &ada_token
        }
    };
    let models = write_models(work.path())?;
    for (id, folder) in &models {
        client.create_repo(token_for(id), id, "model")?;
        client.upload_dir(token_for(id), id, "model", folder)?;
    }
    let tasks_dir = work.path().join("tasks");
    let mut task_ids = Vec::new();
    for name in grove_eval_runner::builtin::write_all(&tasks_dir)? {
        let id = format!("{ORG}/{name}");
        client.create_repo(&ada_token, &id, "dataset")?;
        client.upload_dir(&ada_token, &id, "dataset", &tasks_dir.join(&name))?;
        task_ids.push(id);
    }
    let suite = work.path().join("suite");
    std::fs::create_dir_all(&suite)?;
    std::fs::write(
        suite.join("suite.yaml"),
        format!(
            "suite: grove-basics\ntasks: [{}, {}]\n",
            task_ids[0], task_ids[1]
        ),
    )?;
    std::fs::write(
        suite.join("README.md"),
        card(
            "tags: [grove-eval-suite]\n",
            "grove-basics",
            "The two multiple-choice built-in tasks, averaged.",
        ),
    )?;
    client.create_repo(&ada_token, &format!("{ORG}/grove-basics"), "dataset")?;
    client.upload_dir(
        &ada_token,
        &format!("{ORG}/grove-basics"),
        "dataset",
        &suite,
    )?;
    let mut jobs = 0;
    for (id, _) in models
        .iter()
        .filter(|(id, _)| !id.ends_with("-q8") && !id.ends_with("-lora"))
    {
        for task in &task_ids {
            client.call(
                reqwest::Method::POST,
                "/api/evals/jobs",
                &ada_token,
                Some(json!({"model": id, "task": task})),
            )?;
            jobs += 1;
        }
    }
    tracing::info!(
        "demo: {} repos and {jobs} eval jobs submitted",
        models.len() + task_ids.len() + 1
    );
    let worker = std::env::current_exe()?.with_file_name("grove-worker");
    if !worker.is_file() {
        tracing::warn!(
            "demo: {} not found; build it (cargo build --bin grove-worker) to run the eval jobs",
            worker.display()
        );
        return Ok(());
    }
    let status = std::process::Command::new(&worker)
        .args([
            "run",
            "--once",
            "--hub",
            base_url,
            "--token",
            &worker_token,
            "--cache",
        ])
        .arg(data_dir.join("demo-worker-cache"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()?;
    tracing::info!("demo: the eval worker finished ({status}); leaderboards are ready");
    Ok(())
}
