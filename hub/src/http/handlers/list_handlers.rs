//! Listing and search: `GET /api/models` and `GET /api/datasets` with the Hub's parameters
//! (`search`, `author`, `filter`, `pipeline_tag`, `num_parameters`, `sort`, `limit`, `full`,
//! `cardData`), and Grove's richer `GET /api/search/{models|datasets}` (facets, counts, date and
//! size ranges) and `GET /api/search/suggest`, all answered by the search index. Visibility is
//! part of every query: a private repo is found, listed and counted only for those who may see it.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use grove_indexer::search::{FACET_FIELDS, FacetFilter, SearchRequest, Sort, Visibility};
use serde_json::{Map, Value, json};

use crate::accounts::Account;
use crate::db::schema::{accounts, repos};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::pagination::{Page, next_link};
use crate::http::query::QueryParams;
use crate::repos::access::Viewer;
use crate::repos::model::{OwnedRepo, Repo};
use crate::repos::{RepoKind, files};
use crate::time::wire;
use crate::with_conn;

/// Query parameters the Hub listing accepts (others are refused with the list).
const LIST_PARAMS: &[&str] = &[
    "search",
    "author",
    "filter",
    "sort",
    "direction",
    "limit",
    "cursor",
    "full",
    "cardData",
    "config",
    "expand",
    "pipeline_tag",
    "library",
    "language",
    "num_parameters",
    "gated",
    "inference",
    "inference_provider",
    "apps",
];

/// Extra parameters of `/api/search/*`.
const SEARCH_PARAMS: &[&str] = &[
    "q",
    "facets",
    "parameters_min",
    "parameters_max",
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
    "license",
    "relation",
    "base_model",
    "dataset",
    "tag",
];

fn check_params(query: &QueryParams, allowed: &[&[&str]]) -> ApiResult<()> {
    for key in query.keys() {
        if !allowed.iter().any(|list| list.contains(&key)) {
            let mut all: Vec<&str> = allowed.iter().flat_map(|l| l.iter().copied()).collect();
            all.sort_unstable();
            return Err(ApiError::BadRequest(format!(
                "unknown query parameter {key:?}; accepted: {}",
                all.join(", ")
            )));
        }
    }
    Ok(())
}

fn parse_sort(raw: Option<&str>, has_text: bool) -> ApiResult<Sort> {
    match raw {
        None if has_text => Ok(Sort::Relevance),
        None => Ok(Sort::Downloads),
        Some(s) => Sort::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown sort {s:?}: use relevance, downloads, likes, lastModified, createdAt or trendingScore"
            ))
        }),
    }
}

/// `6B`, `350M`, `1.5K`, `7000000` -> a parameter count.
fn parse_count(raw: &str) -> ApiResult<u64> {
    let raw = raw.trim();
    let (number, scale) = match raw.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&raw[..raw.len() - 1], 1e3),
        Some('M') => (&raw[..raw.len() - 1], 1e6),
        Some('B') => (&raw[..raw.len() - 1], 1e9),
        Some('T') => (&raw[..raw.len() - 1], 1e12),
        _ => (raw, 1.0),
    };
    number
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0 && n * scale < 1e18)
        .map(|n| (n * scale).round() as u64)
        .ok_or_else(|| {
            ApiError::BadRequest(format!("invalid parameter count {raw:?} (e.g. 350M, 7B)"))
        })
}

/// The Hub's `num_parameters=min:6B,max:128B`.
fn parse_num_parameters(raw: &str) -> ApiResult<(Option<u64>, Option<u64>)> {
    let mut out = (None, None);
    for part in raw.split(',').filter(|p| !p.is_empty()) {
        match part.split_once(':') {
            Some(("min", v)) => out.0 = Some(parse_count(v)?),
            Some(("max", v)) => out.1 = Some(parse_count(v)?),
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "num_parameters takes min:N,max:N, not {part:?}"
                )));
            }
        }
    }
    Ok(out)
}

/// `YYYY-MM-DD` or RFC 3339 -> unix seconds.
fn parse_date(key: &str, raw: &str) -> ApiResult<i64> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(0));
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|d| d.timestamp())
        .map_err(|_| {
            ApiError::BadRequest(format!("{key} must be a date (YYYY-MM-DD), not {raw:?}"))
        })
}

