//! Account names: one validated type, checked before anything touches the database.
//!
//! Users and organisations share one namespace, and names are unique without regard to case, so
//! `Alice` can never impersonate `alice`. Names appear in URLs (`/{owner}/{repo}`), so words the
//! router or the web UI use at the top level are reserved.

use std::fmt;

use crate::error::ApiError;

pub const MAX_ACCOUNT_NAME: usize = 42;

/// Top-level path segments of the API and the web UI, plus names that would mislead.
const RESERVED: &[&str] = &[
    "about",
    "admin",
    "api",
    "assets",
    "auth",
    "blog",
    "collections",
    "datasets",
    "docs",
    "explore",
    "favicon.ico",
    "grove",
    "healthz",
    "help",
    "join",
    "leaderboards",
    "lineage",
    "login",
    "logout",
    "me",
    "metrics",
    "models",
    "new",
    "notifications",
    "organizations",
    "papers",
    "pricing",
    "readyz",
    "robots.txt",
    "root",
    "search",
    "settings",
    "signup",
    "spaces",
    "static",
    "support",
    "system",
    "tasks",
    "user",
    "users",
    "evals",
];

/// A syntactically valid, non-reserved account name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName(String);

/// Syntax shared by account and repo names: `[A-Za-z0-9][A-Za-z0-9._-]*`, no `..` or `--`, not
/// ending in `.` or `.git`, at most `max` characters.
fn check_syntax(raw: &str, max: usize) -> Result<(), String> {
    if raw.is_empty() {
        return Err("must not be empty".into());
    }
    if raw.len() > max {
        return Err(format!("at most {max} characters"));
    }
    let mut chars = raw.chars();
    let first = chars.next().unwrap_or_default();
    if !first.is_ascii_alphanumeric() {
        return Err("must start with a letter or digit".into());
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err("only letters, digits, '.', '_' and '-' are allowed".into());
    }
    if raw.contains("..") || raw.contains("--") {
        return Err("'..' and '--' are not allowed".into());
    }
    if raw.ends_with('.') || raw.to_ascii_lowercase().ends_with(".git") {
        return Err("must not end with '.' or '.git'".into());
    }
    Ok(())
}

impl AccountName {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| ApiError::BadRequest(format!("invalid name {raw:?}: {why}"));
        check_syntax(raw, MAX_ACCOUNT_NAME).map_err(|why| bad(&why))?;
        if RESERVED.contains(&raw.to_ascii_lowercase().as_str()) {
            return Err(bad("this name is reserved"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form the database keeps unique.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const MAX_REPO_NAME: usize = 96;

/// A repo's name within its namespace (the part after `owner/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName(String);

impl RepoName {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        check_syntax(raw, MAX_REPO_NAME)
            .map_err(|why| ApiError::BadRequest(format!("invalid repo name {raw:?}: {why}")))?;
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["alice", "Bob-2", "a", "x.y_z", "0day", &"a".repeat(42)] {
            assert!(AccountName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_bad_names() {
        let long = "a".repeat(43);
        for bad in [
            "", "-x", ".x", "_x", "a b", "a/b", "ä", "a..b", "a--b", "x.git", "X.GIT", "x.", "api",
            "API", "new", "settings", &long, "a\0b",
        ] {
            assert!(AccountName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn repo_names_allow_96_chars_and_reserved_words() {
        assert!(RepoName::parse(&"m".repeat(96)).is_ok());
        assert!(RepoName::parse(&"m".repeat(97)).is_err());
        assert!(RepoName::parse("models").is_ok());
        assert!(RepoName::parse("Llama-3.1-8B-Instruct").is_ok());
        assert!(RepoName::parse("a/b").is_err());
    }

    #[test]
    fn key_folds_case() {
        assert_eq!(AccountName::parse("Alice").unwrap().key(), "alice");
    }
}
