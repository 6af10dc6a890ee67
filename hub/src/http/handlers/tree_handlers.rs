//! Browsing a repo: file trees, paths-info, refs, commit history, branches and tags.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use grove_storage::git::{CommitId, Entry, EntryKind, GitRepo, RepoPath};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::accounts::Access;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::pagination::{Page, next_link};
use crate::http::query::QueryParams;
use crate::http::repo_lookup::{kind_from_plural, load_repo};
use crate::repos::RepoAction;
use crate::repos::files::{self, content_size};
use crate::repos::service::{author_of, git_error};
use crate::time::wire;

/// Tree entries per page (the Hub pages at 1000, and at 50 when `expand` asks for last commits).
const TREE_PAGE: usize = 1000;
const TREE_PAGE_EXPANDED: usize = 50;
/// At most this many paths per paths-info call.
const MAX_PATHS_INFO: usize = 1000;

fn unix_to_wire(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|d| wire(d.naive_utc()))
        .unwrap_or_default()
}

/// Tree entries as the Hub spells them. With `expand`, the last commit of every entry comes from
/// one history walk for the whole page, not one walk per entry.
fn entries_json(
    git_repo: &GitRepo,
    commit: &CommitId,
    entries: &[&Entry],
    expand: bool,
) -> ApiResult<Vec<Value>> {
    let last_commits = if expand {
        let paths = entries
            .iter()
            .map(|e| RepoPath::parse(&e.path))
            .collect::<Result<Vec<_>, _>>()
            .map_err(git_error)?;
        git_repo
            .last_commits_for(commit, &paths)
            .map_err(git_error)?
    } else {
        vec![None; entries.len()]
    };
    Ok(entries
        .iter()
        .zip(last_commits)
        .map(|(e, last)| {
            let mut v = match e.kind {
                EntryKind::Dir => json!({ "type": "directory", "path": e.path, "oid": e.oid }),
                EntryKind::File => {
                    let mut v = json!({
                        "type": "file",
                        "path": e.path,
                        "size": content_size(e),
                        "oid": e.oid,
                    });
                    if let Some(lfs) = &e.lfs {
                        v["lfs"] =
                            json!({ "oid": lfs.oid, "size": lfs.size, "pointerSize": e.size });
                    }
                    v
                }
            };
            if let Some(last) = last {
                v["lastCommit"] = json!({
                    "id": last.id.to_string(),
                    "title": last.title,
                    "date": unix_to_wire(last.time),
                });
            }
            v
        })
        .collect())
}

async fn tree(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    (kind, owner, name, rev, dir): (String, String, String, String, Option<String>),
) -> ApiResult<HttpResponse> {
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
    let query = QueryParams::of(&req);
    let recursive = query.flag("recursive", false);
    let expand = query.flag("expand", false);
    let page = Page::from_query(
        &query,
        if expand {
            TREE_PAGE_EXPANDED
        } else {
            TREE_PAGE
        },
    )?;
    let git = state.git.clone();
    let (mut items, more) = state
        .blocking(move || {
            let git_repo = files::open(&git, &repo)?;
            let commit = files::resolve(&git_repo, &rev)?;
            let dir = match dir.as_deref().filter(|d| !d.is_empty()) {
                Some(d) => Some(
                    RepoPath::parse_folder(d)
                        .map_err(|_| ApiError::EntryNotFound(format!("Entry not found: {d}")))?,
                ),
                None => None,
            };
            let entries = git_repo
                .list(&commit, dir.as_ref(), recursive)
                .map_err(git_error)?
                .ok_or_else(|| {
                    ApiError::EntryNotFound(format!(
                        "Entry not found: {}",
                        dir.as_ref().map(RepoPath::as_str).unwrap_or_default()
                    ))
                })?;
            let more = entries.len() > page.offset + page.limit;
            let page_entries: Vec<&Entry> =
                entries.iter().skip(page.offset).take(page.limit).collect();
            let items = entries_json(&git_repo, &commit, &page_entries, expand)?;
            Ok((items, more))
        })
        .await?;
    super::xet_handlers::add_xet_hashes(&state, &mut items).await?;
    let mut res = HttpResponse::Ok();
    if more {
        res.insert_header((
            header::LINK,
            next_link(&state, &req, page.offset + page.limit),
        ));
    }
    Ok(res.json(items))
}

