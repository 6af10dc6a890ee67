//! API token management. Only a web session or an admin-scoped token may list, mint or revoke
//! tokens, so a leaked read or write token cannot mint itself a wider one.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::Access;
use crate::accounts::tokens::{self, TokenInfo};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateTokenRequest {
    name: String,
    scope: Access,
    /// Lifetime in days (1 to 3650); no expiry when absent.
    expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    tokens: Vec<TokenInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    info: TokenInfo,
    /// The secret, shown only in this response.
    token: String,
}

/// The caller's live tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn list_tokens(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let user_id = caller.require(Access::Admin)?.user.id;
    let rows = state
        .db
        .run(move |conn| tokens::list_tokens(conn, user_id))
        .await?;
    let tokens = rows.iter().map(|t| t.info()).collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(TokenList { tokens }))
}

/// Mints a token; the secret appears once, in this response.
#[utoipa::path(post, path = "/api/tokens", tag = "tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateTokenRequest>,
) -> ApiResult<HttpResponse> {
    let user_id = caller.require(Access::Admin)?.user.id;
    let CreateTokenRequest {
        name,
        scope,
        expires_in_days,
    } = body.into_inner();
    let (token, secret) = state
        .db
        .run(move |conn| tokens::create_token(conn, user_id, &name, scope, expires_in_days))
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        info: token.info()?,
        token: secret,
    }))
}

/// Revokes one of the caller's tokens; it stops working at once.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "token id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn delete_token(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let user_id = caller.require(Access::Admin)?.user.id;
    let raw = id.into_inner();
    let token_id: i64 = raw
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no token with id {raw:?}")))?;
    state
        .db
        .run(move |conn| tokens::revoke_token(conn, user_id, token_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
