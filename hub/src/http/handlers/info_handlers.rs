//! `model_info` / `dataset_info`: `GET /api/{type}s/{repo}[/revision/{rev}]`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use crate::error::ApiResult;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::repo_lookup::{kind_from_plural, load_repo};
use crate::repos::files::{self, content_size};
use crate::repos::model::OwnedRepo;
use crate::repos::{RepoAction, RepoKind};
use crate::time::wire;

/// Everything `model_info` can return about a repo at one commit.
pub struct RepoInfoInput {
    pub repo: OwnedRepo,
    pub sha: String,
    pub last_modified: chrono::NaiveDateTime,
    pub siblings: Vec<Value>,
    pub card: Option<Map<String, Value>>,
    pub used_storage: u64,
    /// Lineage, manifest and eval fields (`safetensors`, `gguf`, `baseModels`,
    /// `childrenModelCount`, `evalResults`).
    pub lineage: Map<String, Value>,
}

/// The Hub's JSON for a repo, restricted to `expand` when given (plus `id`, always).
pub fn info_json(input: RepoInfoInput, expand: &[&str]) -> Value {
    let RepoInfoInput {
        repo,
        sha,
        last_modified,
        siblings,
        card,
        used_storage,
        lineage,
    } = input;
    let id = repo.id();
    let card = card.unwrap_or_default();
    let tags = repo.repo.tags(&card);
    let mut out = Map::new();
    out.insert("_id".into(), json!(format!("{}", repo.repo.id)));
    out.insert("id".into(), json!(id));
    if repo.repo.kind() == RepoKind::Model {
        out.insert("modelId".into(), json!(id));
    }
    out.insert("author".into(), json!(repo.owner.name));
    out.insert("sha".into(), json!(sha));
    out.insert("lastModified".into(), json!(wire(last_modified)));
    out.insert("createdAt".into(), json!(wire(repo.repo.created_at)));
    out.insert("private".into(), json!(repo.repo.private));
    out.insert("gated".into(), json!(false));
    out.insert("disabled".into(), json!(false));
    out.insert("downloads".into(), json!(repo.repo.downloads));
    out.insert("likes".into(), json!(repo.repo.likes));
    out.insert("tags".into(), json!(tags));
    if let Some(v) = card.get("pipeline_tag").filter(|v| v.is_string()) {
        out.insert("pipeline_tag".into(), v.clone());
    }
    if let Some(v) = card.get("library_name").filter(|v| v.is_string()) {
        out.insert("library_name".into(), v.clone());
    }
    if !card.is_empty() {
        out.insert("cardData".into(), Value::Object(card));
    }
    out.insert("siblings".into(), Value::Array(siblings));
    out.insert("usedStorage".into(), json!(used_storage));
    out.extend(lineage);
    if !expand.is_empty() {
        out.retain(|k, _| k == "id" || k == "_id" || expand.contains(&k.as_str()));
    }
    Value::Object(out)
}

async fn repo_info(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    kind: String,
    owner: String,
    name: String,
    rev: Option<String>,
) -> ApiResult<HttpResponse> {
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
    let query = QueryParams::of(&req);
    let blobs = query.flag("blobs", false);
    let git = state.git.clone();
    let rev = rev.unwrap_or_else(|| repo.repo.default_branch.clone());
    let input = state
        .blocking(move || {
            let git_repo = files::open(&git, &repo)?;
            let commit = files::resolve(&git_repo, &rev)?;
            let info = git_repo
                .commit_info(&commit)
                .map_err(crate::repos::service::git_error)?;
            let entries = files::files(&git_repo, &commit)?;
            let used_storage = entries.iter().map(content_size).sum();
            let siblings = entries
                .iter()
                .map(|e| {
                    if !blobs {
                        return json!({ "rfilename": e.path });
                    }
                    let mut s = json!({
                        "rfilename": e.path,
                        "size": content_size(e),
                        "blobId": e.oid,
                    });
                    if let Some(lfs) = &e.lfs {
                        s["lfs"] = json!({
                            "size": lfs.size,
                            "sha256": lfs.oid,
                            "pointerSize": e.size,
                        });
                    }
                    s
                })
                .collect();
            let card = files::card_metadata(&git_repo, &commit)?;
            // At the recorded head the row's time is the one listings show (it is also never
            // before `createdAt`); other revisions carry their commit's time.
            let at_head = repo.repo.head_commit.as_deref() == Some(commit.as_ref());
            let last_modified = if at_head {
                repo.repo.updated_at
            } else {
                chrono::DateTime::from_timestamp(info.time, 0)
                    .map(|d| d.naive_utc())
                    .unwrap_or(repo.repo.updated_at)
            };
            Ok(RepoInfoInput {
                repo,
                sha: commit.to_string(),
                last_modified,
                siblings,
                card,
                used_storage,
                lineage: Map::new(),
            })
        })
        .await?;
    let expand = query.all("expand");
    let mut input = input;
    input.lineage = lineage_fields(&state, &caller, &input, &expand).await?;
    Ok(HttpResponse::Ok().json(info_json(input, &expand)))
}

