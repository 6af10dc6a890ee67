//! Server-rendered pages of the web UI: home, model/dataset search with facets, repo pages
//! (rendered card, facts, lineage, eval results, files), leaderboards and eval jobs. The data
//! comes from the same functions the API uses, with the same visibility rules: a page about a
//! private repo answers exactly like a missing one. Every page carries the security headers
//! (CSP without inline script, no framing, no sniffing).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::handlers::list_handlers::{Shape, run_search};
use super::pagination::Page;
use super::query::QueryParams;
use super::repo_lookup::load_repo;
use crate::db::DbConn;
use crate::db::schema::{accounts, lineage_counts, repos};
use crate::error::{ApiError, ApiResult};
use crate::evals::{RepoCache, job_view, visible_job};
use crate::lineage::{manifests, queries};
use crate::repos::access::Viewer;
use crate::repos::model::{OwnedRepo, Repo};
use crate::repos::{RepoAction, RepoKind, files};
use crate::with_conn;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PAGE_SIZE: usize = 30;

fn with_headers(mut res: actix_web::HttpResponseBuilder, body: String) -> HttpResponse {
    res.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(body)
}

/// Renders a page: adds the viewer and the CSRF token (setting its cookie on first sight).
pub(crate) fn render(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    name: &str,
    mut ctx: Value,
    caller: &Caller,
) -> HttpResponse {
    if let Some(p) = &caller.0 {
        ctx["viewer"] = json!(p.user.name);
    }
    let (csrf, new) = super::forms::csrf_token(req);
    ctx["csrf"] = json!(csrf);
    match state.pages.render(name, &ctx) {
        Ok(body) => {
            let mut res = HttpResponse::build(status);
            if new {
                res.cookie(super::forms::csrf_cookie(state, &csrf));
            }
            with_headers(res, body)
        }
        Err(e) => {
            tracing::error!("page {name} failed to render: {e}");
            with_headers(HttpResponse::InternalServerError(), "<h1>500</h1>".into())
        }
    }
}

/// True when the client takes HTML (browsers say so in `Accept`); API clients get the JSON
/// error envelope from page URLs, as from every other path.
fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The error page for an API error: missing and hidden things look the same.
pub(crate) fn error_page(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    e: ApiError,
) -> HttpResponse {
    let missing = matches!(
        e,
        ApiError::RepoNotFound(_)
            | ApiError::RepoNotFoundAnonymous(_)
            | ApiError::NotFound(_)
            | ApiError::RevisionNotFound(_)
            | ApiError::EntryNotFound(_)
    );
    if !wants_html(req) {
        // What a path without a page has always answered API clients.
        let e = if missing {
            ApiError::NotFound(format!("no route for {} {}", req.method(), req.path()))
        } else {
            e
        };
        return actix_web::ResponseError::error_response(&e);
    }
    let (status, message) = match &e {
        ApiError::RepoNotFound(_)
        | ApiError::RepoNotFoundAnonymous(_)
        | ApiError::NotFound(_)
        | ApiError::RevisionNotFound(_)
        | ApiError::EntryNotFound(_) => (
            StatusCode::NOT_FOUND,
            "This page does not exist, or you do not have access to it.".to_string(),
        ),
        ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
        ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
        ApiError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
        _ => {
            tracing::error!("page failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.".to_string(),
            )
        }
    };
    render(
        state,
        req,
        status,
        "error.html",
        json!({"status": status.as_u16(), "message": message}),
        caller,
    )
}

fn page(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    name: &str,
    result: ApiResult<Value>,
) -> HttpResponse {
    match result {
        Ok(ctx) => render(state, req, StatusCode::OK, name, ctx, caller),
        Err(e) => error_page(state, req, caller, e),
    }
}

/// The stylesheet.
pub async fn get_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(grove_frontend::STYLESHEET)
}

fn repo_url(r: &OwnedRepo) -> String {
    format!("/{}{}", r.repo.kind().url_prefix(), r.id())
}

fn card_of(repo: &Repo) -> serde_json::Map<String, Value> {
    repo.card_data
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default()
}

