//! The web UI's forms: log in, sign up, log out, tokens, new repo, fork, submit for evaluation.
//!
//! CSRF: every form carries a hidden `csrf` field equal to the `grove_csrf` cookie (random,
//! HttpOnly, SameSite=Strict), set on the first page view. A POST whose field and cookie differ
//! (or are missing) is refused with 403 before anything else happens. Sessions are the API's:
//! a JWT in the HttpOnly, SameSite=Lax `grove_session` cookie, revoked on logout.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::AppState;
use super::auth::{Caller, SESSION_COOKIE};
use super::pages::{error_page, render};
use crate::accounts::users::{self, NewUser};
use crate::accounts::{Access, Credential, Principal, password, sessions, tokens};
use crate::error::ApiError;
use crate::names::{AccountName, RepoName};
use crate::repos::{RepoAction, RepoKind, service};

pub const CSRF_COOKIE: &str = "grove_csrf";

/// The CSRF token of this browser, and whether it is new (then the page sets the cookie).
pub fn csrf_token(req: &HttpRequest) -> (String, bool) {
    match req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()) {
        Some(v) if v.len() == 32 && v.chars().all(|c| c.is_ascii_alphanumeric()) => (v, false),
        _ => (
            rand::rng()
                .sample_iter(&Alphanumeric)
                .take(32)
                .map(char::from)
                .collect(),
            true,
        ),
    }
}

pub fn csrf_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.public_url.starts_with("https://"))
        .finish()
}

/// True when the form's token matches the cookie (compared as hashes, in constant time).
fn csrf_ok(req: &HttpRequest, form: &str) -> bool {
    let Some(cookie) = req.cookie(CSRF_COOKIE) else {
        return false;
    };
    let (a, b) = (
        Sha256::digest(cookie.value().as_bytes()),
        Sha256::digest(form.as_bytes()),
    );
    !form.is_empty()
        && a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn forbidden(state: &AppState, req: &HttpRequest, caller: &Caller) -> HttpResponse {
    render(
        state,
        req,
        StatusCode::FORBIDDEN,
        "error.html",
        json!({"status": 403, "message": "This form expired or did not come from this site. Reload the page and try again."}),
        caller,
    )
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// Only same-site paths are followed after login (never `//host` or a scheme).
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn session_cookie(state: &AppState, jwt: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, jwt)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.public_url.starts_with("https://"))
        .max_age(CookieDuration::hours(sessions::SESSION_HOURS))
        .finish()
}

/// The signed-in user, or a redirect to the login page that comes back here.
fn signed_in(req: &HttpRequest, caller: &Caller) -> Result<Principal, Box<HttpResponse>> {
    match &caller.0 {
        Some(p) if p.scope() >= Access::Write => Ok(p.clone()),
        _ => {
            let next = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", req.path())
                .finish();
            Err(Box::new(see_other(&format!("/login?{next}"))))
        }
    }
}

/// The signed-in user of a form post with a good CSRF token; otherwise the answer to send (a
/// redirect to the login page, or 403).
fn form_user(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    csrf: &str,
) -> Result<Principal, Box<HttpResponse>> {
    let principal = signed_in(req, caller)?;
    if !csrf_ok(req, csrf) {
        return Err(Box::new(forbidden(state, req, caller)));
    }
    Ok(principal)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn get_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> HttpResponse {
    let next = super::query::QueryParams::of(&req)
        .get("next")
        .map(|n| local_next(Some(n)));
    render(
        &state,
        &req,
        StatusCode::OK,
        "login.html",
        json!({"next": next, "signup": state.signup_enabled}),
        &caller,
    )
}

pub async fn post_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let form = form.into_inner();
    if !csrf_ok(&req, &form.csrf) {
        return forbidden(&state, &req, &caller);
    }
    let keys = state.sessions.clone();
    let (username, pass) = (form.username.clone(), form.password);
    let result = state
        .db
        .run(move |conn| {
            if pass.len() > password::MAX_PASSWORD {
                return Err(ApiError::Unauthorized(
                    "invalid username or password".into(),
                ));
            }
            let user = users::authenticate(conn, &username, &pass)?;
            keys.issue(conn, &user).map(|(jwt, _)| jwt)
        })
        .await;
    match result {
        Ok(jwt) => {
            let mut res = see_other(&local_next(form.next.as_deref()));
            let _ = res.add_cookie(&session_cookie(&state, jwt));
            res
        }
        Err(_) => render(
            &state,
            &req,
            StatusCode::UNAUTHORIZED,
            "login.html",
            json!({"error": "Wrong username or password.", "username": form.username, "next": form.next, "signup": state.signup_enabled}),
            &caller,
        ),
    }
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    csrf: String,
    username: String,
    password: String,
    email: Option<String>,
}

pub async fn get_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> HttpResponse {
    if !state.signup_enabled {
        return error_page(
            &state,
            &req,
            &caller,
            ApiError::Forbidden("Sign-up is disabled on this hub.".into()),
        );
    }
    render(
        &state,
        &req,
        StatusCode::OK,
        "signup.html",
        json!({}),
        &caller,
    )
}

