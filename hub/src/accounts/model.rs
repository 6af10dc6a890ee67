//! The account row and its public view.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::accounts;
use crate::time::wire;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    User,
    Org,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::User => "user",
            AccountKind::Org => "org",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub name_key: String,
    pub fullname: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub created_at: NaiveDateTime,
}

impl Account {
    pub fn is_org(&self) -> bool {
        self.kind == AccountKind::Org.as_str()
    }

    pub fn view(&self) -> AccountView {
        AccountView {
            id: self.id.to_string(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            fullname: self.fullname.clone(),
            is_admin: (!self.is_org()).then_some(self.is_admin),
            created_at: wire(self.created_at),
        }
    }
}

/// What anyone may see of an account: never the email or the password hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub fullname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
    pub created_at: String,
}
