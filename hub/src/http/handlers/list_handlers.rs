//! `GET /api/models` and `GET /api/datasets`: a database-backed listing with the Hub's parameters
//! (`search`, `author`, `filter`, `sort`, `limit`, `full`, `cardData`). The search issue replaces
//! the engine behind it; visibility is decided in the query, so a private repo never appears in
//! anyone else's listing.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::accounts::Account;
use crate::db::schema::{accounts, memberships, repos};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::pagination::{Page, next_link};
use crate::http::query::QueryParams;
use crate::repos::model::{OwnedRepo, Repo};
use crate::repos::{RepoKind, files};
use crate::time::wire;
use crate::with_conn;

/// The most rows one listing considers before filtering (the search index lifts this).
const MAX_SCAN: i64 = 10_000;

#[derive(Debug, Clone, Copy)]
enum Sort {
    Downloads,
    Likes,
    LastModified,
    CreatedAt,
}

fn parse_sort(raw: Option<&str>) -> ApiResult<Sort> {
    match raw {
        None | Some("downloads") | Some("trendingScore") | Some("trending") => Ok(Sort::Downloads),
        Some("likes") => Ok(Sort::Likes),
        Some("lastModified") | Some("last_modified") => Ok(Sort::LastModified),
        Some("createdAt") | Some("created_at") => Ok(Sort::CreatedAt),
        Some(other) => Err(ApiError::BadRequest(format!(
            "unknown sort {other:?}: use downloads, likes, lastModified, createdAt or trendingScore"
        ))),
    }
}

/// Repos of `kind` the caller may see, newest first.
fn visible_repos(
    conn: &mut crate::db::DbConn,
    kind: RepoKind,
    caller: Option<&Account>,
) -> ApiResult<Vec<OwnedRepo>> {
    let mut visible_owners: Vec<i64> = Vec::new();
    let mut everything = false;
    if let Some(user) = caller {
        everything = user.is_admin;
        visible_owners.push(user.id);
        let orgs: Vec<i64> = with_conn!(conn, |c| memberships::table
            .filter(memberships::user_id.eq(user.id))
            .select(memberships::org_id)
            .load(c))?;
        visible_owners.extend(orgs);
    }
    let rows: Vec<(Repo, Account)> = with_conn!(conn, |c| {
        let mut q = repos::table
            .inner_join(accounts::table)
            .filter(repos::kind.eq(kind.as_str()))
            .into_boxed();
        if !everything {
            q = q.filter(
                repos::private
                    .eq(false)
                    .or(repos::owner_id.eq_any(visible_owners.clone())),
            );
        }
        q.order(repos::id.desc())
            .limit(MAX_SCAN)
            .select((Repo::as_select(), Account::as_select()))
            .load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|(repo, owner)| OwnedRepo { repo, owner })
        .collect())
}

fn card_of(repo: &Repo) -> Map<String, Value> {
    repo.card_data
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default()
}

