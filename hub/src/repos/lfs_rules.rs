//! Which files are stored as LFS: those the repo's `.gitattributes` marks `filter=lfs`, those over
//! 10 MiB, and binary ones (a NUL byte in the first 8000 bytes), as the Hub decides.

use globset::{GlobSet, GlobSetBuilder};
use grove_storage::git::{CommitId, GitRepo, RepoPath};

use super::service::git_error;
use crate::error::ApiResult;

/// Files larger than this are stored as LFS whatever their name.
pub const LFS_THRESHOLD: u64 = 10 * 1024 * 1024;
/// `.gitattributes` files larger than this are ignored.
const MAX_GITATTRIBUTES: u64 = 256 * 1024;

/// The LFS patterns of one revision: basename patterns (no `/`) and full-path patterns.
#[derive(Debug, Default)]
pub struct LfsRules {
    basename: GlobSet,
    full_path: GlobSet,
}

impl LfsRules {
    /// Parses `.gitattributes` text; lines that do not set `filter=lfs`, or that do not compile
    /// as globs, are skipped.
    pub fn parse(text: &str) -> Self {
        let mut basename = GlobSetBuilder::new();
        let mut full_path = GlobSetBuilder::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let Some(pattern) = parts.next() else {
                continue;
            };
            if !parts.any(|attr| attr == "filter=lfs") {
                continue;
            }
            let anchored = pattern.trim_start_matches('/');
            let builder = if pattern.contains('/') {
                &mut full_path
            } else {
                &mut basename
            };
            let glob = globset::GlobBuilder::new(anchored)
                .literal_separator(true)
                .build();
            if let Ok(glob) = glob {
                builder.add(glob);
            }
        }
        Self {
            basename: basename.build().unwrap_or_else(|_| GlobSet::empty()),
            full_path: full_path.build().unwrap_or_else(|_| GlobSet::empty()),
        }
    }

    /// The rules of the `.gitattributes` at `commit` (none when it has no such file).
    pub fn at(git_repo: &GitRepo, commit: &CommitId) -> ApiResult<Self> {
        let path = RepoPath::parse(".gitattributes").map_err(git_error)?;
        let Some(entry) = git_repo.entry(commit, &path).map_err(git_error)? else {
            return Ok(Self::default());
        };
        if entry.size > MAX_GITATTRIBUTES || entry.lfs.is_some() {
            return Ok(Self::default());
        }
        let bytes = git_repo.read_blob(&entry.oid).map_err(git_error)?;
        Ok(Self::parse(&String::from_utf8_lossy(&bytes)))
    }

    pub fn matches(&self, path: &RepoPath) -> bool {
        let full = path.as_str();
        let name = full.rsplit('/').next().unwrap_or(full);
        self.basename.is_match(name) || self.full_path.is_match(full)
    }
}

/// Whether content of `size` bytes at `path` is stored as LFS.
pub fn stores_as_lfs(rules: &LfsRules, path: &RepoPath, size: u64, binary: bool) -> bool {
    size > LFS_THRESHOLD || binary || rules.matches(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> RepoPath {
        RepoPath::parse(s).unwrap()
    }

    #[test]
    fn default_patterns_match_weights_not_text() {
        let rules = LfsRules::parse(grove_storage::git::DEFAULT_GITATTRIBUTES);
        for lfs in [
            "model.safetensors",
            "sub/dir/w.bin",
            "x.gguf",
            "saved_model/a/b",
            "a.tar.gz",
            "events.out.tfevents.1",
        ] {
            assert!(rules.matches(&p(lfs)), "{lfs}");
        }
        for text in [
            "README.md",
            "config.json",
            "bin/readme.txt",
            "safetensors.txt",
        ] {
            assert!(!rules.matches(&p(text)), "{text}");
        }
        assert!(stores_as_lfs(&rules, &p("a.txt"), LFS_THRESHOLD + 1, false));
        assert!(stores_as_lfs(&rules, &p("a.txt"), 10, true));
        assert!(!stores_as_lfs(&rules, &p("a.txt"), 10, false));
    }

    #[test]
    fn ignores_other_attributes_and_bad_globs() {
        let rules =
            LfsRules::parse("*.txt text\n# *.md filter=lfs\n[ filter=lfs\ndata/*.csv filter=lfs\n");
        assert!(!rules.matches(&p("a.txt")));
        assert!(!rules.matches(&p("a.md")));
        assert!(rules.matches(&p("data/x.csv")));
        assert!(!rules.matches(&p("other/data/x.csv")));
    }
}
