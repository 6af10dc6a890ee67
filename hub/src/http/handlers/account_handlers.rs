//! Sign-up, login, logout, whoami and public profiles.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::model::AccountView;
use crate::accounts::users::{self, NewUser};
use crate::accounts::{Access, Credential, orgs, password, sessions};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::{Caller, SESSION_COOKIE};
use crate::names::AccountName;
use crate::time::wire;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    username: String,
    password: String,
    email: Option<String>,
    fullname: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// The session JWT; also set as the `grove_session` cookie.
    token: String,
    expires_at: String,
    name: String,
}

/// Creates a user account with a password.
#[utoipa::path(post, path = "/api/signup", tag = "accounts", request_body = SignupRequest,
    responses((status = 201, body = AccountView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_signup(
    state: web::Data<AppState>,
    body: web::Json<SignupRequest>,
) -> ApiResult<HttpResponse> {
    if !state.signup_enabled {
        return Err(ApiError::Forbidden(
            "sign-up is disabled on this hub; ask an operator for an account".into(),
        ));
    }
    let body = body.into_inner();
    let name = AccountName::parse(&body.username)?;
    password::validate(&body.password)?;
    if let Some(email) = &body.email {
        users::validate_email(email)?;
    }
    let fullname = body.fullname.unwrap_or_default();
    users::validate_fullname(&fullname)?;
    let hash = web::block(move || password::hash(&body.password))
        .await
        .map_err(ApiError::internal)??;
    let new = NewUser {
        name,
        email: body.email,
        fullname,
        password_hash: Some(hash),
        is_admin: false,
    };
    let account = state
        .db
        .run(move |conn| users::create_user(conn, new, None))
        .await?;
    Ok(HttpResponse::Created().json(account.view()))
}

/// Checks a username and password and starts a web session.
#[utoipa::path(post, path = "/api/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody)))]
pub async fn create_login(
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { username, password } = body.into_inner();
    if password.len() > password::MAX_PASSWORD {
        return Err(ApiError::Unauthorized(
            "invalid username or password".into(),
        ));
    }
    let keys = state.sessions.clone();
    let (user, jwt, expires) = state
        .db
        .run(move |conn| {
            let user = users::authenticate(conn, &username, &password)?;
            let (jwt, expires) = keys.issue(conn, &user)?;
            Ok((user, jwt, expires))
        })
        .await?;
    let cookie = Cookie::build(SESSION_COOKIE, jwt.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.public_url.starts_with("https://"))
        .max_age(CookieDuration::hours(sessions::SESSION_HOURS))
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).json(LoginResponse {
        token: jwt,
        expires_at: wire(expires),
        name: user.name,
    }))
}

/// Ends the current web session; its JWT is refused from now on.
#[utoipa::path(post, path = "/api/logout", tag = "accounts",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn create_logout(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let principal = caller.require(Access::Read)?;
    let Credential::Session { jti } = principal.credential.clone() else {
        return Err(ApiError::BadRequest(
            "logout ends web sessions; revoke an API token with DELETE /api/tokens/{id}".into(),
        ));
    };
    state
        .db
        .run(move |conn| sessions::revoke_session(conn, &jti))
        .await?;
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoamiOrg {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    name: String,
    fullname: String,
    role_in_org: Access,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoamiAccessToken {
    display_name: String,
    role: Access,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoamiAuth {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<WhoamiAccessToken>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Whoami {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    name: String,
    fullname: String,
    email: Option<String>,
    is_pro: bool,
    can_pay: bool,
    orgs: Vec<WhoamiOrg>,
    auth: WhoamiAuth,
}

/// The caller's account, organisations and credential, as the Hub's `whoami-v2`.
#[utoipa::path(get, path = "/api/whoami-v2", tag = "accounts",
    responses((status = 200, body = Whoami), (status = 401, body = ErrorBody)))]
pub async fn get_whoami(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let principal = caller.require(Access::Read)?.clone();
    let user_id = principal.user.id;
    let memberships = state
        .db
        .run(move |conn| orgs::orgs_of(conn, user_id))
        .await?;
    let auth = match &principal.credential {
        Credential::Token { name, scope, .. } => WhoamiAuth {
            kind: "access_token",
            access_token: Some(WhoamiAccessToken {
                display_name: name.clone(),
                role: *scope,
            }),
        },
        Credential::Session { .. } => WhoamiAuth {
            kind: "session",
            access_token: None,
        },
    };
    let user = principal.user;
    Ok(HttpResponse::Ok().json(Whoami {
        kind: "user",
        id: user.id.to_string(),
        name: user.name,
        fullname: user.fullname,
        email: user.email,
        is_pro: false,
        can_pay: false,
        orgs: memberships
            .into_iter()
            .map(|(org, role)| WhoamiOrg {
                kind: "org",
                id: org.id.to_string(),
                name: org.name,
                fullname: org.fullname,
                role_in_org: role,
            })
            .collect(),
        auth,
    }))
}

/// A user's public profile.
#[utoipa::path(get, path = "/api/users/{name}/overview", tag = "accounts",
    params(("name" = String, Path, description = "user name")),
    responses((status = 200, body = AccountView), (status = 404, body = ErrorBody)))]
pub async fn get_user_overview(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let name = name.into_inner();
    let user = state
        .db
        .run(move |conn| {
            users::find_user(conn, &name)?
                .ok_or_else(|| ApiError::NotFound(format!("no user named {name:?}")))
        })
        .await?;
    Ok(HttpResponse::Ok().json(user.view()))
}
