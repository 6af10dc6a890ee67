//! Reading a repo's content at a revision: resolving revisions, listing files, reading the card.
//! Synchronous git work: call it on the blocking pool.

use grove_storage::git::{CommitId, Entry, EntryKind, GitRepo, GitStore, RepoPath};

use super::model::OwnedRepo;
use super::service::git_error;
use crate::error::{ApiError, ApiResult};

/// Cards larger than this are not parsed for `cardData`.
pub const MAX_CARD_BYTES: u64 = 1024 * 1024;

pub fn open(git: &GitStore, repo: &OwnedRepo) -> ApiResult<GitRepo> {
    git.open(&repo.repo.git_key()).map_err(git_error)
}

/// The commit a revision names, or `RevisionNotFound`.
pub fn resolve(git_repo: &GitRepo, rev: &str) -> ApiResult<CommitId> {
    git_repo
        .resolve(rev)
        .map_err(git_error)?
        .map(|r| r.commit)
        .ok_or_else(|| ApiError::RevisionNotFound(format!("Invalid rev id: {rev}")))
}

/// Every file at `commit`, sorted by path.
pub fn files(git_repo: &GitRepo, commit: &CommitId) -> ApiResult<Vec<Entry>> {
    Ok(git_repo
        .list(commit, None, true)
        .map_err(git_error)?
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.kind == EntryKind::File)
        .collect())
}

/// The size of the file's content: the LFS object's size for pointers, else the blob's.
pub fn content_size(entry: &Entry) -> u64 {
    entry.lfs.as_ref().map_or(entry.size, |l| l.size)
}

/// The card's metadata at `commit` (`None` without a README, or when it does not parse).
pub fn card_metadata(
    git_repo: &GitRepo,
    commit: &CommitId,
) -> ApiResult<Option<serde_json::Map<String, serde_json::Value>>> {
    Ok(card(git_repo, commit)?.map(|c| c.metadata))
}

/// Cards' bodies are kept (for search) up to this many bytes.
pub const MAX_STORED_BODY: usize = 64 * 1024;

/// The card as the repo row stores it: metadata JSON and the body (cut at a char boundary).
pub fn stored_card(git_repo: &GitRepo, commit: &CommitId) -> ApiResult<super::model::StoredCard> {
    Ok(match card(git_repo, commit)? {
        None => super::model::StoredCard::default(),
        Some(c) => {
            let mut body = c.body;
            if body.len() > MAX_STORED_BODY {
                let mut cut = MAX_STORED_BODY;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                body.truncate(cut);
            }
            super::model::StoredCard {
                data: Some(serde_json::Value::Object(c.metadata).to_string()),
                body: Some(body),
            }
        }
    })
}

/// The parsed card at `commit` (`None` without a README, or when it does not parse).
pub fn card(git_repo: &GitRepo, commit: &CommitId) -> ApiResult<Option<grove_indexer::card::Card>> {
    let path = RepoPath::parse("README.md").map_err(git_error)?;
    let Some(entry) = git_repo.entry(commit, &path).map_err(git_error)? else {
        return Ok(None);
    };
    if entry.lfs.is_some() || entry.size > MAX_CARD_BYTES {
        return Ok(None);
    }
    let bytes = git_repo.read_blob(&entry.oid).map_err(git_error)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(grove_indexer::card::parse_card(&text).ok())
}
