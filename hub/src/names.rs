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

impl AccountName {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| ApiError::BadRequest(format!("invalid name {raw:?}: {why}"));
        if raw.is_empty() {
            return Err(bad("must not be empty"));
        }
        if raw.len() > MAX_ACCOUNT_NAME {
            return Err(bad(&format!("at most {MAX_ACCOUNT_NAME} characters")));
        }
        let mut chars = raw.chars();
        let first = chars.next().unwrap_or_default();
        if !first.is_ascii_alphanumeric() {
            return Err(bad("must start with a letter or digit"));
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(bad("only letters, digits, '.', '_' and '-' are allowed"));
        }
        if raw.contains("..") || raw.contains("--") {
            return Err(bad("'..' and '--' are not allowed"));
        }
        if raw.ends_with('.') || raw.to_ascii_lowercase().ends_with(".git") {
            return Err(bad("must not end with '.' or '.git'"));
        }
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
    fn key_folds_case() {
        assert_eq!(AccountName::parse("Alice").unwrap().key(), "alice");
    }
}
