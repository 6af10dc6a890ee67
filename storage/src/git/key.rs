//! Repo keys: which directory under the store root holds a repo.

use std::path::PathBuf;

use super::error::GitError;

const MAX_KIND_LEN: usize = 32;
const MAX_ID_LEN: usize = 20;

/// A validated repo key, `<kind>/<id>` (e.g. `models/42`): lowercase ASCII letters, a slash, a
/// decimal id without leading zeros. The hub derives it from the repo's database row, never from
/// a user-chosen name, so renames never move a repo on disk. Leading zeros are refused so that
/// one repo has exactly one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RepoKey {
    kind: String,
    id: String,
}

impl RepoKey {
    pub(crate) fn parse(key: &str) -> Result<Self, GitError> {
        let bad = || GitError::InvalidKey(key.to_owned());
        let (kind, id) = key.split_once('/').ok_or_else(bad)?;
        let kind_ok = (1..=MAX_KIND_LEN).contains(&kind.len())
            && kind.bytes().all(|b| b.is_ascii_lowercase());
        let id_ok = (1..=MAX_ID_LEN).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_digit())
            && (id == "0" || !id.starts_with('0'));
        if kind_ok && id_ok {
            Ok(Self {
                kind: kind.to_owned(),
                id: id.to_owned(),
            })
        } else {
            Err(bad())
        }
    }

    /// `<kind>` directory, relative to the store root.
    pub(crate) fn kind_dir(&self) -> PathBuf {
        PathBuf::from(&self.kind)
    }

    /// `<id>.git`: the repo directory's name inside the kind directory.
    pub(crate) fn dir_name(&self) -> String {
        format!("{}.git", self.id)
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for good in ["models/42", "datasets/0", "models/18446744073709551615"] {
            assert!(RepoKey::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "models",
            "models/",
            "/42",
            "Models/42",
            "models/042",
            "models/4a",
            "models/42/x",
            "models/../42",
            "../models/42",
            "models/-1",
            "mödels/1",
            "models/123456789012345678901",
        ] {
            assert!(RepoKey::parse(bad).is_err(), "{bad:?}");
        }
        let k = RepoKey::parse("models/42").unwrap();
        assert_eq!(k.kind_dir(), PathBuf::from("models"));
        assert_eq!(k.dir_name(), "42.git");
    }
}