fn summary(r: &OwnedRepo) -> Value {
    let card = card_of(&r.repo);
    json!({
        "id": r.id(),
        "url": repo_url(r),
        "private": r.repo.private,
        "downloads": r.repo.downloads,
        "pipeline_tag": card.get("pipeline_tag"),
        "updated": r.repo.updated_at.format("%Y-%m-%d").to_string(),
    })
}

/// Visible models, best first by `order`.
fn top_models(conn: &mut DbConn, viewer: &Viewer, by_downloads: bool) -> ApiResult<Vec<OwnedRepo>> {
    let rows: Vec<(Repo, crate::accounts::Account)> = with_conn!(conn, |c| {
        let mut q = repos::table
            .inner_join(accounts::table)
            .filter(repos::kind.eq(RepoKind::Model.as_str()))
            .select((Repo::as_select(), crate::accounts::Account::as_select()))
            .into_boxed();
        if !viewer.all {
            q = q.filter(
                repos::private
                    .eq(false)
                    .or(repos::owner_id.eq_any(viewer.owners.clone())),
            );
        }
        q = if by_downloads {
            q.order((repos::downloads.desc(), repos::id.asc()))
        } else {
            q.order((repos::updated_at.desc(), repos::id.desc()))
        };
        q.limit(8).load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|(repo, owner)| OwnedRepo { repo, owner })
        .collect())
}

/// The home page: trending, recently updated, largest families.
pub async fn get_home(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> HttpResponse {
    let principal = caller.0.clone();
    let result = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let trending: Vec<Value> = top_models(conn, &viewer, true)?
                .iter()
                .map(summary)
                .collect();
            let recent: Vec<Value> = top_models(conn, &viewer, false)?
                .iter()
                .map(summary)
                .collect();
            // The biggest public subtrees by their largest relation, then exact totals.
            let candidates: Vec<i64> = with_conn!(conn, |c| lineage_counts::table
                .order(lineage_counts::descendants.desc())
                .select(lineage_counts::repo_id)
                .limit(50)
                .load(c))?;
            let mut cache = RepoCache::default();
            let mut families = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for id in candidates {
                if !seen.insert(id) {
                    continue;
                }
                let Some(r) = cache.visible(conn, &viewer, id)? else {
                    continue;
                };
                let total = queries::counts(conn, &viewer, id)?.descendants_total;
                families.push((
                    total,
                    json!({"id": r.id(), "url": repo_url(&r), "descendants": total}),
                ));
            }
            families.sort_by_key(|f| std::cmp::Reverse(f.0));
            let families: Vec<Value> = families.into_iter().take(8).map(|f| f.1).collect();
            Ok(json!({"trending": trending, "recent": recent, "families": families}))
        })
        .await;
    page(&state, &req, &caller, "home.html", result)
}

const SORTS: [(&str, &str); 5] = [
    ("trending", "Trending"),
    ("downloads", "Most downloads"),
    ("likes", "Most likes"),
    ("lastModified", "Recently updated"),
    ("createdAt", "Newest"),
];

