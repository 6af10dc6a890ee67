//! The repo row and its queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::RepoKind;
use crate::accounts::Account;
use crate::db::DbConn;
use crate::db::schema::{accounts, repos};
use crate::error::ApiResult;
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = repos)]
pub struct Repo {
    pub id: i64,
    pub kind: String,
    pub owner_id: i64,
    pub name: String,
    pub name_key: String,
    pub private: bool,
    pub default_branch: String,
    pub downloads: i64,
    pub likes: i64,
    pub head_commit: Option<String>,
    pub card_data: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub lineage_tags: Option<String>,
    // `card_body` (up to 64 KiB) is left out on purpose: only indexing and forks read it
    // (`card_body_of`), and listings load many rows.
}

impl Repo {
    pub fn kind(&self) -> RepoKind {
        RepoKind::parse(&self.kind).unwrap_or(RepoKind::Model)
    }

    /// The key of its git repository in the git store: by id, so a deleted and re-created repo
    /// never sees the old history.
    /// The card's tags plus the `base_model:` tags of the current lineage edges.
    pub fn tags(&self, card: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
        let mut tags = grove_indexer::tags::derived_tags(card);
        let lineage: Vec<String> = self
            .lineage_tags
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        for t in lineage {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        tags
    }

    pub fn git_key(&self) -> String {
        format!("{}/{}", self.kind().plural(), self.id)
    }
}

/// A repo together with its owner account, as most handlers need both.
#[derive(Debug, Clone)]
pub struct OwnedRepo {
    pub repo: Repo,
    pub owner: Account,
}

impl OwnedRepo {
    /// `owner/name`, as the Hub spells repo ids.
    pub fn id(&self) -> String {
        format!("{}/{}", self.owner.name, self.repo.name)
    }
}

/// The repo `owner/name` of the given kind, without regard to case.
pub fn find_repo(
    conn: &mut DbConn,
    kind: RepoKind,
    owner: &str,
    name: &str,
) -> ApiResult<Option<OwnedRepo>> {
    let owner_key = owner.to_ascii_lowercase();
    let name_key = name.to_ascii_lowercase();
    let row: Option<(Repo, Account)> = with_conn!(conn, |c| repos::table
        .inner_join(accounts::table)
        .filter(accounts::name_key.eq(&owner_key))
        .filter(repos::kind.eq(kind.as_str()))
        .filter(repos::name_key.eq(&name_key))
        .select((Repo::as_select(), Account::as_select()))
        .first(c)
        .optional())?;
    Ok(row.map(|(repo, owner)| OwnedRepo { repo, owner }))
}

/// The stored card body of a repo (for indexing and forks).
pub fn card_body_of(conn: &mut DbConn, id: i64) -> ApiResult<Option<String>> {
    Ok(with_conn!(conn, |c| repos::table
        .find(id)
        .select(repos::card_body)
        .first::<Option<String>>(c)
        .optional())?
    .flatten())
}

/// The card as the repo row keeps it: front matter as JSON text, body as Markdown.
#[derive(Debug, Clone, Default)]
pub struct StoredCard {
    pub data: Option<String>,
    pub body: Option<String>,
}

/// Records the default branch's new tip and card after a commit (and queues the search update).
pub fn record_head(conn: &mut DbConn, repo_id: i64, head: &str, card: StoredCard) -> ApiResult<()> {
    with_conn!(conn, |c| diesel::update(repos::table.find(repo_id))
        .set((
            repos::head_commit.eq(head),
            repos::card_data.eq(&card.data),
            repos::card_body.eq(&card.body),
            repos::updated_at.eq(crate::time::now()),
        ))
        .execute(c))?;
    crate::search::changes::record(conn, repo_id)
}

/// Adds one download to the counter.
pub fn count_download(conn: &mut DbConn, repo_id: i64) -> ApiResult<()> {
    with_conn!(conn, |c| diesel::update(repos::table.find(repo_id))
        .set(repos::downloads.eq(repos::downloads + 1))
        .execute(c))?;
    crate::search::changes::record(conn, repo_id)
}

/// The repo with this id, with its owner.
pub fn find_repo_by_id(conn: &mut DbConn, id: i64) -> ApiResult<Option<OwnedRepo>> {
    let row: Option<(Repo, Account)> = with_conn!(conn, |c| repos::table
        .inner_join(accounts::table)
        .filter(repos::id.eq(id))
        .select((Repo::as_select(), Account::as_select()))
        .first(c)
        .optional())?;
    Ok(row.map(|(repo, owner)| OwnedRepo { repo, owner }))
}