/// Builds the search request both endpoints share.
fn request_of(
    query: &QueryParams,
    kind: RepoKind,
    text_key: &str,
    viewer: &Viewer,
    page: Page,
) -> ApiResult<SearchRequest> {
    let text = query.get(text_key).map(str::to_string);
    let sort = parse_sort(
        query.get("sort"),
        text.as_deref().is_some_and(|t| !t.trim().is_empty()),
    )?;
    let mut req = SearchRequest {
        kind: kind.as_str().to_string(),
        text,
        author: query.get("author").map(str::to_string),
        sort,
        offset: page.offset,
        limit: page.limit,
        visibility: Visibility {
            all: viewer.all,
            owners: viewer.owners.iter().map(|o| *o as u64).collect(),
        },
        ..Default::default()
    };
    for f in query.all("filter") {
        // `language:de` is the language facet; every other filter is an exact tag, as on the
        // Hub (`license:mit`, `de`, `base_model:finetune:org/x`, `dataset:org/d`…).
        match f.strip_prefix("language:") {
            Some(lang) => req.facets.push(FacetFilter {
                field: "language".into(),
                value: lang.into(),
            }),
            None => req.tags.push(f.to_string()),
        }
    }
    for field in FACET_FIELDS.iter().filter(|f| **f != "author") {
        for value in query.all(field) {
            req.facets.push(FacetFilter {
                field: field.to_string(),
                value: value.to_string(),
            });
        }
    }
    if let Some(raw) = query.get("num_parameters") {
        req.parameters = parse_num_parameters(raw)?;
    }
    if let Some(v) = query.get("parameters_min") {
        req.parameters.0 = Some(parse_count(v)?);
    }
    if let Some(v) = query.get("parameters_max") {
        req.parameters.1 = Some(parse_count(v)?);
    }
    let date = |key: &str| query.get(key).map(|v| parse_date(key, v)).transpose();
    req.created = (date("created_after")?, date("created_before")?);
    req.updated = (date("updated_after")?, date("updated_before")?);
    Ok(req)
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

/// The repos of `ids`, in that order (ids deleted since the search are skipped).
fn repos_in_order(conn: &mut crate::db::DbConn, ids: &[i64]) -> ApiResult<Vec<OwnedRepo>> {
    let rows: Vec<(Repo, Account)> = with_conn!(conn, |c| repos::table
        .inner_join(accounts::table)
        .filter(repos::id.eq_any(ids))
        .select((Repo::as_select(), Account::as_select()))
        .load(c))?;
    let mut by_id: HashMap<i64, OwnedRepo> = rows
        .into_iter()
        .map(|(repo, owner)| (repo.id, OwnedRepo { repo, owner }))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// What one endpoint asks of a search beyond the query parameters.
pub(crate) struct Shape<'a> {
    pub kind: RepoKind,
    /// The parameter holding the free text (`search` for the Hub listing, `q` for ours).
    pub text_key: &'a str,
    pub page: Page,
    pub count_facets: Vec<String>,
    pub with_total: bool,
}

/// Runs a search for the caller and returns the repos of the page with the results.
pub(crate) async fn run_search(
    state: &AppState,
    caller: &Caller,
    query: &QueryParams,
    shape: Shape<'_>,
) -> ApiResult<(Vec<OwnedRepo>, grove_indexer::search::SearchResults)> {
    let Shape {
        kind,
        text_key,
        page,
        count_facets,
        with_total,
    } = shape;
    let principal = caller.0.clone();
    let viewer = state
        .db
        .run(move |conn| Viewer::load(conn, principal.as_ref()))
        .await?;
    let mut req = request_of(query, kind, text_key, &viewer, page)?;
    req.want_total = with_total;
    req.count_facets = count_facets;
    if query.get("gated") == Some("true") {
        // No repo on this hub is gated.
        return Ok((Vec::new(), grove_indexer::search::SearchResults::default()));
    }
    state.search.fresh().await?;
    let results = state.search.search(req).await?;
    let ids: Vec<i64> = results.hits.iter().map(|h| h.repo_id as i64).collect();
    let repos = state.db.run(move |conn| repos_in_order(conn, &ids)).await?;
    // The index may lag a visibility change (the freshness wait is bounded): the database row
    // has the last word, so a repo made private a moment ago is never listed to others.
    let repos = repos
        .into_iter()
        .filter(|r| r.repo.kind() == kind && viewer.can_see(r.owner.id, r.repo.private))
        .collect();
    Ok((repos, results))
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    kind: RepoKind,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::of(&req);
    check_params(&query, &[LIST_PARAMS])?;
    let page = Page::from_query(&query, 1000)?;
    let with_card = query.flag("cardData", false) || query.flag("full", false);
    let (found, results) = run_search(
        &state,
        &caller,
        &query,
        Shape {
            kind,
            text_key: "search",
            page,
            count_facets: Vec::new(),
            with_total: false,
        },
    )
    .await?;
    let more = results.more;
    let mut items: Vec<Value> = Vec::with_capacity(found.len());
    for r in &found {
        let card = card_of(&r.repo);
        let tags = r.repo.tags(&card);
        items.push(item_json(r, card, tags, with_card));
    }
    if query.flag("full", false) {
        // `full` adds each repo's files at its head, as `model_info` lists them.
        let git = state.git.clone();
        let heads = found.clone();
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
           ("pipeline_tag" = Option<String>, Query),
           ("num_parameters" = Option<String>, Query, description = "min:6B,max:128B"),
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

/// Full search with facets: free text `q`, facet filters (`license=mit`, `language=de`,
/// `pipeline_tag=…`, `library=…`, `relation=…`, `base_model=…`, `dataset=…`, `tag=…`),
/// `author`, `filter` (tags), parameter and date ranges, `sort`, and `facets` (comma-separated
/// facet fields to count over the filtered result).
#[utoipa::path(get, path = "/api/search/{kind}", tag = "search",
    params(("kind" = String, Path, description = "models or datasets"),
           ("q" = Option<String>, Query), ("facets" = Option<String>, Query),
           ("sort" = Option<String>, Query), ("limit" = Option<usize>, Query),
           ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "{total, items, facets, nextCursor}"),
              (status = 400, body = ErrorBody)))]