/// Lists a repo's files and folders at a revision.
#[utoipa::path(get, path = "/api/{kind}/{owner}/{name}/tree/{rev}", tag = "files",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path), ("recursive" = Option<bool>, Query),
           ("expand" = Option<bool>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "entries; Link: rel=next when more"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_tree(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, rev) = path.into_inner();
    tree(state, caller, req, (kind, owner, name, rev, None)).await
}

/// Lists a folder of a repo at a revision.
#[utoipa::path(get, path = "/api/{kind}/{owner}/{name}/tree/{rev}/{path}", tag = "files",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path), ("path" = String, Path), ("recursive" = Option<bool>, Query),
           ("expand" = Option<bool>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "entries; Link: rel=next when more"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_tree_folder(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, rev, dir) = path.into_inner();
    tree(state, caller, req, (kind, owner, name, rev, Some(dir))).await
}

/// Metadata of the given paths at a revision (form body `paths=…&paths=…&expand=…`); missing
/// paths are left out.
#[utoipa::path(post, path = "/api/{kind}/{owner}/{name}/paths-info/{rev}", tag = "files",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "entries"), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn get_paths_info(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, rev) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
    let mut paths = Vec::new();
    let mut expand = false;
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "paths" => paths.push(v.into_owned()),
            "expand" => expand = v == "true" || v == "1",
            _ => {}
        }
    }
    if paths.len() > MAX_PATHS_INFO {
        return Err(ApiError::PayloadTooLarge(format!(
            "at most {MAX_PATHS_INFO} paths per call"
        )));
    }
    let git = state.git.clone();
    let mut items = state
        .blocking(move || {
            let git_repo = files::open(&git, &repo)?;
            let commit = files::resolve(&git_repo, &rev)?;
            let mut found = Vec::new();
            for raw in paths {
                let Ok(path) = RepoPath::parse(raw.trim_end_matches('/')) else {
                    continue;
                };
                if let Some(entry) = git_repo.entry(&commit, &path).map_err(git_error)? {
                    found.push(entry);
                }
            }
            let found: Vec<&Entry> = found.iter().collect();
            entries_json(&git_repo, &commit, &found, expand)
        })
        .await?;
    super::xet_handlers::add_xet_hashes(&state, &mut items).await?;
    Ok(HttpResponse::Ok().json(items))
}

