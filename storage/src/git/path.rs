//! [`RepoPath`]: the one canonical form of a file path inside a repo.
//!
//! Every path that reaches git goes through [`RepoPath::parse`], so a `RepoPath` that exists is
//! already relative, `/`-separated, NFC, free of `..`, NUL, backslashes and control characters,
//! and cannot name `.git` in any spelling that git or a filesystem would treat as `.git`.
//!
//! Non-NFC input is **rejected, not normalised**: normalising would make two different byte
//! strings name one file, and a client that sent NFD would then see a path in listings that
//! differs from the one it uploaded. Rejecting keeps "the bytes you send are the path you get".

use std::fmt;
use std::str::FromStr;

use unicode_normalization::{UnicodeNormalization, is_nfc};

use super::error::GitError;

/// Longest accepted path, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest accepted path segment (file or directory name), in bytes.
pub const MAX_SEGMENT_BYTES: usize = 255;

/// A validated file or folder path inside a repo. See the module docs for the rules.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoPath(String);

impl RepoPath {
    /// Parse a file path. Refuses anything not already in canonical form.
    pub fn parse(s: &str) -> Result<Self, GitError> {
        validate(s).map_err(|reason| GitError::InvalidPath {
            path: s.to_owned(),
            reason,
        })?;
        Ok(Self(s.to_owned()))
    }

    /// Parse a folder path as the Hub's `deletedFolder` sends it: one trailing `/` is allowed
    /// and dropped (`logs/` and `logs` are the same folder). The root folder is not a path.
    pub fn parse_folder(s: &str) -> Result<Self, GitError> {
        let trimmed = s.strip_suffix('/').unwrap_or(s);
        validate(trimmed).map_err(|reason| GitError::InvalidPath {
            path: s.to_owned(),
            reason,
        })?;
        Ok(Self(trimmed.to_owned()))
    }

    /// The path as a string (`a/b/c.txt`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path's segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The containing folder, or `None` for a top-level path.
    pub fn parent(&self) -> Option<RepoPath> {
        self.0.rfind('/').map(|i| RepoPath(self.0[..i].to_owned()))
    }

    /// The path as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepoPath({:?})", self.0)
    }
}

impl AsRef<str> for RepoPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for RepoPath {
    type Err = GitError;

    fn from_str(s: &str) -> Result<Self, GitError> {
        Self::parse(s)
    }
}

fn validate(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty path");
    }
    if s.len() > MAX_PATH_BYTES {
        return Err("longer than 1024 bytes");
    }
    if s.contains('\\') {
        return Err("contains a backslash");
    }
    if s.chars().any(char::is_control) {
        return Err("contains NUL or a control character");
    }
    if !is_nfc(s) {
        return Err("not in Unicode NFC form");
    }
    if s.starts_with('/') {
        return Err("absolute path");
    }
    if s.ends_with('/') {
        return Err("trailing slash");
    }
    for segment in s.split('/') {
        match segment {
            "" => return Err("empty segment"),
            "." | ".." => return Err("'.' or '..' segment"),
            _ if segment.len() > MAX_SEGMENT_BYTES => return Err("segment longer than 255 bytes"),
            _ if is_dotgit_like(segment) => return Err("names .git"),
            _ => {}
        }
    }
    Ok(())
}

/// Whether a segment would be taken for `.git` by git itself or by a filesystem a clone may land
/// on: any ASCII case (`.GIT`), NTFS trailing dots and spaces (`.git.`, `.git `) and alternate
/// data streams (`.git::$INDEX_ALLOCATION`), the NTFS 8.3 short name (`git~1`), and HFS+
/// ignorable code points hidden inside (`.g\u{200c}it`). This mirrors the checks git applies
/// with `core.protectNTFS` and `core.protectHFS`.
fn is_dotgit_like(segment: &str) -> bool {
    let visible: String = segment.chars().filter(|c| !is_hfs_ignorable(*c)).collect();
    let before_stream = visible.split(':').next().unwrap_or("");
    let trimmed = before_stream.trim_end_matches(['.', ' ']);
    let lower = trimmed.to_ascii_lowercase();
    if lower == ".git" {
        return true;
    }
    // 8.3 short names: "GIT~1" and its siblings.
    lower
        .strip_prefix("git~")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Code points HFS+ ignores when comparing names (the list git uses in `utf8.c`).
fn is_hfs_ignorable(c: char) -> bool {
    matches!(c,
        '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}')
}

/// The key under which two names collide on a case-insensitive, normalisation-insensitive
/// filesystem: NFC, then Unicode lowercase, then NFC again (lowercasing can denormalise).
pub(crate) fn collision_key(name: &str) -> String {
    let nfc: String = name.nfc().collect();
    nfc.to_lowercase().nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for good in [
            "a",
            "README.md",
            "a/b/c.txt",
            "dir.with.dots/file",
            ".gitattributes",
            ".github/workflows/x.yml",
            "git~a",
            "gitx",
            "café/naïve.txt",
            "日本語/ファイル.bin",
            "a b/c d",
            "...",
            ".cache/x",
        ] {
            assert!(RepoPath::parse(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn refuses_hostile_paths() {
        let long_segment = "a".repeat(256);
        let long_path = vec!["a"; 513].join("/");
        for bad in [
            "",
            "/",
            "/a",
            "a/",
            "a//b",
            "./a",
            "a/./b",
            "a/..",
            "../a",
            "a\\b",
            "a\0b",
            "a\nb",
            "a\u{7f}b",
            "a\u{85}b",
            ".git",
            ".git/config",
            "a/.GIT/x",
            ".Git",
            ".git.",
            ".git ",
            ".git. . ",
            ".git::$INDEX_ALLOCATION/x",
            "GIT~1/config",
            "git~1",
            ".g\u{200c}it/x",
            "\u{feff}.git",
            "cafe\u{301}",
            long_segment.as_str(),
            long_path.as_str(),
        ] {
            assert!(RepoPath::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn length_limits_are_inclusive() {
        let seg = "a".repeat(MAX_SEGMENT_BYTES);
        assert!(RepoPath::parse(&seg).is_ok());
        let path = format!("{}{}", "a/".repeat(511), "bb");
        assert_eq!(path.len(), MAX_PATH_BYTES);
        assert!(RepoPath::parse(&path).is_ok());
        assert!(RepoPath::parse(&format!("{path}c")).is_err());
    }

    #[test]
    fn folder_form_strips_one_slash() {
        assert_eq!(RepoPath::parse_folder("logs/").unwrap().as_str(), "logs");
        assert_eq!(RepoPath::parse_folder("a/b").unwrap().as_str(), "a/b");
        assert!(RepoPath::parse_folder("/").is_err());
        assert!(RepoPath::parse_folder("logs//").is_err());
        assert!(RepoPath::parse_folder(".git/").is_err());
    }

    #[test]
    fn parts() {
        let p = RepoPath::parse("a/b/c.txt").unwrap();
        assert_eq!(p.file_name(), "c.txt");
        assert_eq!(p.parent().unwrap().as_str(), "a/b");
        assert_eq!(p.segments().collect::<Vec<_>>(), ["a", "b", "c.txt"]);
        assert!(RepoPath::parse("top").unwrap().parent().is_none());
    }

    #[test]
    fn collision_keys() {
        assert_eq!(collision_key("README.md"), collision_key("readme.MD"));
        assert_eq!(collision_key("Café"), collision_key("cafe\u{301}"));
        assert_ne!(collision_key("a"), collision_key("b"));
    }
}