pub async fn search(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let kind = crate::http::repo_lookup::kind_from_plural(&path.into_inner())?;
    let query = QueryParams::of(&req);
    check_params(&query, &[LIST_PARAMS, SEARCH_PARAMS])?;
    let page = Page::from_query(&query, 20)?;
    let count_facets: Vec<String> = query
        .get("facets")
        .map(|f| {
            f.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let text_key = if query.get("q").is_some() {
        "q"
    } else {
        "search"
    };
    let (found, results) = run_search(
        &state,
        &caller,
        &query,
        Shape {
            kind,
            text_key,
            page,
            count_facets,
            with_total: true,
        },
    )
    .await?;
    let scores: HashMap<u64, f32> = results.hits.iter().map(|h| (h.repo_id, h.score)).collect();
    let items: Vec<Value> = found
        .iter()
        .map(|r| {
            let card = card_of(&r.repo);
            let tags = r.repo.tags(&card);
            let mut item = item_json(r, card, tags, true);
            item["score"] = json!(scores.get(&(r.repo.id as u64)));
            item
        })
        .collect();
    let facets: Map<String, Value> = results
        .facets
        .into_iter()
        .map(|(field, values)| {
            let obj: Map<String, Value> = values.into_iter().map(|(v, n)| (v, json!(n))).collect();
            (field, Value::Object(obj))
        })
        .collect();
    let next = results.more.then(|| page.offset + page.limit);
    let mut res = HttpResponse::Ok();
    if let Some(n) = next {
        res.insert_header((header::LINK, next_link(&state, &req, n)));
    }
    Ok(res.json(json!({
        "total": results.total,
        "items": items,
        "facets": facets,
    })))
}

/// Suggestions for the search box: models (or datasets) whose name or tags start with the last
/// word of `q`, most downloaded first.
#[utoipa::path(get, path = "/api/search/suggest", tag = "search",
    params(("q" = String, Query), ("kind" = Option<String>, Query, description = "model or dataset"),
           ("limit" = Option<usize>, Query, description = "1-20, default 8")),
    responses((status = 200, description = "[{id}]"), (status = 400, body = ErrorBody)))]
pub async fn suggest(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = QueryParams::of(&req);
    check_params(&query, &[&["q", "kind", "limit"]])?;
    let kind = RepoKind::parse(query.get("kind").unwrap_or("model"))?;
    let limit = match query.get("limit") {
        None => 8,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=20).contains(n))
            .ok_or_else(|| ApiError::BadRequest("limit must be from 1 to 20".into()))?,
    };
    let text = query.get("q").unwrap_or_default().to_string();
    let principal = caller.0.clone();
    let viewer = state
        .db
        .run(move |conn| Viewer::load(conn, principal.as_ref()))
        .await?;
    let visibility = Visibility {
        all: viewer.all,
        owners: viewer.owners.iter().map(|o| *o as u64).collect(),
    };
    let search = state.search.clone();
    let hits = state
        .blocking(move || {
            Ok(search
                .index()
                .suggest(kind.as_str(), &text, &visibility, limit)?)
        })
        .await?;
    let items: Vec<Value> = hits.into_iter().map(|h| json!({"id": h.id})).collect();
    Ok(HttpResponse::Ok().json(items))
}
