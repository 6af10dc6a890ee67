//! Users: creation (sign-up and `grove user create`), lookup, and password checks.

use diesel::prelude::*;

use super::model::{Account, AccountKind};
use super::{audit, password};
use crate::db::schema::accounts;
use crate::db::{DbConn, is_unique_violation};
use crate::error::{ApiError, ApiResult};
use crate::names::AccountName;
use crate::with_conn;

pub const MAX_EMAIL: usize = 254;
pub const MAX_FULLNAME: usize = 100;

/// A validated request to create a user; the password is already hashed.
#[derive(Debug)]
pub struct NewUser {
    pub name: AccountName,
    pub email: Option<String>,
    pub fullname: String,
    pub password_hash: Option<String>,
    pub is_admin: bool,
}

pub fn validate_email(email: &str) -> ApiResult<()> {
    let ok = email.len() <= MAX_EMAIL
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "invalid email address {email:?}"
        )))
    }
}

pub fn validate_fullname(fullname: &str) -> ApiResult<()> {
    if fullname.chars().count() > MAX_FULLNAME || fullname.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "full name must be at most {MAX_FULLNAME} printable characters"
        )));
    }
    Ok(())
}

/// Inserts an account row; a taken name (in any letter case, user or org) is a 409.
pub(super) fn insert_account(
    conn: &mut DbConn,
    kind: AccountKind,
    name: &AccountName,
    fullname: &str,
    email: Option<&str>,
    password_hash: Option<&str>,
    is_admin: bool,
) -> ApiResult<Account> {
    let row = (
        accounts::kind.eq(kind.as_str()),
        accounts::name.eq(name.as_str()),
        accounts::name_key.eq(name.key()),
        accounts::fullname.eq(fullname),
        accounts::email.eq(email),
        accounts::password_hash.eq(password_hash),
        accounts::is_admin.eq(is_admin),
        accounts::created_at.eq(crate::time::now()),
    );
    let inserted = with_conn!(conn, |c| diesel::insert_into(accounts::table)
        .values(row)
        .returning(Account::as_returning())
        .get_result(c));
    inserted.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict(format!("the name {name} is already taken"))
        } else {
            e.into()
        }
    })
}

pub fn create_user(conn: &mut DbConn, new: NewUser, actor_id: Option<i64>) -> ApiResult<Account> {
    conn.transaction(|conn| {
        let account = insert_account(
            conn,
            AccountKind::User,
            &new.name,
            &new.fullname,
            new.email.as_deref(),
            new.password_hash.as_deref(),
            new.is_admin,
        )?;
        let detail = if new.is_admin { "site admin" } else { "" };
        audit::record(conn, actor_id, "user.create", &account.name, detail)?;
        Ok(account)
    })
}

/// True when any account (user or organisation) exists.
pub fn any_account(conn: &mut DbConn) -> ApiResult<bool> {
    let n: i64 = with_conn!(conn, |c| accounts::table.count().get_result(c))?;
    Ok(n > 0)
}

/// Any account (user or org) by name, without regard to case.
pub fn find_account(conn: &mut DbConn, name: &str) -> ApiResult<Option<Account>> {
    let key = name.to_ascii_lowercase();
    Ok(with_conn!(conn, |c| accounts::table
        .filter(accounts::name_key.eq(&key))
        .select(Account::as_select())
        .first(c)
        .optional())?)
}

pub fn find_user(conn: &mut DbConn, name: &str) -> ApiResult<Option<Account>> {
    Ok(find_account(conn, name)?.filter(|a| !a.is_org()))
}

pub fn get_account(conn: &mut DbConn, id: i64) -> ApiResult<Option<Account>> {
    Ok(with_conn!(conn, |c| accounts::table
        .find(id)
        .select(Account::as_select())
        .first(c)
        .optional())?)
}

/// Checks a username and password; the same error (and the same work) for an unknown user, an
/// account without a password, and a wrong password.
pub fn authenticate(conn: &mut DbConn, name: &str, password: &str) -> ApiResult<Account> {
    let refused = || ApiError::Unauthorized("invalid username or password".into());
    let user = if name.len() <= crate::names::MAX_ACCOUNT_NAME {
        find_user(conn, name)?
    } else {
        None
    };
    match user {
        Some(user) => match user.password_hash.as_deref() {
            Some(stored) if password::verify(password, stored) => Ok(user),
            Some(_) => Err(refused()),
            None => {
                password::verify_dummy(password);
                Err(refused())
            }
        },
        None => {
            password::verify_dummy(password);
            Err(refused())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails() {
        assert!(super::validate_email("a@b.c").is_ok());
        for bad in [
            "",
            "ab",
            "a@",
            "@b",
            "a b@c",
            "a@b@c",
            &format!("{}@b", "a".repeat(260)),
        ] {
            assert!(super::validate_email(bad).is_err(), "{bad}");
        }
    }
}
