//! Organisations and their members. Roles are read / write / admin; an organisation always keeps
//! at least one admin.

use diesel::prelude::*;

use super::model::{Account, AccountKind};
use super::users::insert_account;
use super::{Access, audit};
use crate::db::DbConn;
use crate::db::schema::{accounts, memberships};
use crate::error::{ApiError, ApiResult};
use crate::names::AccountName;
use crate::with_conn;

/// Creates an organisation with `owner` as its first admin, in one transaction.
pub fn create_org(
    conn: &mut DbConn,
    name: &AccountName,
    fullname: &str,
    owner: &Account,
) -> ApiResult<Account> {
    conn.transaction(|conn| {
        let org = insert_account(conn, AccountKind::Org, name, fullname, None, None, false)?;
        insert_membership(conn, org.id, owner.id, Access::Admin)?;
        audit::record(conn, Some(owner.id), "org.create", &org.name, "")?;
        Ok(org)
    })
}

fn insert_membership(conn: &mut DbConn, org_id: i64, user_id: i64, role: Access) -> ApiResult<()> {
    let row = (
        memberships::org_id.eq(org_id),
        memberships::user_id.eq(user_id),
        memberships::role.eq(role.as_str()),
        memberships::created_at.eq(crate::time::now()),
    );
    with_conn!(conn, |c| diesel::insert_into(memberships::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

/// The user's current role in the organisation, if any.
pub fn role_of(conn: &mut DbConn, org_id: i64, user_id: i64) -> ApiResult<Option<Access>> {
    let role: Option<String> = with_conn!(conn, |c| memberships::table
        .filter(memberships::org_id.eq(org_id))
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::role)
        .first(c)
        .optional())?;
    role.map(|r| r.parse()).transpose()
}

/// Members of an organisation, by name.
pub fn members(conn: &mut DbConn, org_id: i64) -> ApiResult<Vec<(String, Access)>> {
    let rows: Vec<(String, String)> = with_conn!(conn, |c| memberships::table
        .inner_join(accounts::table.on(accounts::id.eq(memberships::user_id)))
        .filter(memberships::org_id.eq(org_id))
        .order(accounts::name_key.asc())
        .select((accounts::name, memberships::role))
        .load(c))?;
    rows.into_iter()
        .map(|(name, role)| Ok((name, role.parse()?)))
        .collect()
}

/// The organisations a user belongs to, with the role in each.
pub fn orgs_of(conn: &mut DbConn, user_id: i64) -> ApiResult<Vec<(Account, Access)>> {
    let rows: Vec<(Account, String)> = with_conn!(conn, |c| memberships::table
        .inner_join(accounts::table.on(accounts::id.eq(memberships::org_id)))
        .filter(memberships::user_id.eq(user_id))
        .order(accounts::name_key.asc())
        .select((Account::as_select(), memberships::role))
        .load(c))?;
    rows.into_iter()
        .map(|(org, role)| Ok((org, role.parse()?)))
        .collect()
}

fn admin_count(conn: &mut DbConn, org_id: i64) -> ApiResult<i64> {
    Ok(with_conn!(conn, |c| memberships::table
        .filter(memberships::org_id.eq(org_id))
        .filter(memberships::role.eq(Access::Admin.as_str()))
        .count()
        .get_result(c))?)
}

/// Adds `user` to `org` or changes their role. Demoting the last admin is refused.
pub fn set_member(
    conn: &mut DbConn,
    org: &Account,
    user: &Account,
    role: Access,
    actor_id: i64,
) -> ApiResult<()> {
    conn.transaction(|conn| {
        match role_of(conn, org.id, user.id)? {
            None => insert_membership(conn, org.id, user.id, role)?,
            Some(current) => {
                if current == Access::Admin
                    && role != Access::Admin
                    && admin_count(conn, org.id)? <= 1
                {
                    return Err(last_admin(org));
                }
                with_conn!(conn, |c| diesel::update(
                    memberships::table
                        .filter(memberships::org_id.eq(org.id))
                        .filter(memberships::user_id.eq(user.id))
                )
                .set(memberships::role.eq(role.as_str()))
                .execute(c))?;
            }
        }
        let target = format!("{}/{}", org.name, user.name);
        audit::record(
            conn,
            Some(actor_id),
            "org.member.set",
            &target,
            role.as_str(),
        )
    })
}

/// Removes `user` from `org`. Removing the last admin is refused; removing a non-member is 404.
pub fn remove_member(
    conn: &mut DbConn,
    org: &Account,
    user: &Account,
    actor_id: i64,
) -> ApiResult<()> {
    conn.transaction(|conn| {
        let Some(current) = role_of(conn, org.id, user.id)? else {
            return Err(ApiError::NotFound(format!(
                "{} is not a member of {}",
                user.name, org.name
            )));
        };
        if current == Access::Admin && admin_count(conn, org.id)? <= 1 {
            return Err(last_admin(org));
        }
        with_conn!(conn, |c| diesel::delete(
            memberships::table
                .filter(memberships::org_id.eq(org.id))
                .filter(memberships::user_id.eq(user.id))
        )
        .execute(c))?;
        let target = format!("{}/{}", org.name, user.name);
        audit::record(conn, Some(actor_id), "org.member.remove", &target, "")
    })
}

fn last_admin(org: &Account) -> ApiError {
    ApiError::Conflict(format!(
        "{} must keep at least one admin: promote another member first",
        org.name
    ))
}
