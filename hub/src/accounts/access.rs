//! The three access levels. Token scopes and organisation roles use the same lattice, so the
//! effective right of a request is the smaller of the credential's scope and the caller's role.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
    Admin,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Admin => "admin",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Access {
    type Err = ApiError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Access::Read),
            "write" => Ok(Access::Write),
            "admin" => Ok(Access::Admin),
            other => Err(ApiError::BadRequest(format!(
                "unknown access level {other:?}: expected read, write or admin"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Access;

    #[test]
    fn levels_are_ordered() {
        assert!(Access::Read < Access::Write && Access::Write < Access::Admin);
        assert_eq!(Access::Admin.min(Access::Read), Access::Read);
        assert_eq!("write".parse::<Access>().unwrap(), Access::Write);
        assert!("owner".parse::<Access>().is_err());
    }
}
