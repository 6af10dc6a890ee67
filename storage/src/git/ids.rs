//! Commit ids, object ids and commit authors.

use std::fmt;

use super::error::GitError;

/// Length of a (SHA-1) git object id in hex digits.
pub const GIT_OID_HEX_LEN: usize = 40;

/// A full git commit id: 40 hex digits, kept in lowercase.
///
/// Parsing accepts upper- or lowercase hex (the Hub client's `parentCommit` check does too) and
/// stores lowercase, so two `CommitId`s are equal exactly when they name the same commit.
/// Validity says nothing about existence: [`GitRepo::resolve`](super::GitRepo::resolve) does.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitId(String);

impl CommitId {
    /// Parse a 40-hex commit id.
    pub fn parse(s: &str) -> Result<Self, GitError> {
        if is_full_hex(s) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(GitError::InvalidCommitId(s.to_owned()))
        }
    }

    /// The 40 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_oid(oid: git2::Oid) -> Self {
        Self(oid.to_string())
    }

    pub(crate) fn oid(&self) -> git2::Oid {
        // Checked at construction: 40 hex digits always parse.
        git2::Oid::from_str(&self.0).unwrap_or(git2::Oid::ZERO_SHA1)
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommitId({})", self.0)
    }
}

impl AsRef<str> for CommitId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Who made a commit or a tag. Name and email must not contain `<`, `>` or newlines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    /// Display name (Grove passes the account's username).
    pub name: String,
    /// Email address (may be a placeholder such as `user@users.noreply.grove`).
    pub email: String,
}

impl Author {
    /// Build an author from name and email.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            email: email.into(),
        }
    }

    /// A signature stamped with the current time.
    pub(crate) fn signature_now(&self) -> Result<git2::Signature<'static>, GitError> {
        git2::Signature::now(&self.name, &self.email)
            .map_err(|e| GitError::InvalidAuthor(e.message().to_owned()))
    }
}

/// Whether `s` is exactly 40 hex digits (either case).
pub(crate) fn is_full_hex(s: &str) -> bool {
    s.len() == GIT_OID_HEX_LEN && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parse a 40-hex git object id (blob, tree or commit), either case.
pub(crate) fn parse_object_id(s: &str) -> Result<git2::Oid, GitError> {
    if !is_full_hex(s) {
        return Err(GitError::InvalidObjectId(s.to_owned()));
    }
    git2::Oid::from_str(s).map_err(|_| GitError::InvalidObjectId(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_id_accepts_40_hex_and_lowercases() {
        let upper = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
        let id = CommitId::parse(upper).unwrap();
        assert_eq!(id.as_str(), upper.to_ascii_lowercase());
        assert_eq!(id.oid().to_string(), id.as_str());
    }

    #[test]
    fn commit_id_rejects_everything_else() {
        for bad in [
            "",
            "abc",
            "abcdef0123456789abcdef0123456789abcdef0",
            "abcdef0123456789abcdef0123456789abcdef012",
            "gbcdef0123456789abcdef0123456789abcdef01",
            "abcdef0123456789abcdef0123456789abcdef0 ",
            &"a".repeat(64),
        ] {
            assert!(CommitId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn object_id_parse() {
        assert!(parse_object_id("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391").is_ok());
        assert!(parse_object_id("e69de29b").is_err());
    }
}