/// `/models` and `/datasets`: search with facets, sorts and pages.
async fn search_page(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    kind: RepoKind,
) -> HttpResponse {
    let query = QueryParams::of(&req);
    let result = async {
        let page = Page::from_query(&query, 100).unwrap_or(Page {
            offset: 0,
            limit: PAGE_SIZE,
        });
        let page = Page {
            limit: page.limit.clamp(1, 100),
            ..page
        };
        let shape = Shape {
            kind,
            text_key: "search",
            page,
            count_facets: ["pipeline_tag", "library", "license", "language"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            with_total: true,
        };
        let (found, results) = run_search(&state, &caller, &query, shape).await?;
        let base = format!("/{}", kind.plural());
        // Links keep every parameter but the one they change.
        let href = |set: &[(&str, Option<String>)]| -> String {
            let mut pairs: Vec<(String, String)> = query
                .pairs()
                .iter()
                .filter(|(k, _)| !set.iter().any(|(s, _)| s == k) && k != "cursor")
                .cloned()
                .collect();
            for (k, v) in set {
                if let Some(v) = v {
                    pairs.push((k.to_string(), v.clone()));
                }
            }
            let qs = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            if qs.is_empty() {
                base.clone()
            } else {
                format!("{base}?{qs}")
            }
        };
        let facets: Vec<Value> = results
            .facets
            .iter()
            .map(|(field, values)| {
                let current = query.get(field);
                json!({
                    "label": field.replace('_', " "),
                    "values": values.iter().take(12).map(|(v, n)| {
                        let active = current == Some(v.as_str());
                        json!({"value": v, "count": n, "active": active,
                               "href": href(&[(field.as_str(), (!active).then(|| v.clone()))])})
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        let offset = page.offset;
        let prev = (offset > 0).then(|| {
            href(&[(
                "offset",
                Some(offset.saturating_sub(page.limit).to_string()),
            )])
        });
        let next = results
            .more
            .then(|| href(&[("offset", Some((offset + page.limit).to_string()))]));
        let active: Vec<Value> = [
            "pipeline_tag",
            "library",
            "license",
            "language",
            "author",
            "filter",
        ]
        .iter()
        .filter_map(|k| query.get(k).map(|v| json!({"key": k, "value": v})))
        .collect();
        Ok(json!({
            "kind": kind.plural(),
            "kind_title": if kind == RepoKind::Model { "Models" } else { "Datasets" },
            "base": base,
            "query": query.get("search"),
            "sort": query.get("sort").unwrap_or("trending"),
            "sorts": SORTS.iter().map(|(v, l)| json!({"value": v, "label": l})).collect::<Vec<_>>(),
            "active": active,
            "facets": facets,
            "total": results.total,
            "results": found.iter().map(summary).collect::<Vec<_>>(),
            "prev_href": prev,
            "next_href": next,
        }))
    }
    .await;
    page(&state, &req, &caller, "search.html", result)
}

pub async fn get_models_page(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> HttpResponse {
    search_page(state, caller, req, RepoKind::Model).await
}

pub async fn get_datasets_page(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> HttpResponse {
    search_page(state, caller, req, RepoKind::Dataset).await
}

async fn repo_page(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    kind: RepoKind,
    owner: String,
    name: String,
) -> HttpResponse {
    let query = QueryParams::of(&req);
    let revision = query.get("revision").map(str::to_string);
    let result = async {
        let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
        let git = state.git.clone();
        let r = repo.clone();
        let rev = revision.clone().unwrap_or_else(|| repo.repo.default_branch.clone());
        let (commit, listing, body, refs) = state
            .blocking(move || {
                let g = files::open(&git, &r)?;
                let commit = files::resolve(&g, &rev)?;
                let listing = files::files(&g, &commit)?;
                let body = files::card(&g, &commit)?.map(|c| c.body);
                let refs = g.refs().map_err(crate::repos::service::git_error)?;
                let refs: Vec<Value> = refs
                    .branches
                    .iter()
                    .map(|(n, _)| json!({"kind": "branch", "name": n}))
                    .chain(refs.tags.iter().map(|(n, _)| json!({"kind": "tag", "name": n})))
                    .collect();
                Ok((commit.to_string(), listing, body, refs))
            })
            .await?;
        let principal = caller.0.clone();
        let r = repo.clone();
        let c = commit.clone();
        let (lineage, evals, params, tasks) = state
            .db
            .run(move |conn| {
                if r.repo.kind() != RepoKind::Model {
                    return Ok((Value::Null, Vec::new(), None, Vec::new()));
                }
                let viewer = Viewer::load(conn, principal.as_ref())?;
                let tasks = if principal.is_some() { task_repos(conn, &viewer)? } else { Vec::new() };
                let parents: Vec<Value> = queries::edges_of(conn, &viewer, &[r.repo.id])?
                    .into_iter()
                    .map(|(_, e)| {
                        let name = e.parent.clone().unwrap_or_else(|| "a private model".into());
                        json!({
                            "name": name,
                            "url": e.parent.as_ref().filter(|_| e.available).map(|p| format!("/{p}")),
                            "relation": e.relation,
                            "verification": e.verification.unwrap_or_else(|| "unverified".into()),
                        })
                    })
                    .collect();
                let counts = queries::counts(conn, &viewer, r.repo.id)?;
                let me = queries::Node {
                    id: r.id(),
                    private: r.repo.private,
                    depth: 0,
                    relation: crate::lineage::closure::node_relation(conn, r.repo.id)?.unwrap_or_else(|| "none".into()),
                };
                let (nodes, edges, _) = queries::family(conn, &viewer, r.repo.id, me, 2)?;
                let svg = (nodes.len() > 1).then(|| {
                    use grove_frontend::dag::{DagEdge, DagNode, render};
                    let nodes: Vec<DagNode> = nodes
                        .iter()
                        .map(|n| DagNode { id: n.id.clone(), depth: n.depth, relation: n.relation.clone() })
                        .collect();
                    let edges: Vec<DagEdge> = edges
                        .iter()
                        .filter_map(|e| {
                            Some(DagEdge {
                                parent: e.parent.clone()?,
                                child: e.child.clone(),
                                relation: e.relation.clone(),
                                verification: e.verification.clone().unwrap_or_else(|| "unverified".into()),
                            })
                        })
                        .collect();
                    render(&nodes, &edges, &r.id())
                });
                let evals: Vec<Value> = crate::http::handlers::eval_handlers::eval_results_field(conn, &viewer, &r)?
                    .into_iter()
                    .map(|e| {
                        json!({
                            "task": e["dataset"]["id"],
                            "board": format!("/leaderboards/{}", e["dataset"]["id"].as_str().unwrap_or_default()),
                            "value": format!("{:.4}", e["value"].as_f64().unwrap_or_default()),
                            "metric": e["notes"].as_str().and_then(|n| n.split(' ').next()),
                        })
                    })
                    .collect();
                let files = manifests::commit_files(conn, r.repo.id, &c)?;
                let params = manifests::summary(&files)["safetensors"]["total"].as_u64();
                Ok((
                    json!({"parents": parents, "children": counts.children_total, "descendants": counts.descendants_total, "svg": svg}),
                    evals,
                    params,
                    tasks,
                ))
            })
            .await?;
        let card = card_of(&repo.repo);
        let tags = repo.repo.tags(&card);
        let mut facts = vec![json!({"label": "Revision", "value": commit.chars().take(12).collect::<String>()})];
        for key in ["license", "pipeline_tag", "library_name"] {
            if let Some(v) = card.get(key).and_then(Value::as_str) {
                facts.push(json!({"label": key.replace('_', " "), "value": v}));
            }
        }
        if let Some(p) = params {
            facts.push(json!({"label": "parameters", "value": p}));
        }
        facts.push(json!({"label": "downloads", "value": repo.repo.downloads}));
        facts.push(json!({"label": "updated", "value": repo.repo.updated_at.format("%Y-%m-%d %H:%M UTC").to_string()}));
        let prefix = kind.url_prefix();
        let id = repo.id();
        let file_rows: Vec<Value> = listing
            .iter()
            .map(|e| {
                json!({
                    "path": e.path,
                    "size": files::content_size(e),
                    "lfs": e.lfs.as_ref().map(|l| l.oid.clone()),
                    "download": format!("/{prefix}{id}/resolve/{commit}/{}", e.path),
                    "view": format!("/{prefix}{id}/blob/{commit}/{}", e.path),
                })
            })
            .collect();
        Ok(json!({
            "repo": {"id": id, "name": repo.repo.name, "private": repo.repo.private},
            "is_model": kind == RepoKind::Model,
            "repo_url": format!("/{prefix}{id}"),
            "refs": refs,
            "tasks": tasks,
            "base": format!("/{}", kind.plural()),
            "tags": tags,
            "card_html": body.map(|b| grove_frontend::markdown::render(&b)),
            "facts": facts,
            "lineage": lineage,
            "evals": evals,
            "files": file_rows,
            "revision": revision.unwrap_or_else(|| repo.repo.default_branch.clone()),
        }))
    }
    .await;
    page(&state, &req, &caller, "repo.html", result)
}

pub async fn get_model_page(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (owner, name) = path.into_inner();
    // `/api/x`, `/lfs/x`…: reserved words are never accounts, so not a page either.
    if crate::names::AccountName::parse(&owner).is_err() {
        return super::errors::not_found(req).await;
    }
    repo_page(state, caller, req, RepoKind::Model, owner, name).await
}

pub async fn get_dataset_page(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (owner, name) = path.into_inner();
    repo_page(state, caller, req, RepoKind::Dataset, owner, name).await
}

fn fmt(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.4}")).unwrap_or_default()
}

/// A task's or suite's leaderboard as a table.
pub async fn get_leaderboard_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (owner, name) = path.into_inner();
    let query = QueryParams::of(&req);
    // `order` is the page's own (column sorting); the board gets every other parameter.
    let order = query.get("order").unwrap_or("rank").to_string();
    let board_query = QueryParams::from_pairs(
        query
            .pairs()
            .iter()
            .filter(|(k, v)| k != "order" && !v.is_empty())
            .cloned()
            .collect(),
    );
    let board_id = format!("{owner}/{name}");
    let result = async {
        let board = crate::http::handlers::eval_handlers::board_json(&state, &caller, owner, name, &board_query).await?;
        let all = board["rows"].as_array().cloned().unwrap_or_default();
        let mut families: Vec<String> = all.iter().filter_map(|r| r["family"].as_str().map(str::to_string)).collect();
        families.sort();
        families.dedup();
        let mut rows: Vec<Value> = all
            .iter()
            .map(|r| {
                let value = r.get("value").or_else(|| r.get("average")).cloned().unwrap_or(Value::Null);
                json!({
                    "rank": r["rank"],
                    "model": r["model"],
                    "url": format!("/{}", r["model"].as_str().unwrap_or_default()),
                    "value": fmt(&value),
                    "ci": format!("{} – {}", fmt(&r["ciLow"]), fmt(&r["ciHigh"])),
                    "normalized": r.get("normalized").map(|n| n.as_f64().map(|x| format!("{x:.1}")).unwrap_or_default()),
                    "relation": r.get("relation"),
                    "parent": r.get("parent"),
                    "gain": r.get("gainOverParent").and_then(Value::as_f64).map(|g| format!("{g:+.4}")),
                    "gain_raw": r.get("gainOverParent"),
                    "reproduction": r.get("reproduction"),
                    "best": r.get("bestInFamily"),
                })
            })
            .collect();
        match order.as_str() {
            "model" => rows.sort_by(|a, b| a["model"].as_str().cmp(&b["model"].as_str())),
            "gain" => rows.sort_by(|a, b| {
                let g = |v: &Value| v["gain_raw"].as_f64().unwrap_or(f64::NEG_INFINITY);
                g(b).total_cmp(&g(a))
            }),
            _ => {}
        }
        let sort_href = |col: &str| {
            let mut pairs: Vec<(String, String)> = board_query.pairs().to_vec();
            pairs.push(("order".into(), col.into()));
            let qs = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
            format!("/leaderboards/{board_id}?{qs}")
        };
        Ok(json!({
            "board_id": board_id,
            "kind": board["kind"],
            "metric": board["metric"],
            "higher": board["higherIsBetter"],
            "metrics": board["spec"]["metrics"],
            "hide_merges": query.all("exclude_relation").contains(&"merge"),
            "families": families,
            "family": query.get("family"),
            "order": order,
            "sort_rank": sort_href("rank"),
            "sort_model": sort_href("model"),
            "sort_gain": sort_href("gain"),
            "rows": rows,
        }))
    }
    .await;
    page(&state, &req, &caller, "leaderboard.html", result)
}

/// An eval job's status, progress, result and provenance.
pub async fn get_job_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> HttpResponse {
    let raw = path.into_inner();
    let principal = caller.0.clone();
    let result = match raw.parse::<i64>() {
        Err(_) => Err(ApiError::NotFound(format!("no eval job {raw}"))),
        Ok(id) => {
            state
                .db
                .run(move |conn| {
                    let viewer = Viewer::load(conn, principal.as_ref())?;
                    let (job, m, t) = visible_job(conn, &viewer, &mut RepoCache::default(), id)?;
                    Ok(json!({"job": job_view(conn, &job, &m, &t)?}))
                })
                .await
        }
    };
    page(&state, &req, &caller, "job.html", result)
}

/// A model's tensor diff against its parent (or `?base=`).
pub async fn get_diff_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (owner, name) = path.into_inner();
    if crate::names::AccountName::parse(&owner).is_err() {
        return super::errors::not_found(req).await;
    }
    let query = QueryParams::of(&req);
    let result =
        crate::http::handlers::lineage_handlers::tensor_diff(&state, &caller, owner, name, &query)
            .await
            .map(|diff| json!({"diff": diff}));
    page(&state, &req, &caller, "diff.html", result)
}

/// Dataset repos that hold an eval task, for the "evaluate on" form.
fn task_repos(conn: &mut DbConn, viewer: &Viewer) -> ApiResult<Vec<String>> {
    let rows: Vec<(Repo, crate::accounts::Account)> = with_conn!(conn, |c| {
        let mut q = repos::table
            .inner_join(accounts::table)
            .filter(repos::kind.eq(RepoKind::Dataset.as_str()))
            .filter(repos::card_data.like("%grove-eval%"))
            .select((Repo::as_select(), crate::accounts::Account::as_select()))
            .into_boxed();
        if !viewer.all {
            q = q.filter(
                repos::private
                    .eq(false)
                    .or(repos::owner_id.eq_any(viewer.owners.clone())),
            );
        }
        q.order(repos::name.asc()).limit(100).load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|(repo, owner)| OwnedRepo { repo, owner }.id())
        .collect())
}

fn reserved(owner: &str) -> bool {
    crate::names::AccountName::parse(owner).is_err()
}

/// A repo's commit history at a revision, 50 a page.
async fn commits_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    kind: RepoKind,
    owner: String,
    name: String,
) -> HttpResponse {
    let query = QueryParams::of(&req);
    let skip: usize = query
        .get("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0)
        .min(100_000);
    let result = async {
        let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
        let rev = query.get("revision").map(str::to_string).unwrap_or_else(|| repo.repo.default_branch.clone());
        let git = state.git.clone();
        let (r, rv) = (repo.clone(), rev.clone());
        let (log, more) = state
            .blocking(move || {
                let g = files::open(&git, &r)?;
                let commit = files::resolve(&g, &rv)?;
                g.log(&commit, skip, 50).map_err(crate::repos::service::git_error)
            })
            .await?;
        let url = format!("/{}{}", kind.url_prefix(), repo.id());
        let page_href = |offset: usize| {
            let qs = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("revision", &rev)
                .append_pair("offset", &offset.to_string())
                .finish();
            format!("{url}/commits?{qs}")
        };
        let commits: Vec<Value> = log
            .iter()
            .map(|c| {
                let date = chrono::DateTime::from_timestamp(c.time, 0).map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string());
                json!({"id": c.id.to_string(), "title": c.title, "author": c.author_name, "date": date})
            })
            .collect();
        Ok(json!({
            "repo_id": repo.id(),
            "repo_url": url,
            "revision": rev,
            "commits": commits,
            "prev_href": (skip > 0).then(|| page_href(skip.saturating_sub(50))),
            "next_href": more.then(|| page_href(skip + 50)),
        }))
    }
    .await;
    page(&state, &req, &caller, "commits.html", result)
}

pub async fn get_model_commits_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (owner, name) = path.into_inner();
    if reserved(&owner) {
        return super::errors::not_found(req).await;
    }
    commits_page(state, req, caller, RepoKind::Model, owner, name).await
}

pub async fn get_dataset_commits_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (owner, name) = path.into_inner();
    commits_page(state, req, caller, RepoKind::Dataset, owner, name).await
}

/// Text files up to this size are shown inline.
const MAX_INLINE_TEXT: usize = 512 * 1024;
const MAX_LINES: usize = 5000;

/// One file at a revision: size, storage, download; text with line numbers, or the tensor list
/// of a weight file.
/// `(owner, name, revision, path)` of a file page.
type FileAt = (String, String, String, String);

async fn blob_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    kind: RepoKind,
    at: FileAt,
) -> HttpResponse {
    let (owner, name, rev, path) = at;
    let result = async {
        let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
        let git = state.git.clone();
        let (r, rv, p) = (repo.clone(), rev.clone(), path.clone());
        let (commit, entry, text) = state
            .blocking(move || {
                let g = files::open(&git, &r)?;
                let commit = files::resolve(&g, &rv)?;
                let missing = || ApiError::EntryNotFound(format!("Entry not found: {p}"));
                let rp = grove_storage::git::RepoPath::parse(&p).map_err(|_| missing())?;
                let entry = g
                    .entry(&commit, &rp)
                    .map_err(crate::repos::service::git_error)?
                    .filter(|e| e.kind == grove_storage::git::EntryKind::File)
                    .ok_or_else(missing)?;
                let text = if entry.lfs.is_none() && (entry.size as usize) <= MAX_INLINE_TEXT {
                    let bytes = g.read_blob(&entry.oid).map_err(crate::repos::service::git_error)?;
                    String::from_utf8(bytes).ok()
                } else {
                    None
                };
                Ok((commit.to_string(), entry, text))
            })
            .await?;
        let (repo_id, c, p) = (repo.repo.id, commit.clone(), path.clone());
        let tensors: Vec<Value> = state
            .db
            .run(move |conn| {
                Ok(manifests::commit_tensors(conn, repo_id, &c)?
                    .into_iter()
                    .filter(|(file, _)| *file == p)
                    .map(|(_, t)| json!({"name": t.name, "dtype": t.dtype, "shape": t.shape, "bytes": t.end - t.begin}))
                    .collect())
            })
            .await?;
        let (lines, truncated) = match &text {
            Some(t) => {
                let all: Vec<&str> = t.lines().collect();
                (Some(all.iter().take(MAX_LINES).map(|l| l.to_string()).collect::<Vec<_>>()), all.len() > MAX_LINES)
            }
            None => (None, false),
        };
        let prefix = kind.url_prefix();
        let id = repo.id();
        Ok(json!({
            "repo_id": id,
            "repo_url": format!("/{prefix}{id}"),
            "revision": rev,
            "commit": commit,
            "path": path,
            "size": files::content_size(&entry),
            "lfs": entry.lfs.as_ref().map(|l| l.oid.clone()),
            "oid": entry.oid,
            "download": format!("/{prefix}{id}/resolve/{commit}/{path}"),
            "tensors": tensors,
            "lines": lines,
            "truncated": truncated,
        }))
    }
    .await;
    page(&state, &req, &caller, "blob.html", result)
}

pub async fn get_model_blob_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
) -> HttpResponse {
    let at = path.into_inner();
    if reserved(&at.0) {
        return super::errors::not_found(req).await;
    }
    blob_page(state, req, caller, RepoKind::Model, at).await
}

pub async fn get_dataset_blob_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
) -> HttpResponse {
    blob_page(state, req, caller, RepoKind::Dataset, path.into_inner()).await
}

