//! Creating, deleting and configuring repos: the database row and the git repository together.
//!
//! Creation order makes a half-made repo invisible: the row is inserted inside a transaction, the
//! git repository is created (atomically, by rename) before the transaction commits, and only the
//! commit makes the repo visible. A failure at any step rolls the row back; at worst an
//! unreferenced git directory is left for `grove gc`. Deletion removes the row first (the repo
//! disappears at once) and the git directory after.

use diesel::prelude::*;
use grove_storage::git::{Author, DEFAULT_GITATTRIBUTES, GitError, GitStore};

use super::RepoKind;
use super::model::{OwnedRepo, Repo};
use crate::accounts::{Account, audit};
use crate::db::schema::repos;
use crate::db::{DbConn, is_unique_violation};
use crate::error::{ApiError, ApiResult};
use crate::names::RepoName;
use crate::with_conn;

/// The author recorded on commits made by `user`.
pub fn author_of(user: &Account) -> Author {
    Author {
        name: user.name.clone(),
        email: user
            .email
            .clone()
            .unwrap_or_else(|| format!("{}@users.noreply.grove", user.name)),
    }
}

/// Maps git-layer failures onto HTTP errors; unexpected ones stay internal.
pub fn git_error(e: GitError) -> ApiError {
    match e {
        e @ GitError::InvalidPath { .. } => ApiError::BadRequest(e.to_string()),
        GitError::PathNotFound(p) => {
            ApiError::EntryNotFound(format!("A file with this name doesn't exist: {p}"))
        }
        e @ GitError::PathConflict { .. } => ApiError::BadRequest(e.to_string()),
        GitError::StaleParent { .. } => ApiError::PreconditionFailed(
            "A commit has happened since. Please refresh and try again.".into(),
        ),
        GitError::RevisionNotFound(r) => ApiError::RevisionNotFound(format!("Invalid rev id: {r}")),
        GitError::RefExists(r) => ApiError::Conflict(format!("Reference already exists: {r}")),
        GitError::InvalidRefName(r) => ApiError::BadRequest(format!("Invalid reference name: {r}")),
        GitError::Refused(m) => ApiError::Forbidden(m),
        e @ (GitError::InvalidCommitId(_) | GitError::InvalidObjectId(_)) => {
            ApiError::BadRequest(e.to_string())
        }
        GitError::Busy { .. } => {
            ApiError::Unavailable("the branch is busy with other commits; retry shortly".into())
        }
        other => ApiError::internal(other),
    }
}

/// Inserts the repo row (inside the caller's transaction); a taken name is a `Conflict`.
fn insert_row(
    conn: &mut DbConn,
    owner: &Account,
    kind: RepoKind,
    name: &RepoName,
    private: bool,
    card_data: Option<&String>,
) -> ApiResult<Repo> {
    let now = crate::time::now();
    let row = (
        repos::kind.eq(kind.as_str()),
        repos::owner_id.eq(owner.id),
        repos::name.eq(name.as_str()),
        repos::name_key.eq(name.key()),
        repos::private.eq(private),
        repos::card_data.eq(card_data),
        repos::created_at.eq(now),
        repos::updated_at.eq(now),
    );
    with_conn!(conn, |c| diesel::insert_into(repos::table)
        .values(row)
        .returning(Repo::as_returning())
        .get_result(c))
    .map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict(format!(
                "You already created this {kind} repo: {}/{name}",
                owner.name
            ))
        } else {
            e.into()
        }
    })
}

pub fn create_repo(
    conn: &mut DbConn,
    git: &GitStore,
    owner: &Account,
    kind: RepoKind,
    name: &RepoName,
    private: bool,
    actor: &Account,
) -> ApiResult<OwnedRepo> {
    conn.transaction(|conn| {
        let repo = insert_row(conn, owner, kind, name, private, None)?;
        let head = git
            .create(&repo.git_key(), &author_of(actor), DEFAULT_GITATTRIBUTES)
            .map_err(git_error)?;
        super::model::record_head(conn, repo.id, head.as_ref(), Default::default())?;
        let target = format!("{}:{}/{}", kind, owner.name, name);
        let detail = if private { "private" } else { "public" };
        audit::record(conn, Some(actor.id), "repo.create", &target, detail)?;
        let repo = Repo {
            head_commit: Some(head.to_string()),
            ..repo
        };
        Ok(OwnedRepo {
            repo,
            owner: owner.clone(),
        })
    })
}

