//! Self-authorising URLs: uploads through the LFS batch API, and Xet xorb downloads.
//!
//! The stock client sends no `Authorization` header on LFS PUTs and completion calls, so each URL
//! carries a signed grant: an HS256 JWT bound to the object id, its size, what the URL may do (a
//! whole-object PUT, one part of a multipart upload, or the completion), and an expiry. Its
//! audience differs from web sessions', so neither kind of token passes for the other.

use serde::{Deserialize, Serialize};

use super::hs256::Hs256;
use crate::error::{ApiError, ApiResult};

const AUDIENCE: &str = "grove-lfs-upload";
/// Long enough for a multi-gigabyte upload on a slow link.
pub const GRANT_SECONDS: i64 = 6 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// `PUT` of the whole object (basic transfer).
    Put,
    /// `PUT` of one part of a multipart upload.
    Part,
    /// `POST` completing a multipart upload.
    Complete,
    /// `GET` of an LFS object, handed out by a download batch.
    Get,
    /// `GET` of byte ranges of a Xet xorb (the `oid` is the xorb's hash), handed out in
    /// reconstruction answers: the client fetches those URLs without credentials.
    XorbRead,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub aud: String,
    pub exp: i64,
    pub purpose: Purpose,
    pub oid: String,
    pub size: u64,
    /// Multipart uploads only: the upload's id, the part size and this URL's part number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<u32>,
    /// Xorb reads only: the bytes (first and last, inclusive) the URL may read. A xorb can hold
    /// chunks of several files, so a URL handed out for one file reads only that file's part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[u64; 2]>,
}

pub struct UrlSigner(Hs256);

impl UrlSigner {
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        Ok(Self(Hs256::new(secret, AUDIENCE)?))
    }

    pub fn grant(&self, purpose: Purpose, oid: &str, size: u64) -> Grant {
        Grant {
            aud: AUDIENCE.into(),
            exp: chrono::Utc::now().timestamp() + GRANT_SECONDS,
            purpose,
            oid: oid.to_string(),
            size,
            upload_id: None,
            chunk_size: None,
            part: None,
            range: None,
        }
    }

    pub fn sign(&self, grant: &Grant) -> ApiResult<String> {
        self.0
            .sign(grant)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("cannot sign an upload URL: {e}")))
    }

    /// The grant in `token` if it is genuine, unexpired and for `purpose`; otherwise 403.
    pub fn verify(&self, token: &str, purpose: Purpose) -> ApiResult<Grant> {
        let refused = || {
            ApiError::Forbidden(
                "this upload URL is invalid or has expired: ask for a new one".into(),
            )
        };
        let grant: Grant = self.0.verify(token).map_err(|_| refused())?;
        if grant.purpose != purpose {
            return Err(refused());
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_bound_to_purpose_and_key() {
        let signer = UrlSigner::from_secret(b"0123456789abcdef0123456789abcdef").unwrap();
        let token = signer.sign(&signer.grant(Purpose::Put, "ab", 3)).unwrap();
        let grant = signer.verify(&token, Purpose::Put).unwrap();
        assert_eq!((grant.oid.as_str(), grant.size), ("ab", 3));
        assert!(signer.verify(&token, Purpose::Complete).is_err());
        let other = UrlSigner::from_secret(b"fedcba9876543210fedcba9876543210").unwrap();
        assert!(other.verify(&token, Purpose::Put).is_err());
        let mut expired = signer.grant(Purpose::Put, "ab", 3);
        expired.exp -= GRANT_SECONDS + 10;
        assert!(
            signer
                .verify(&signer.sign(&expired).unwrap(), Purpose::Put)
                .is_err()
        );
    }
}