/// A user's or organisation's page: their repos the viewer may see.
pub async fn get_account_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> HttpResponse {
    let name = path.into_inner();
    if reserved(&name) {
        return super::errors::not_found(req).await;
    }
    let principal = caller.0.clone();
    let result = state
        .db
        .run(move |conn| {
            let viewer = Viewer::load(conn, principal.as_ref())?;
            let account = crate::accounts::users::find_account(conn, &name)?
                .ok_or_else(|| ApiError::NotFound(format!("no account {name}")))?;
            let rows: Vec<Repo> = with_conn!(conn, |c| {
                let mut q = repos::table
                    .filter(repos::owner_id.eq(account.id))
                    .select(Repo::as_select())
                    .into_boxed();
                if !viewer.can_see(account.id, true) {
                    q = q.filter(repos::private.eq(false));
                }
                q.order(repos::updated_at.desc()).limit(200).load(c)
            })?;
            let owned: Vec<OwnedRepo> = rows.into_iter().map(|repo| OwnedRepo { repo, owner: account.clone() }).collect();
            let of = |kind: RepoKind| owned.iter().filter(|r| r.repo.kind() == kind).map(summary).collect::<Vec<_>>();
            let members = if account.is_org() {
                Some(crate::accounts::orgs::members(conn, account.id)?.len())
            } else {
                None
            };
            Ok(json!({
                "account": {"name": account.name, "fullname": account.fullname, "org": account.is_org(), "members": members},
                "models": of(RepoKind::Model),
                "datasets": of(RepoKind::Dataset),
            }))
        })
        .await;
    page(&state, &req, &caller, "account.html", result)
}