pub fn delete_repo(
    conn: &mut DbConn,
    git: &GitStore,
    repo: &OwnedRepo,
    actor: &Account,
) -> ApiResult<()> {
    conn.transaction(|conn| {
        crate::lineage::edges::on_delete(conn, repo.repo.id)?;
        crate::search::changes::record(conn, repo.repo.id)?;
        with_conn!(conn, |c| diesel::delete(repos::table.find(repo.repo.id))
            .execute(c))?;
        let target = format!("{}:{}", repo.repo.kind, repo.id());
        audit::record(conn, Some(actor.id), "repo.delete", &target, "")
    })?;
    if let Err(e) = git.delete(&repo.repo.git_key()) {
        // The row is gone, so nothing can reach the directory any more; gc reclaims it.
        tracing::warn!(error = %e, repo = %repo.id(), "could not remove the git directory");
    }
    Ok(())
}

pub fn set_visibility(
    conn: &mut DbConn,
    repo: &OwnedRepo,
    private: bool,
    actor: &Account,
) -> ApiResult<()> {
    conn.transaction(|conn| {
        with_conn!(conn, |c| diesel::update(repos::table.find(repo.repo.id))
            .set((
                repos::private.eq(private),
                repos::updated_at.eq(crate::time::now()),
            ))
            .execute(c))?;
        crate::lineage::edges::on_visibility_change(conn, repo.repo.id, private)?;
        crate::search::changes::record(conn, repo.repo.id)?;
        let target = format!("{}:{}", repo.repo.kind, repo.id());
        let detail = if private { "private" } else { "public" };
        audit::record(conn, Some(actor.id), "repo.visibility", &target, detail)
    })
}

/// Creates `owner/name` as a fork of `source`: the whole git history is copied (weights are
/// LFS pointers, so no weight byte is copied: both repos name the same blobs) and a `fork`
/// lineage edge pins the source's head. Like creation, nothing is visible before the
/// transaction commits.
pub fn fork_repo(
    conn: &mut DbConn,
    git: &GitStore,
    source: &OwnedRepo,
    owner: &Account,
    name: &RepoName,
    private: bool,
    actor: &Account,
) -> ApiResult<OwnedRepo> {
    let kind = source.repo.kind();
    conn.transaction(|conn| {
        let repo = insert_row(
            conn,
            owner,
            kind,
            name,
            private,
            source.repo.card_data.as_ref(),
        )?;
        let head = git
            .fork(&source.repo.git_key(), &repo.git_key())
            .map_err(git_error)?;
        let head = head.to_string();
        let card = super::model::StoredCard {
            data: source.repo.card_data.clone(),
            body: super::model::card_body_of(conn, source.repo.id)?,
        };
        super::model::record_head(conn, repo.id, &head, card)?;
        crate::lineage::edges::add_fork_edge(
            conn,
            repo.id,
            &head,
            &crate::lineage::edges::NewEdge {
                parent_repo_id: source.repo.id,
                parent_name: source.id(),
                parent_commit: Some(head.clone()),
                relation: "fork".into(),
                source: "fork_api".into(),
                relation_stated: true,
                position: 0,
                merge_weight: None,
                merge_base: false,
                recipe: None,
                // Same commit, same tree: the weights are the source's by construction.
                verification: "verified".into(),
                evidence: serde_json::json!({"rule": "same commit"}).to_string(),
            },
        )?;
        crate::lineage::scans::enqueue(conn, repo.id, &head)?;
        let target = format!("{}:{}/{}", kind, owner.name, name);
        audit::record(conn, Some(actor.id), "repo.fork", &target, &source.id())?;
        let repo = Repo {
            head_commit: Some(head),
            card_data: source.repo.card_data.clone(),
            ..repo
        };
        Ok(OwnedRepo {
            repo,
            owner: owner.clone(),
        })
    })
}
