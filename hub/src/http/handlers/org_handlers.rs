//! Organisations and their membership.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::model::AccountView;
use crate::accounts::{Access, Account, orgs, users};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::names::AccountName;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    name: String,
    fullname: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMemberRequest {
    role: Access,
}

#[derive(Serialize, ToSchema)]
pub struct Member {
    name: String,
    role: Access,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    members: Vec<Member>,
}

fn find_org(conn: &mut DbConn, name: &str) -> ApiResult<Account> {
    users::find_account(conn, name)?
        .filter(Account::is_org)
        .ok_or_else(|| ApiError::NotFound(format!("no organization named {name:?}")))
}

fn find_user(conn: &mut DbConn, name: &str) -> ApiResult<Account> {
    users::find_user(conn, name)?
        .ok_or_else(|| ApiError::NotFound(format!("no user named {name:?}")))
}

/// Creates an organisation; the caller becomes its first admin.
#[utoipa::path(post, path = "/api/organizations", tag = "organizations",
    request_body = CreateOrgRequest,
    responses((status = 201, body = AccountView), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn create_org(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateOrgRequest>,
) -> ApiResult<HttpResponse> {
    let owner = caller.require(Access::Write)?.user.clone();
    let body = body.into_inner();
    let name = AccountName::parse(&body.name)?;
    let fullname = body.fullname.unwrap_or_default();
    users::validate_fullname(&fullname)?;
    let org = state
        .db
        .run(move |conn| orgs::create_org(conn, &name, &fullname, &owner))
        .await?;
    Ok(HttpResponse::Created().json(org.view()))
}

/// An organisation's public profile.
#[utoipa::path(get, path = "/api/organizations/{name}", tag = "organizations",
    params(("name" = String, Path, description = "organization name")),
    responses((status = 200, body = AccountView), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let name = name.into_inner();
    let org = state.db.run(move |conn| find_org(conn, &name)).await?;
    Ok(HttpResponse::Ok().json(org.view()))
}

/// Members and roles; visible to members.
#[utoipa::path(get, path = "/api/organizations/{name}/members", tag = "organizations",
    params(("name" = String, Path, description = "organization name")),
    responses((status = 200, body = MemberList), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let principal = caller.require(Access::Read)?.clone();
    let name = name.into_inner();
    let members = state
        .db
        .run(move |conn| {
            let org = find_org(conn, &name)?;
            principal.require_org(conn, &org, Access::Read)?;
            orgs::members(conn, org.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MemberList {
        members: members
            .into_iter()
            .map(|(name, role)| Member { name, role })
            .collect(),
    }))
}

/// Adds a member or changes their role; needs admin rights on the organisation.
#[utoipa::path(put, path = "/api/organizations/{name}/members/{user}", tag = "organizations",
    request_body = SetMemberRequest,
    params(("name" = String, Path, description = "organization name"),
           ("user" = String, Path, description = "user name")),
    responses((status = 200, body = Member), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<SetMemberRequest>,
) -> ApiResult<HttpResponse> {
    let principal = caller.require(Access::Admin)?.clone();
    let (org_name, user_name) = path.into_inner();
    let role = body.role;
    let member = state
        .db
        .run(move |conn| {
            let org = find_org(conn, &org_name)?;
            principal.require_org(conn, &org, Access::Admin)?;
            let user = find_user(conn, &user_name)?;
            orgs::set_member(conn, &org, &user, role, principal.user.id)?;
            Ok(Member {
                name: user.name,
                role,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(member))
}

/// Removes a member. Admins may remove anyone but the last admin; a member may leave.
#[utoipa::path(delete, path = "/api/organizations/{name}/members/{user}", tag = "organizations",
    params(("name" = String, Path, description = "organization name"),
           ("user" = String, Path, description = "user name")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let principal = caller.require(Access::Write)?.clone();
    let (org_name, user_name) = path.into_inner();
    state
        .db
        .run(move |conn| {
            let org = find_org(conn, &org_name)?;
            let user = find_user(conn, &user_name)?;
            let leaving_self = user.id == principal.user.id;
            if leaving_self {
                principal.require_org(conn, &org, Access::Read)?;
            } else {
                principal.require_scope(Access::Admin)?;
                principal.require_org(conn, &org, Access::Admin)?;
            }
            orgs::remove_member(conn, &org, &user, principal.user.id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
