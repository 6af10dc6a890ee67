//! Commit metadata and history walks: one commit, a page of the log, and "the last commit that
//! changed this path".

use std::path::Path;

use git2::{Commit, Oid, Sort, Tree};

use super::error::{GitError, is_not_found};
use super::ids::CommitId;
use super::path::RepoPath;
use super::repo::GitRepo;

/// How many commits [`GitRepo::last_commit_for`] examines before giving up (and answering
/// `None`). Keeps `expand=true` listings bounded on long histories.
pub const LAST_COMMIT_WALK_LIMIT: usize = 1000;

/// What the Hub shows of a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// The commit id.
    pub id: CommitId,
    /// Parent ids (none for a root commit).
    pub parents: Vec<CommitId>,
    /// The first line of the message.
    pub title: String,
    /// The rest of the message after the first line, trimmed (empty when there is none).
    pub message: String,
    /// Author name.
    pub author_name: String,
    /// Author email.
    pub author_email: String,
    /// Author time, unix seconds.
    pub time: i64,
}

impl CommitInfo {
    pub(crate) fn from_commit(commit: &Commit<'_>) -> Self {
        let full = String::from_utf8_lossy(commit.message_bytes());
        let (title, rest) = full.split_once('\n').unwrap_or((&full, ""));
        let author = commit.author();
        Self {
            id: CommitId::from_oid(commit.id()),
            parents: commit.parent_ids().map(CommitId::from_oid).collect(),
            title: title.trim_end().to_owned(),
            message: rest.trim().to_owned(),
            author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            time: author.when().seconds(),
        }
    }
}

impl GitRepo {
    /// Metadata of one commit ([`GitError::RevisionNotFound`] if it does not exist).
    pub fn commit_info(&self, id: &CommitId) -> Result<CommitInfo, GitError> {
        Ok(CommitInfo::from_commit(&self.find_commit(id)?))
    }

    /// One page of history from `from`, newest first (topological order, ties by time), skipping
    /// `skip` commits and returning at most `limit`; the flag says whether more follow. Each
    /// page walks from `from` again, so deep pages cost O(skip).
    pub fn log(
        &self,
        from: &CommitId,
        skip: usize,
        limit: usize,
    ) -> Result<(Vec<CommitInfo>, bool), GitError> {
        self.find_commit(from)?;
        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
        walk.push(from.oid())?;
        let mut page = Vec::with_capacity(limit.min(1000));
        let mut more = false;
        for oid in walk.skip(skip) {
            let oid = oid?;
            if page.len() == limit {
                more = true;
                break;
            }
            page.push(CommitInfo::from_commit(&self.repo.find_commit(oid)?));
        }
        Ok((page, more))
    }

    /// The most recent commit reachable from `commit` that changed `path` (a file or a
    /// directory): the first one, newest first, whose entry at `path` differs from the entry in
    /// each of its parents. `None` when the path does not exist at `commit`, or when no such
    /// commit is found within [`LAST_COMMIT_WALK_LIMIT`] commits.
    pub fn last_commit_for(
        &self,
        commit: &CommitId,
        path: &RepoPath,
    ) -> Result<Option<CommitInfo>, GitError> {
        let mut found = self.last_commits_for(commit, std::slice::from_ref(path))?;
        Ok(found.pop().flatten())
    }

    /// [`GitRepo::last_commit_for`] for many paths in one history walk (what a listing page
    /// with `expand=true` needs). The answer has one slot per path, in order.
    pub fn last_commits_for(
        &self,
        commit: &CommitId,
        paths: &[RepoPath],
    ) -> Result<Vec<Option<CommitInfo>>, GitError> {
        let start = self.find_commit(commit)?;
        let start_tree = start.tree()?;
        let mut answers: Vec<Option<CommitInfo>> = vec![None; paths.len()];
        let mut pending: Vec<usize> = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            if entry_id(&start_tree, path)?.is_some() {
                pending.push(i);
            }
        }

        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
        walk.push(start.id())?;
        for oid in walk.take(LAST_COMMIT_WALK_LIMIT) {
            if pending.is_empty() {
                break;
            }
            let candidate = self.repo.find_commit(oid?)?;
            let tree = candidate.tree()?;
            let parent_trees = candidate
                .parents()
                .map(|p| p.tree())
                .collect::<Result<Vec<Tree<'_>>, _>>()?;
            if parent_trees.iter().any(|t| t.id() == tree.id()) {
                continue; // same tree as a parent: this commit changed nothing
            }
            let mut still_pending = Vec::with_capacity(pending.len());
            for i in pending {
                if changed(&tree, &parent_trees, &paths[i])? {
                    answers[i] = Some(CommitInfo::from_commit(&candidate));
                } else {
                    still_pending.push(i);
                }
            }
            pending = still_pending;
        }
        Ok(answers)
    }
}

/// Whether `path` in `tree` differs from `path` in every parent tree (a root commit changed
/// every path it has).
fn changed(tree: &Tree<'_>, parents: &[Tree<'_>], path: &RepoPath) -> Result<bool, GitError> {
    let here = entry_id(tree, path)?;
    for parent in parents {
        if entry_id(parent, path)? == here {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The object id at `path` in `tree`, if any.
pub(crate) fn entry_id(tree: &Tree<'_>, path: &RepoPath) -> Result<Option<Oid>, GitError> {
    match tree.get_path(Path::new(path.as_str())) {
        Ok(entry) => Ok(Some(entry.id())),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
