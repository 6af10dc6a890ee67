//! Web sessions: short-lived HS256 JWTs backed by a `sessions` row, so logout revokes them.
//!
//! The algorithm is fixed here and never taken from the token header (RFC 8725): a token whose
//! header says `none` or anything but HS256 is refused. `exp`, `iss` and `aud` are required. The
//! HMAC secret is generated on first start and kept in `<data-dir>/session.key` (mode 0600).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::Account;
use crate::db::DbConn;
use crate::db::schema::sessions;
use crate::error::ApiResult;
use crate::time::now;
use crate::with_conn;

pub const ISSUER: &str = "grove";
pub const AUDIENCE: &str = "grove-web";
pub const SESSION_HOURS: i64 = 24;
pub const KEY_FILE: &str = "session.key";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl SessionKeys {
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Issuer and verifier are the same service: no clock skew to allow for.
        validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret).context("invalid session key")?,
            decoding: DecodingKey::from_secret(secret).context("invalid session key")?,
            validation,
        })
    }

    /// Reads the key from the data dir, creating it on first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        Self::from_secret(read_or_create_secret(data_dir)?.as_bytes())
    }

    /// Starts a session for `user`: writes the row, returns the JWT and its expiry.
    pub fn issue(&self, conn: &mut DbConn, user: &Account) -> ApiResult<(String, NaiveDateTime)> {
        let created = now();
        let expires = created + Duration::hours(SESSION_HOURS);
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let row = (
            sessions::id.eq(&jti),
            sessions::user_id.eq(user.id),
            sessions::created_at.eq(created),
            sessions::expires_at.eq(expires),
        );
        with_conn!(conn, |c| diesel::insert_into(sessions::table)
            .values(row)
            .execute(c))?;
        let claims = Claims {
            sub: user.id.to_string(),
            name: user.name.clone(),
            jti,
            iat: created.and_utc().timestamp(),
            exp: expires.and_utc().timestamp(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("cannot sign session token")?;
        Ok((jwt, expires))
    }

    /// Checks signature, algorithm and claims; `None` for anything that does not pass.
    pub fn verify(&self, jwt: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(jwt, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// The server's HMAC secret, created on first start in `<data-dir>/session.key` (0600).
/// Creation is exclusive, so two processes starting together agree on one key.
pub fn read_or_create_secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join(KEY_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            file.write_all(hex::encode(bytes).as_bytes())?;
            file.sync_all()?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
    let secret = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let secret = secret.trim();
    anyhow::ensure!(
        secret.len() >= 32,
        "{} is too short to be a session key",
        path.display()
    );
    Ok(secret.to_string())
}

/// The user id of a live (unrevoked, unexpired) session, if `claims` names one.
pub fn live_session_user(conn: &mut DbConn, claims: &Claims) -> ApiResult<Option<i64>> {
    let row: Option<(i64, NaiveDateTime, Option<NaiveDateTime>)> =
        with_conn!(conn, |c| sessions::table
            .find(&claims.jti)
            .select((
                sessions::user_id,
                sessions::expires_at,
                sessions::revoked_at
            ))
            .first(c)
            .optional())?;
    Ok(row.and_then(|(user_id, expires, revoked)| {
        let matches_subject = claims.sub == user_id.to_string();
        (matches_subject && revoked.is_none() && expires > now()).then_some(user_id)
    }))
}

pub fn revoke_session(conn: &mut DbConn, jti: &str) -> ApiResult<()> {
    with_conn!(conn, |c| diesel::update(sessions::table.find(jti))
        .set(sessions::revoked_at.eq(now()))
        .execute(c))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "1".into(),
            name: "alice".into(),
            jti: "j".into(),
            iat: 0,
            exp,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        }
    }

    #[test]
    fn refuses_other_keys_algorithms_and_expired_tokens() {
        let keys = SessionKeys::from_secret(b"0123456789abcdef0123456789abcdef").unwrap();
        let future = chrono::Utc::now().timestamp() + 3600;
        let good =
            jsonwebtoken::encode(&Header::default(), &claims(future), &keys.encoding).unwrap();
        assert!(keys.verify(&good).is_some());

        let other = SessionKeys::from_secret(b"another-secret-another-secret-xx").unwrap();
        assert!(other.verify(&good).is_none());

        let expired =
            jsonwebtoken::encode(&Header::default(), &claims(future - 7200), &keys.encoding)
                .unwrap();
        assert!(keys.verify(&expired).is_none());

        let payload = good.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(keys.verify(&none).is_none());
    }
}