fn item_json(
    repo: &OwnedRepo,
    card: Map<String, Value>,
    tags: Vec<String>,
    with_card: bool,
) -> Value {
    let id = repo.id();
    let mut v = json!({
        "_id": repo.repo.id.to_string(),
        "id": id,
        "author": repo.owner.name,
        "private": repo.repo.private,
        "downloads": repo.repo.downloads,
        "likes": repo.repo.likes,
        "tags": tags,
        "createdAt": wire(repo.repo.created_at),
        "lastModified": wire(repo.repo.updated_at),
    });
    if repo.repo.kind() == RepoKind::Model {
        v["modelId"] = json!(id);
    }
    if let Some(sha) = &repo.repo.head_commit {
        v["sha"] = json!(sha);
    }
    for key in ["pipeline_tag", "library_name"] {
        if let Some(val) = card.get(key).filter(|x| x.is_string()) {
            v[key] = val.clone();
        }
    }
    if with_card && !card.is_empty() {
        v["cardData"] = Value::Object(card);
    }
    v
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    kind: RepoKind,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::of(&req);
    let sort = parse_sort(query.get("sort"))?;
    let page = Page::from_query(&query, 1000)?;
    let search = query.get("search").map(str::to_ascii_lowercase);
    if search.as_ref().is_some_and(|s| s.len() > 256) {
        return Err(ApiError::BadRequest(
            "search is limited to 256 bytes".into(),
        ));
    }
    let author = query.get("author").map(str::to_ascii_lowercase);
    let filters: Vec<String> = query.all("filter").iter().map(|f| f.to_string()).collect();
    let with_card = query.flag("cardData", false) || query.flag("full", false);
    let user = caller.0.as_ref().map(|p| p.user.clone());
    let all = state
        .db
        .run(move |conn| visible_repos(conn, kind, user.as_ref()))
        .await?;
    let mut matched: Vec<(OwnedRepo, Map<String, Value>, Vec<String>)> = all
        .into_iter()
        .filter(|r| author.as_ref().is_none_or(|a| r.owner.name_key == *a))
        .filter(|r| {
            search.as_ref().is_none_or(|s| {
                r.repo.name_key.contains(s.as_str())
                    || r.id().to_ascii_lowercase().contains(s.as_str())
            })
        })
        .map(|r| {
            let card = card_of(&r.repo);
            let tags = r.repo.tags(&card);
            (r, card, tags)
        })
        .filter(|(_, _, tags)| filters.iter().all(|f| tags.iter().any(|t| t == f)))
        .collect();
    matched.sort_by(|(a, _, _), (b, _, _)| match sort {
        Sort::Downloads => b.repo.downloads.cmp(&a.repo.downloads),
        Sort::Likes => b.repo.likes.cmp(&a.repo.likes),
        Sort::LastModified => b.repo.updated_at.cmp(&a.repo.updated_at),
        Sort::CreatedAt => b.repo.created_at.cmp(&a.repo.created_at),
    });
    let more = matched.len() > page.offset + page.limit;
    let mut items: Vec<Value> = Vec::with_capacity(page.limit.min(matched.len()));
    let mut heads = Vec::new();
    for (r, card, tags) in matched.into_iter().skip(page.offset).take(page.limit) {
        items.push(item_json(&r, card, tags, with_card));
        heads.push(r);
    }
    if query.flag("full", false) {
        // `full` adds each repo's files at its head, as `model_info` lists them.
        let git = state.git.clone();
        let siblings = state
            .blocking(move || {
                heads
                    .iter()
                    .map(|repo| {
                        let git_repo = files::open(&git, repo)?;
                        let head = files::resolve(&git_repo, &repo.repo.default_branch)?;
                        Ok(files::files(&git_repo, &head)?
                            .into_iter()
                            .map(|e| json!({ "rfilename": e.path }))
                            .collect::<Vec<_>>())
                    })
                    .collect::<ApiResult<Vec<_>>>()
            })
            .await?;
        for (item, files) in items.iter_mut().zip(siblings) {
            item["siblings"] = Value::Array(files);
        }
    }
    let mut res = HttpResponse::Ok();
    if more {
        res.insert_header((
            header::LINK,
            next_link(&state, &req, page.offset + page.limit),
        ));
    }
    Ok(res.json(items))
}

/// Lists the models the caller may see.
#[utoipa::path(get, path = "/api/models", tag = "repos",
    params(("search" = Option<String>, Query), ("author" = Option<String>, Query),
           ("filter" = Option<Vec<String>>, Query), ("sort" = Option<String>, Query),
           ("limit" = Option<usize>, Query), ("full" = Option<bool>, Query),
           ("cardData" = Option<bool>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "models; Link: rel=next when more"),
              (status = 400, body = ErrorBody)))]
pub async fn list_models(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    list(state, caller, req, RepoKind::Model).await
}

/// Lists the datasets the caller may see.
#[utoipa::path(get, path = "/api/datasets", tag = "repos",
    params(("search" = Option<String>, Query), ("author" = Option<String>, Query),
           ("filter" = Option<Vec<String>>, Query), ("sort" = Option<String>, Query),
           ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "datasets; Link: rel=next when more"),
              (status = 400, body = ErrorBody)))]
pub async fn list_datasets(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    list(state, caller, req, RepoKind::Dataset).await
}
