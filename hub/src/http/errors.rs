//! Extractor failures and unmatched routes, rendered in the JSON error envelope.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::ApiError;

/// Request bodies of the account endpoints are small; this also bounds parser work.
pub const JSON_LIMIT: usize = 64 * 1024;

pub fn json_config() -> web::JsonConfig {
    json_config_with_limit(JSON_LIMIT)
}

/// The same envelope for a route that takes larger bodies (eval results with per-sample scores).
pub fn json_config_with_limit(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            let api = match &err {
                JsonPayloadError::ContentType => ApiError::BadRequest(
                    "expected a JSON body (Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Overflow { limit }
                | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                    ApiError::PayloadTooLarge(format!("JSON body larger than {limit} bytes"))
                }
                JsonPayloadError::Deserialize(e) => {
                    ApiError::BadRequest(format!("invalid JSON body: {e}"))
                }
                other => ApiError::BadRequest(format!("invalid JSON body: {other}")),
            };
            actix_web::error::InternalError::from_response(err, api.error_response()).into()
        })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        let api = ApiError::BadRequest(format!("invalid path parameter: {err}"));
        actix_web::error::InternalError::from_response(err, api.error_response()).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let api = ApiError::BadRequest(format!("invalid query string: {err}"));
        actix_web::error::InternalError::from_response(err, api.error_response()).into()
    })
}

pub async fn not_found(req: HttpRequest) -> HttpResponse {
    ApiError::NotFound(format!("no route for {} {}", req.method(), req.path())).error_response()
}

pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut res =
        ApiError::BadRequest(format!("{} is not allowed on {}", req.method(), req.path()))
            .error_response();
    *res.status_mut() = actix_web::http::StatusCode::METHOD_NOT_ALLOWED;
    res
}