pub async fn post_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    form: web::Form<SignupForm>,
) -> HttpResponse {
    let form = form.into_inner();
    if !csrf_ok(&req, &form.csrf) {
        return forbidden(&state, &req, &caller);
    }
    if !state.signup_enabled {
        return error_page(
            &state,
            &req,
            &caller,
            ApiError::Forbidden("Sign-up is disabled on this hub.".into()),
        );
    }
    let email = form.email.clone().filter(|e| !e.trim().is_empty());
    let checked = (|| -> Result<_, ApiError> {
        let name = AccountName::parse(&form.username)?;
        password::validate(&form.password)?;
        if let Some(e) = &email {
            users::validate_email(e)?;
        }
        Ok(name)
    })();
    let fail = |message: String| {
        render(
            &state,
            &req,
            StatusCode::BAD_REQUEST,
            "signup.html",
            json!({"error": message, "username": form.username, "email": form.email}),
            &caller,
        )
    };
    let name = match checked {
        Ok(n) => n,
        Err(e) => return fail(e.to_string()),
    };
    let pass = form.password.clone();
    let hash = match web::block(move || password::hash(&pass)).await {
        Ok(Ok(h)) => h,
        _ => return fail("could not hash the password".into()),
    };
    let keys = state.sessions.clone();
    let new = NewUser {
        name,
        email,
        fullname: String::new(),
        password_hash: Some(hash),
        is_admin: false,
    };
    let created = state
        .db
        .run(move |conn| {
            let user = users::create_user(conn, new, None)?;
            keys.issue(conn, &user).map(|(jwt, _)| jwt)
        })
        .await;
    match created {
        Ok(jwt) => {
            let mut res = see_other("/settings/tokens");
            let _ = res.add_cookie(&session_cookie(&state, jwt));
            res
        }
        Err(e) => fail(e.to_string()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn post_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    if !csrf_ok(&req, &form.csrf) {
        return forbidden(&state, &req, &caller);
    }
    if let Some(Principal {
        credential: Credential::Session { jti },
        ..
    }) = caller.0.clone()
    {
        let _ = state
            .db
            .run(move |conn| sessions::revoke_session(conn, &jti))
            .await;
    }
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    let mut res = see_other("/");
    let _ = res.add_cookie(&gone);
    res
}

async fn tokens_page(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    principal: &Principal,
    extra: Value,
) -> HttpResponse {
    let user_id = principal.user.id;
    let list = state
        .db
        .run(move |conn| tokens::list_tokens(conn, user_id))
        .await;
    match list {
        Ok(list) => {
            let infos: Vec<Value> = list
                .iter()
                .filter_map(|t| t.info().ok())
                .map(|i| serde_json::to_value(i).unwrap_or_default())
                .collect();
            let mut ctx = json!({"tokens": infos});
            if let (Some(map), Value::Object(more)) = (ctx.as_object_mut(), extra) {
                map.extend(more);
            }
            render(state, req, StatusCode::OK, "tokens.html", ctx, caller)
        }
        Err(e) => error_page(state, req, caller, e),
    }
}

pub async fn get_tokens(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> HttpResponse {
    let principal = match signed_in(&req, &caller) {
        Ok(p) => p,
        Err(redirect) => return *redirect,
    };
    tokens_page(&state, &req, &caller, &principal, json!({})).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    name: String,
    scope: String,
}

pub async fn post_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let principal = match form_user(&state, &req, &caller, &form.csrf) {
        Ok(p) => p,
        Err(answer) => return *answer,
    };
    // Minting needs the session's full rights, as the API requires.
    if !matches!(principal.credential, Credential::Session { .. }) {
        return error_page(
            &state,
            &req,
            &caller,
            ApiError::Forbidden("tokens are managed from a web session".into()),
        );
    }
    let scope: Access = match form.scope.parse() {
        Ok(s) => s,
        Err(e) => return error_page(&state, &req, &caller, e),
    };
    let user_id = principal.user.id;
    let name = form.name.clone();
    let created = state
        .db
        .run(move |conn| tokens::create_token(conn, user_id, &name, scope, None))
        .await;
    match created {
        Ok((_, secret)) => {
            tokens_page(
                &state,
                &req,
                &caller,
                &principal,
                json!({"created": {"name": form.name, "secret": secret}}),
            )
            .await
        }
        Err(e) => {
            tokens_page(
                &state,
                &req,
                &caller,
                &principal,
                json!({"error": e.to_string()}),
            )
            .await
        }
    }
}

pub async fn post_token_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let principal = match form_user(&state, &req, &caller, &form.csrf) {
        Ok(p) => p,
        Err(answer) => return *answer,
    };
    let Ok(id) = path.into_inner().parse::<i64>() else {
        return error_page(
            &state,
            &req,
            &caller,
            ApiError::NotFound("no such token".into()),
        );
    };
    let user_id = principal.user.id;
    match state
        .db
        .run(move |conn| tokens::revoke_token(conn, user_id, id))
        .await
    {
        Ok(()) => see_other("/settings/tokens"),
        Err(e) => error_page(&state, &req, &caller, e),
    }
}

pub async fn get_new_repo(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> HttpResponse {
    let principal = match signed_in(&req, &caller) {
        Ok(p) => p,
        Err(redirect) => return *redirect,
    };
    render(
        &state,
        &req,
        StatusCode::OK,
        "new_repo.html",
        json!({"owner": principal.user.name}),
        &caller,
    )
}

#[derive(Deserialize)]
pub struct NewRepoForm {
    #[serde(default)]
    csrf: String,
    owner: String,
    name: String,
    kind: String,
    private: Option<String>,
}

pub async fn post_new_repo(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    form: web::Form<NewRepoForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let principal = match form_user(&state, &req, &caller, &form.csrf) {
        Ok(p) => p,
        Err(answer) => return *answer,
    };
    let git = state.git.clone();
    let private = form.private.is_some();
    let (owner, name, kind) = (form.owner.clone(), form.name.clone(), form.kind.clone());
    let created = state
        .db
        .run(move |conn| {
            let kind = RepoKind::parse(&kind)?;
            AccountName::parse(&owner)
                .map_err(|_| ApiError::BadRequest(format!("invalid owner {owner:?}")))?;
            let name = RepoName::parse(&name)?;
            let owner = super::handlers::repo_handlers::namespace_owner(conn, &principal, &owner)?;
            service::create_repo(conn, &git, &owner, kind, &name, private, &principal.user)
        })
        .await;
    match created {
        Ok(repo) => see_other(&format!("/{}{}", repo.repo.kind().url_prefix(), repo.id())),
        Err(e) => render(
            &state,
            &req,
            StatusCode::BAD_REQUEST,
            "new_repo.html",
            json!({"error": e.to_string(), "owner": form.owner, "name": form.name, "kind": form.kind}),
            &caller,
        ),
    }
}

#[derive(Deserialize)]
pub struct ForkForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

pub async fn post_fork(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    form: web::Form<ForkForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let principal = match form_user(&state, &req, &caller, &form.csrf) {
        Ok(p) => p,
        Err(answer) => return *answer,
    };
    let (owner, name) = path.into_inner();
    let source = match super::repo_lookup::load_repo(
        &state,
        &caller,
        RepoKind::Model,
        owner,
        name,
        RepoAction::Read,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return error_page(&state, &req, &caller, e),
    };
    let git = state.git.clone();
    let target = form.name.clone();
    let forked = state
        .db
        .run(move |conn| {
            let name = RepoName::parse(&target)?;
            let owner = super::handlers::repo_handlers::namespace_owner(
                conn,
                &principal,
                &principal.user.name,
            )?;
            service::fork_repo(
                conn,
                &git,
                &source,
                &owner,
                &name,
                source.repo.private,
                &principal.user,
            )
        })
        .await;
    match forked {
        Ok(repo) => {
            state.scan_wake.notify_one();
            see_other(&format!("/{}", repo.id()))
        }
        Err(e) => error_page(&state, &req, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct EvaluateForm {
    #[serde(default)]
    csrf: String,
    task: String,
}

pub async fn post_evaluate(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    form: web::Form<EvaluateForm>,
) -> HttpResponse {
    let form = form.into_inner();
    if let Err(answer) = form_user(&state, &req, &caller, &form.csrf) {
        return *answer;
    }
    let (owner, name) = path.into_inner();
    let submitted = super::handlers::eval_handlers::submit(
        &state,
        &caller,
        &format!("{owner}/{name}"),
        None,
        &form.task,
        None,
    )
    .await;
    match submitted {
        Ok((view, _)) => see_other(&format!("/evals/jobs/{}", view["id"])),
        Err(e) => error_page(&state, &req, &caller, e),
    }
}

pub async fn get_new_org(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> HttpResponse {
    if let Err(redirect) = signed_in(&req, &caller) {
        return *redirect;
    }
    render(
        &state,
        &req,
        StatusCode::OK,
        "new_org.html",
        json!({}),
        &caller,
    )
}

#[derive(Deserialize)]
pub struct NewOrgForm {
    #[serde(default)]
    csrf: String,
    name: String,
    #[serde(default)]
    fullname: String,
}

pub async fn post_new_org(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    form: web::Form<NewOrgForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let principal = match form_user(&state, &req, &caller, &form.csrf) {
        Ok(p) => p,
        Err(answer) => return *answer,
    };
    let (name, fullname) = (form.name.clone(), form.fullname.clone());
    let created = state
        .db
        .run(move |conn| {
            let name = AccountName::parse(&name)?;
            users::validate_fullname(&fullname)?;
            crate::accounts::orgs::create_org(conn, &name, &fullname, &principal.user)
        })
        .await;
    match created {
        Ok(org) => see_other(&format!("/{}", org.name)),
        Err(e) => render(
            &state,
            &req,
            StatusCode::BAD_REQUEST,
            "new_org.html",
            json!({"error": e.to_string(), "name": form.name, "fullname": form.fullname}),
            &caller,
        ),
    }
}
