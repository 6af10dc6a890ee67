//! Revisions and refs: resolving a revision string, listing, creating and deleting branches
//! and tags.
//!
//! Resolution order: a full 40-hex id is always a commit id (so no branch can shadow a pinned
//! commit, and Grove refuses branch and tag names that are 40 hex digits); `refs/heads/x` and
//! `refs/tags/x` name exactly one ref; any other name is tried as a branch, then as a tag.

use git2::{ErrorClass, ErrorCode, ObjectType, Reference};

use super::error::{GitError, is_not_found};
use super::ids::{Author, CommitId, is_full_hex};
use super::repo::GitRepo;

/// Longest accepted branch or tag name, in bytes.
pub const MAX_REF_NAME_BYTES: usize = 255;

const HEADS: &str = "refs/heads/";
const TAGS: &str = "refs/tags/";

/// What a revision string named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevKind {
    /// A branch (short name, e.g. `main` or `feat/x`).
    Branch(String),
    /// A tag (short name), lightweight or annotated.
    Tag(String),
    /// A full commit id.
    Commit,
}

/// A resolved revision: the commit it names now, and how it was named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The commit (annotated tags peeled).
    pub commit: CommitId,
    /// Branch, tag or commit id.
    pub kind: RevKind,
}

/// All branches and tags of a repo, each sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refs {
    /// `(short name, tip)`.
    pub branches: Vec<(String, CommitId)>,
    /// `(short name, commit)`: annotated tags peeled to their commit.
    pub tags: Vec<(String, CommitId)>,
}

impl GitRepo {
    /// Resolve a revision: a branch name (`main`, `feat/x`), a tag name, `refs/heads/…`,
    /// `refs/tags/…`, or a full 40-hex commit id that exists. `Ok(None)` when it names nothing
    /// (including names git could never accept).
    pub fn resolve(&self, rev: &str) -> Result<Option<Resolved>, GitError> {
        if is_full_hex(rev) {
            let id = CommitId::parse(rev)?;
            return match self.find_commit(&id) {
                Ok(_) => Ok(Some(Resolved {
                    commit: id,
                    kind: RevKind::Commit,
                })),
                Err(GitError::RevisionNotFound(_)) => Ok(None),
                Err(e) => Err(e),
            };
        }
        if let Some(name) = rev.strip_prefix(HEADS) {
            return self.lookup(HEADS, name, RevKind::Branch);
        }
        if let Some(name) = rev.strip_prefix(TAGS) {
            return self.lookup(TAGS, name, RevKind::Tag);
        }
        if let Some(found) = self.lookup(HEADS, rev, RevKind::Branch)? {
            return Ok(Some(found));
        }
        self.lookup(TAGS, rev, RevKind::Tag)
    }

