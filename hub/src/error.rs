//! The one error type of the hub: domain code returns it, the HTTP edge renders it.
//!
//! Client mistakes carry a message meant for the user. Anything else becomes `Internal`, is logged
//! with its context, and is answered with a generic 500: internal details never reach a client,
//! and an unknown failure is never dressed up as a 400.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A missing repo, or one the caller may not see: the two must look identical.
    #[error("{0}")]
    RepoNotFound(String),
    /// The same for an anonymous caller: 401, as the Hub answers, so clients prompt for a token.
    #[error("{0}")]
    RepoNotFoundAnonymous(String),
    /// A branch, tag or commit that does not exist in a visible repo.
    #[error("{0}")]
    RevisionNotFound(String),
    /// A file path that does not exist at a visible revision.
    #[error("{0}")]
    EntryNotFound(String),
    /// A `parentCommit` that is no longer the branch tip.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    RangeNotSatisfiable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

impl ApiError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// The Hub protocol's `X-Error-Code`, which the stock client maps to exception types.
    fn hub_error_code(&self) -> Option<&'static str> {
        match self {
            Self::RepoNotFound(_) | Self::RepoNotFoundAnonymous(_) => Some("RepoNotFound"),
            Self::RevisionNotFound(_) => Some("RevisionNotFound"),
            Self::EntryNotFound(_) => Some("EntryNotFound"),
            _ => None,
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("database unavailable: {e}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::RepoNotFoundAnonymous(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_)
            | Self::RepoNotFound(_)
            | Self::RevisionNotFound(_)
            | Self::EntryNotFound(_) => StatusCode::NOT_FOUND,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        if let Some(code) = self.hub_error_code() {
            res.insert_header(("X-Error-Code", code));
        }
        if matches!(self, Self::Unauthorized(_)) {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"grove\""),
            ));
        }
        res.json(ErrorBody {
            error: self.to_string(),
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
