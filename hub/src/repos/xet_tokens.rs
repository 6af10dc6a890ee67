//! Xet access tokens: what the CAS routes accept instead of a Hub credential.
//!
//! The stock client asks the hub for a token (`xet-read-token` / `xet-write-token`) and then
//! talks to the CAS with it alone; the Hub credential is never sent to the CAS. A token is an
//! HS256 JWT naming the repo it was issued for and whether it may upload, with a short expiry
//! (the client refreshes it through the same endpoint). Its audience differs from sessions' and
//! upload URLs', so no kind of token passes for another.

use serde::{Deserialize, Serialize};

use super::hs256::Hs256;
use crate::error::{ApiError, ApiResult};

const AUDIENCE: &str = "grove-xet";
/// How long a token lasts; the client refreshes it a minute before it runs out.
pub const TOKEN_SECONDS: i64 = 3600;

/// What a Xet token grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct XetClaims {
    pub aud: String,
    pub exp: i64,
    /// The repo's database id.
    pub repo: i64,
    /// Where its git history lives (`models/42`).
    pub git_key: String,
    /// Whether the token may upload xorbs and shards.
    pub write: bool,
}

pub struct XetTokens(Hs256);

impl XetTokens {
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        Ok(Self(Hs256::new(secret, AUDIENCE)?))
    }

    /// A token for `repo`, and its expiry (unix seconds).
    pub fn issue(&self, repo: i64, git_key: String, write: bool) -> ApiResult<(String, i64)> {
        let exp = chrono::Utc::now().timestamp() + TOKEN_SECONDS;
        let claims = XetClaims {
            aud: AUDIENCE.into(),
            exp,
            repo,
            git_key,
            write,
        };
        let token = self
            .0
            .sign(&claims)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("cannot sign a Xet token: {e}")))?;
        Ok((token, exp))
    }

    /// The claims of a genuine, unexpired token; otherwise 401.
    pub fn verify(&self, token: &str) -> ApiResult<XetClaims> {
        self.0.verify::<XetClaims>(token).map_err(|_| {
            ApiError::Unauthorized("invalid or expired Xet token: ask the hub for a new one".into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_repo_and_scope_and_need_the_key() {
        let tokens = XetTokens::from_secret(b"0123456789abcdef0123456789abcdef").unwrap();
        let (token, exp) = tokens.issue(42, "models/42".into(), true).unwrap();
        let claims = tokens.verify(&token).unwrap();
        assert_eq!((claims.repo, claims.write, claims.exp), (42, true, exp));
        let other = XetTokens::from_secret(b"fedcba9876543210fedcba9876543210").unwrap();
        assert!(other.verify(&token).is_err());
        assert!(tokens.verify("not-a-token").is_err());
        // Same secret, other audiences: neither kind passes for the other.
        let signer = crate::repos::upload_grants::UrlSigner::from_secret(
            b"0123456789abcdef0123456789abcdef",
        )
        .unwrap();
        use crate::repos::upload_grants::Purpose;
        assert!(signer.verify(&token, Purpose::Get).is_err());
        let grant = signer
            .sign(&signer.grant(Purpose::XorbRead, "ab", 0))
            .unwrap();
        assert!(tokens.verify(&grant).is_err());
    }
}