    fn lookup(
        &self,
        prefix: &str,
        name: &str,
        kind: fn(String) -> RevKind,
    ) -> Result<Option<Resolved>, GitError> {
        let full = format!("{prefix}{name}");
        if name.is_empty() || !Reference::is_valid_name(&full) {
            return Ok(None);
        }
        let reference = match self.repo.find_reference(&full) {
            Ok(r) => r,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(peel_to_commit(&reference)?.map(|commit| Resolved {
            commit,
            kind: kind(name.to_owned()),
        }))
    }

    /// All branches and tags, sorted by name. Refs that do not lead to a commit are skipped.
    pub fn refs(&self) -> Result<Refs, GitError> {
        let mut refs = Refs::default();
        for reference in self.repo.references()? {
            let reference = reference?;
            let Ok(name) = reference.name() else {
                continue;
            };
            let (list, short) = if let Some(short) = name.strip_prefix(HEADS) {
                (&mut refs.branches, short.to_owned())
            } else if let Some(short) = name.strip_prefix(TAGS) {
                (&mut refs.tags, short.to_owned())
            } else {
                continue;
            };
            if let Some(commit) = peel_to_commit(&reference)? {
                list.push((short, commit));
            }
        }
        refs.branches.sort();
        refs.tags.sort();
        Ok(refs)
    }

    /// Create branch `name` at commit `from`. [`GitError::RefExists`] if it (or a clashing name
    /// such as `a` for `a/b`) exists; [`GitError::InvalidRefName`] for names git refuses, names
    /// starting with `refs/` or `-`, `HEAD`, `@` and 40-hex names;
    /// [`GitError::RevisionNotFound`] if `from` is not a commit here.
    pub fn create_branch(&self, name: &str, from: &CommitId) -> Result<(), GitError> {
        let full = checked_ref_name(HEADS, name)?;
        let commit = self.find_commit(from)?;
        self.refuse_clash(&full, name)?;
        self.repo
            .reference(&full, commit.id(), false, "branch: created")
            .map_err(|e| exists_or(e, name))?;
        Ok(())
    }

    /// Delete branch `name`. The default branch is [`GitError::Refused`]; a missing one is
    /// [`GitError::RevisionNotFound`].
    pub fn delete_branch(&self, name: &str) -> Result<(), GitError> {
        if name == self.default_branch()? || name == super::store::DEFAULT_BRANCH {
            return Err(GitError::Refused(format!(
                "the default branch {name:?} cannot be deleted"
            )));
        }
        self.delete_ref(HEADS, name)
    }

    /// Create tag `name` on commit `target`: annotated (a tag object by `author`) when a
    /// message is given, lightweight otherwise. Errors as for [`GitRepo::create_branch`].
    pub fn create_tag(
        &self,
        name: &str,
        target: &CommitId,
        message: Option<&str>,
        author: &Author,
    ) -> Result<(), GitError> {
        let full = checked_ref_name(TAGS, name)?;
        let commit = self.find_commit(target)?;
        self.refuse_clash(&full, name)?;
        match message {
            Some(message) => {
                let tagger = author.signature_now()?;
                self.repo
                    .tag(name, commit.as_object(), &tagger, message, false)
                    .map_err(|e| exists_or(e, name))?;
            }
            None => {
                self.repo
                    .reference(&full, commit.id(), false, "tag: created")
                    .map_err(|e| exists_or(e, name))?;
            }
        }
        Ok(())
    }

    /// Delete tag `name` ([`GitError::RevisionNotFound`] if missing).
    pub fn delete_tag(&self, name: &str) -> Result<(), GitError> {
        self.delete_ref(TAGS, name)
    }

    /// Refs are files, so `a` and `a/b` cannot both exist: refuse a new name that equals an
    /// existing ref, lies under one, or has refs under it. (libgit2 would also refuse, with
    /// errors that do not say "exists"; a race between the check and the write still ends in
    /// one of those, mapped by [`exists_or`].)
    fn refuse_clash(&self, full: &str, name: &str) -> Result<(), GitError> {
        for reference in self.repo.references()? {
            let reference = reference?;
            let Ok(existing) = reference.name() else {
                continue;
            };
            let clash = existing == full
                || existing
                    .strip_prefix(full)
                    .is_some_and(|rest| rest.starts_with('/'))
                || full
                    .strip_prefix(existing)
                    .is_some_and(|rest| rest.starts_with('/'));
            if clash {
                return Err(GitError::RefExists(name.to_owned()));
            }
        }
        Ok(())
    }

    fn delete_ref(&self, prefix: &str, name: &str) -> Result<(), GitError> {
        let full = format!("{prefix}{name}");
        if name.is_empty() || !Reference::is_valid_name(&full) {
            return Err(GitError::RevisionNotFound(name.to_owned()));
        }
        let mut reference = match self.repo.find_reference(&full) {
            Ok(r) => r,
            Err(e) if is_not_found(&e) => return Err(GitError::RevisionNotFound(name.to_owned())),
            Err(e) => return Err(e.into()),
        };
        // libgit2 deletes only if the ref still has the value just read.
        match reference.delete() {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Err(GitError::RevisionNotFound(name.to_owned())),
            Err(e) => Err(e.into()),
        }
    }
}

/// Validate a short branch or tag name and return the full ref name.
fn checked_ref_name(prefix: &str, name: &str) -> Result<String, GitError> {
    let full = format!("{prefix}{name}");
    let refused = name.is_empty()
        || name.len() > MAX_REF_NAME_BYTES
        || name.starts_with("refs/")
        || name.starts_with('-')
        || name == "HEAD"
        || name == "@"
        || is_full_hex(name)
        || !Reference::is_valid_name(&full);
    if refused {
        Err(GitError::InvalidRefName(name.to_owned()))
    } else {
        Ok(full)
    }
}

fn exists_or(e: git2::Error, name: &str) -> GitError {
    if matches!(e.code(), ErrorCode::Exists | ErrorCode::Directory) {
        GitError::RefExists(name.to_owned())
    } else {
        GitError::Git(e)
    }
}

/// The commit a ref leads to, or `None` when it leads to something else (a tree, a blob).
fn peel_to_commit(reference: &Reference<'_>) -> Result<Option<CommitId>, GitError> {
    match reference.peel(ObjectType::Commit) {
        Ok(object) => Ok(Some(CommitId::from_oid(object.id()))),
        Err(e)
            if is_not_found(&e)
                || matches!(e.code(), ErrorCode::Peel | ErrorCode::InvalidSpec)
                || e.class() == ErrorClass::Object =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names() {
        for good in ["main", "feat/x", "v1.0", "release-2024", "a_b", "ünïcode"] {
            assert!(checked_ref_name(HEADS, good).is_ok(), "{good:?}");
        }
        let hex40 = "0123456789abcdef0123456789abcdef01234567";
        let long = "a".repeat(MAX_REF_NAME_BYTES + 1);
        for bad in [
            "",
            "a..b",
            "x.lock",
            "refs/pr/1",
            "refs/heads/x",
            "-x",
            "a b",
            "a~b",
            "a^b",
            "a:b",
            "a?b",
            "a*b",
            "a[b",
            "a\\b",
            "a/",
            "/a",
            "a//b",
            ".a",
            "a/.b",
            "a@{b",
            "@",
            "HEAD",
            "a\0b",
            "a\tb",
            hex40,
            long.as_str(),
        ] {
            assert!(checked_ref_name(HEADS, bad).is_err(), "{bad:?} accepted");
        }
    }
}
