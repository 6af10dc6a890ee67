//! Repo types and how each is spelled on the wire.

use std::fmt;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    Model,
    Dataset,
}

impl RepoKind {
    /// The `type` field of JSON bodies (`model`, `dataset`).
    pub fn as_str(self) -> &'static str {
        match self {
            RepoKind::Model => "model",
            RepoKind::Dataset => "dataset",
        }
    }

    /// The API path segment (`/api/models/…`).
    pub fn plural(self) -> &'static str {
        match self {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
        }
    }

    /// The prefix of web and resolve URLs: empty for models.
    pub fn url_prefix(self) -> &'static str {
        match self {
            RepoKind::Model => "",
            RepoKind::Dataset => "datasets/",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        match raw {
            "model" => Ok(RepoKind::Model),
            "dataset" => Ok(RepoKind::Dataset),
            other => Err(ApiError::BadRequest(format!(
                "unsupported repo type {other:?}: this hub hosts models and datasets"
            ))),
        }
    }

    pub fn from_plural(raw: &str) -> Option<Self> {
        match raw {
            "models" => Some(RepoKind::Model),
            "datasets" => Some(RepoKind::Dataset),
            _ => None,
        }
    }
}

impl fmt::Display for RepoKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
