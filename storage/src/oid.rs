//! The content address of a blob: a sha256 digest written as 64 lowercase hex digits.
//!
//! Every key under `lfs/` is derived from an [`Oid`], and an `Oid` can only be built from a
//! string that passed validation (or from a digest the store computed itself), so a hostile
//! client-supplied "oid" such as `../../etc/passwd` or an upper-case spelling can never reach a
//! key. Upper case is refused rather than folded: Git LFS oids are lower case, and accepting two
//! spellings of one object would let two names address one blob.

use std::fmt;
use std::str::FromStr;

use crate::error::StoreError;

/// Length of a sha256 digest written in hex.
pub const OID_HEX_LEN: usize = 64;

/// A validated sha256 content address (64 lowercase hex digits).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid(String);

impl Oid {
    /// Parses a client-supplied oid. Only exactly 64 characters of `0-9a-f` are accepted.
    pub fn parse(s: &str) -> Result<Oid, StoreError> {
        let valid = s.len() == OID_HEX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid {
            Ok(Oid(s.to_owned()))
        } else {
            Err(StoreError::InvalidOid(truncate_for_display(s)))
        }
    }

    /// Builds the oid of a digest the store computed itself.
    pub fn from_digest(digest: [u8; 32]) -> Oid {
        Oid(hex::encode(digest))
    }

    /// The 64 lowercase hex digits.
    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

/// Keeps error messages about hostile input short (and free of huge payloads).
fn truncate_for_display(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({})", self.0)
    }
}

impl FromStr for Oid {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Oid::parse(s)
    }
}

impl AsRef<str> for Oid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn accepts_lowercase_sha256() {
        let oid = Oid::parse(EMPTY).unwrap();
        assert_eq!(oid.as_hex(), EMPTY);
        assert_eq!(oid.to_string(), EMPTY);
        assert_eq!(EMPTY.parse::<Oid>().unwrap(), oid);
    }

    #[test]
    fn from_digest_matches_hex() {
        let mut digest = [0u8; 32];
        digest[0] = 0xab;
        digest[31] = 0x01;
        let oid = Oid::from_digest(digest);
        assert_eq!(
            oid.as_hex(),
            "ab00000000000000000000000000000000000000000000000000000000000001"
        );
    }

    #[test]
    fn refuses_everything_else() {
        let upper = EMPTY.to_uppercase();
        let long = format!("{EMPTY}0");
        let non_ascii = format!("{}é", &EMPTY[..62]);
        let hostile = [
            "",
            &EMPTY[..63],
            long.as_str(),
            upper.as_str(),
            "../../../../../../../../../../../../../../../../../../etc/passwd",
            non_ascii.as_str(),
            "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85\n",
            "e3b0c44298fc1c149afbf4c8996fb924/7ae41e4649b934ca495991b7852b855",
        ];
        for s in hostile {
            assert!(
                matches!(Oid::parse(s), Err(StoreError::InvalidOid(_))),
                "accepted {s:?}"
            );
        }
    }

    #[test]
    fn error_message_is_bounded() {
        let huge = "x".repeat(10_000);
        let msg = Oid::parse(&huge).unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
    }
}