/// Branches and tags.
#[utoipa::path(get, path = "/api/{kind}/{owner}/{name}/refs", tag = "refs",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("include_prs" = Option<bool>, Query)),
    responses((status = 200, description = "{branches, converts, tags, pullRequests?}"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_refs(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
    let include_prs = QueryParams::of(&req).flag("include_prs", false);
    let git = state.git.clone();
    let refs = state
        .blocking(move || files::open(&git, &repo)?.refs().map_err(git_error))
        .await?;
    let list = |items: &[(String, CommitId)], prefix: &str| -> Vec<Value> {
        items
            .iter()
            .map(|(name, commit)| {
                json!({ "name": name, "ref": format!("{prefix}{name}"), "targetCommit": commit.to_string() })
            })
            .collect()
    };
    let mut body = json!({
        "branches": list(&refs.branches, "refs/heads/"),
        "converts": [],
        "tags": list(&refs.tags, "refs/tags/"),
    });
    if include_prs {
        body["pullRequests"] = json!([]);
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Commit history from a revision, newest first.
#[utoipa::path(get, path = "/api/{kind}/{owner}/{name}/commits/{rev}", tag = "refs",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path), ("limit" = Option<usize>, Query),
           ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "commits; Link: rel=next when more"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_commits(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, rev) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Read).await?;
    let query = QueryParams::of(&req);
    let formatted =
        query.all("expand[]").contains(&"formatted") || query.all("expand").contains(&"formatted");
    let page = Page::from_query(&query, 50)?;
    let git = state.git.clone();
    let (commits, more) = state
        .blocking(move || {
            let git_repo = files::open(&git, &repo)?;
            let head = files::resolve(&git_repo, &rev)?;
            git_repo
                .log(&head, page.offset, page.limit)
                .map_err(git_error)
        })
        .await?;
    let items: Vec<Value> = commits
        .into_iter()
        .map(|c| {
            let mut v = json!({
                "id": c.id.to_string(),
                "title": c.title,
                "message": c.message,
                "date": unix_to_wire(c.time),
                "authors": [{ "user": c.author_name }],
            });
            if formatted {
                v["formatted"] = json!({ "title": c.title, "message": c.message });
            }
            v
        })
        .collect();
    let mut res = HttpResponse::Ok();
    if more {
        res.insert_header((
            header::LINK,
            next_link(&state, &req, page.offset + page.limit),
        ));
    }
    Ok(res.json(items))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateBranchRequest {
    starting_point: Option<String>,
}

/// Creates a branch at a revision (the default branch's tip when none is given).
#[utoipa::path(post, path = "/api/{kind}/{owner}/{name}/branch/{branch}", tag = "refs",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("branch" = String, Path)),
    request_body = CreateBranchRequest,
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn create_branch(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, branch) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let request: CreateBranchRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CreateBranchRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Write).await?;
    let git = state.git.clone();
    state
        .blocking(move || {
            let git_repo = files::open(&git, &repo)?;
            let start = request
                .starting_point
                .unwrap_or_else(|| repo.repo.default_branch.clone());
            let from = files::resolve(&git_repo, &start)?;
            git_repo.create_branch(&branch, &from).map_err(git_error)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// Deletes a branch (never the default branch).
#[utoipa::path(delete, path = "/api/{kind}/{owner}/{name}/branch/{branch}", tag = "refs",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("branch" = String, Path)),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn delete_branch(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, branch) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Write).await?;
    let git = state.git.clone();
    state
        .blocking(move || {
            if branch == repo.repo.default_branch {
                return Err(ApiError::Forbidden(format!(
                    "the default branch {branch} cannot be deleted"
                )));
            }
            files::open(&git, &repo)?
                .delete_branch(&branch)
                .map_err(git_error)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateTagRequest {
    tag: String,
    message: Option<String>,
}

/// Tags a revision (the URL names the revision; the body names the tag).
#[utoipa::path(post, path = "/api/{kind}/{owner}/{name}/tag/{rev}", tag = "refs",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("rev" = String, Path)),
    request_body = CreateTagRequest,
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn create_tag(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
    body: web::Json<CreateTagRequest>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, rev) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Write).await?;
    let author = author_of(&caller.require(Access::Write)?.user);
    let CreateTagRequest { tag, message } = body.into_inner();
    let git = state.git.clone();
    state
        .blocking(move || {
            let git_repo = files::open(&git, &repo)?;
            let target = files::resolve(&git_repo, &rev)?;
            git_repo
                .create_tag(&tag, &target, message.as_deref(), &author)
                .map_err(git_error)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// Deletes a tag.
#[utoipa::path(delete, path = "/api/{kind}/{owner}/{name}/tag/{tag}", tag = "refs",
    params(("kind" = String, Path), ("owner" = String, Path), ("name" = String, Path),
           ("tag" = String, Path)),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn delete_tag(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, owner, name, tag) = path.into_inner();
    let kind = kind_from_plural(&kind)?;
    let repo = load_repo(&state, &caller, kind, owner, name, RepoAction::Write).await?;
    let git = state.git.clone();
    state
        .blocking(move || {
            files::open(&git, &repo)?
                .delete_tag(&tag)
                .map_err(git_error)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
