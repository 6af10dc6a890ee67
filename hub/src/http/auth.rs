//! Turns the request's credential into a `Caller`.
//!
//! `Authorization: Bearer <grove_… token | session JWT>`, or the `grove_session` cookie set by
//! login. A credential that is present but invalid (unknown, revoked, expired, tampered) is a 401
//! on every endpoint, public ones included, so a client learns at once that its token is bad.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::AppState;
use crate::accounts::tokens::{TOKEN_PREFIX, authenticate_token};
use crate::accounts::{Access, Credential, Principal, sessions, users};
use crate::error::{ApiError, ApiResult};

pub const SESSION_COOKIE: &str = "grove_session";

/// The authenticated caller of a request, or an anonymous one.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

impl Caller {
    /// 401 when anonymous, 403 when the credential's scope is below `needed`.
    pub fn require(&self, needed: Access) -> ApiResult<&Principal> {
        let principal = self.0.as_ref().ok_or_else(|| {
            ApiError::Unauthorized(
                "authentication required: send Authorization: Bearer <token>".into(),
            )
        })?;
        principal.require_scope(needed)?;
        Ok(principal)
    }
}

fn invalid() -> ApiError {
    ApiError::Unauthorized("Invalid credentials in Authorization header".into())
}

/// The presented credential, if any.
fn presented(req: &HttpRequest) -> ApiResult<Option<String>> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| invalid())?;
        let (scheme, rest) = value.split_once(' ').ok_or_else(invalid)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::Unauthorized(
                "unsupported authorization scheme: use Bearer".into(),
            ));
        }
        let credential = rest.trim();
        if credential.is_empty() {
            return Err(invalid());
        }
        return Ok(Some(credential.to_string()));
    }
    Ok(req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty()))
}

async fn resolve(state: web::Data<AppState>, credential: String) -> ApiResult<Principal> {
    if credential.starts_with(TOKEN_PREFIX) {
        return state
            .db
            .run(move |conn| {
                let token = authenticate_token(conn, &credential)?.ok_or_else(invalid)?;
                let user = users::get_account(conn, token.user_id)?.ok_or_else(invalid)?;
                Ok(Principal {
                    user,
                    credential: Credential::Token {
                        id: token.id,
                        scope: token.scope()?,
                        name: token.name,
                    },
                })
            })
            .await;
    }
    let claims = state.sessions.verify(&credential).ok_or_else(invalid)?;
    state
        .db
        .run(move |conn| {
            let user_id = sessions::live_session_user(conn, &claims)?.ok_or_else(invalid)?;
            let user = users::get_account(conn, user_id)?.ok_or_else(invalid)?;
            Ok(Principal {
                user,
                credential: Credential::Session { jti: claims.jti },
            })
        })
        .await
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let credential = presented(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            match credential? {
                None => Ok(Caller(None)),
                Some(credential) => Ok(Caller(Some(resolve(state, credential).await?))),
            }
        })
    }
}