/// A repo's metadata at its default branch.
#[utoipa::path(get, path = "/api/{kind}/{owner}/{name}", tag = "repos",
    params(("kind" = String, Path, description = "models or datasets"),
           ("owner" = String, Path), ("name" = String, Path),
           ("blobs" = Option<bool>, Query, description = "add size, blobId and lfs to siblings"),
           ("expand" = Option<Vec<String>>, Query, description = "return only these properties")),
    responses((status = 200, description = "ModelInfo / DatasetInfo JSON"),
              (status = 401), (status = 404)))]
pub async fn get_repo_info(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name) = path.into_inner();
    repo_info(state, caller, req, kind, owner, name, None).await
}

/// A repo's metadata at a branch, tag or commit.
#[utoipa::path(get, path = "/api/{kind}/{owner}/{name}/revision/{rev}", tag = "repos",
    params(("kind" = String, Path, description = "models or datasets"),
           ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path, description = "branch, tag or commit id, percent-encoded")),
    responses((status = 200, description = "ModelInfo / DatasetInfo JSON"),
              (status = 401), (status = 404)))]
pub async fn get_repo_info_at_revision(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, rev) = path.into_inner();
    repo_info(state, caller, req, kind, owner, name, Some(rev)).await
}

/// `safetensors`/`gguf` from the commit's manifests (when scanned), and, when asked for with
/// `expand`, `baseModels` and `childrenModelCount` as the viewer may see them.
async fn lineage_fields(
    state: &AppState,
    caller: &Caller,
    input: &RepoInfoInput,
    expand: &[&str],
) -> ApiResult<Map<String, Value>> {
    if input.repo.repo.kind() != RepoKind::Model {
        return Ok(Map::new());
    }
    let id = input.repo.repo.id;
    let sha = input.sha.clone();
    let principal = caller.0.clone();
    let want_base = expand.contains(&"baseModels");
    let want_children = expand.contains(&"childrenModelCount");
    let want_evals = expand.contains(&"evalResults");
    let model = input.repo.clone();
    state
        .db
        .run(move |conn| {
            let mut out = Map::new();
            let files = crate::lineage::manifests::commit_files(conn, id, &sha)?;
            let summary = crate::lineage::manifests::summary(&files);
            for key in ["safetensors", "gguf"] {
                if !summary[key].is_null() {
                    out.insert(key.into(), summary[key].clone());
                }
            }
            if want_evals {
                let viewer = crate::repos::access::Viewer::load(conn, principal.as_ref())?;
                let evals = crate::http::handlers::eval_handlers::eval_results_field(conn, &viewer, &model)?;
                out.insert("evalResults".into(), json!(evals));
            }
            if want_base || want_children {
                let viewer = crate::repos::access::Viewer::load(conn, principal.as_ref())?;
                if want_base {
                    let edges = crate::lineage::queries::edges_of(conn, &viewer, &[id])?;
                    let visible: Vec<_> = edges.into_iter().map(|(_, e)| e).filter(|e| e.available).collect();
                    if let Some(first) = visible.first() {
                        out.insert(
                            "baseModels".into(),
                            json!({
                                "relation": first.relation,
                                "models": visible.iter().map(|e| json!({"id": e.parent})).collect::<Vec<_>>(),
                            }),
                        );
                    }
                }
                if want_children {
                    let counts = crate::lineage::queries::counts(conn, &viewer, id)?;
                    out.insert("childrenModelCount".into(), json!(counts.children_total));
                }
            }
            Ok(out)
        })
        .await
}
