//! What an upload promises ([`Expect`]) and what it produced ([`PutOutcome`]), and the checks
//! that hold the bytes to the promise.
//!
//! The client's `oid` and `size` are claims: the store counts and hashes the bytes itself and only
//! *compares* (security principle 4, "content addresses are computed, never claimed"). Limits are
//! enforced while bytes arrive, so an oversized upload is stopped at the first byte past the
//! limit rather than after it has been stored.

use crate::error::StoreError;
use crate::oid::Oid;

/// What the caller expects of an upload. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    /// The content must hash to this oid.
    pub sha256: Option<Oid>,
    /// The content must be exactly this many bytes.
    pub size: Option<u64>,
    /// The content may be at most this many bytes (a server-side cap).
    pub max_size: Option<u64>,
}

/// The result of a successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The computed content address.
    pub oid: Oid,
    /// The computed size in bytes.
    pub size: u64,
    /// False when identical content was already published (deduplicated).
    pub created: bool,
}

impl Expect {
    /// Refuses an upload whose announced size already breaks the cap, before reading a byte.
    pub(crate) fn check_announced(&self) -> Result<(), StoreError> {
        if let (Some(size), Some(max)) = (self.size, self.max_size)
            && size > max
        {
            return Err(StoreError::TooLarge { limit: max });
        }
        Ok(())
    }

    /// Checks the running byte count; called before accepting each chunk.
    pub(crate) fn check_running(&self, received: u64) -> Result<(), StoreError> {
        if let Some(expected) = self.size
            && received > expected
        {
            return Err(StoreError::SizeMismatch {
                expected,
                actual: received,
            });
        }
        if let Some(limit) = self.max_size
            && received > limit
        {
            return Err(StoreError::TooLarge { limit });
        }
        Ok(())
    }

    /// Compares the finished upload with the expectation: size first, then hash.
    pub(crate) fn verify(&self, oid: &Oid, size: u64) -> Result<(), StoreError> {
        self.check_running(size)?;
        if let Some(expected) = self.size
            && size != expected
        {
            return Err(StoreError::SizeMismatch {
                expected,
                actual: size,
            });
        }
        if let Some(expected) = &self.sha256
            && expected != oid
        {
            return Err(StoreError::HashMismatch {
                expected: expected.clone(),
                actual: oid.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn announced_size_over_cap_is_refused_early() {
        let expect = Expect {
            size: Some(11),
            max_size: Some(10),
            ..Expect::default()
        };
        assert!(matches!(
            expect.check_announced(),
            Err(StoreError::TooLarge { limit: 10 })
        ));
        assert!(Expect::default().check_announced().is_ok());
    }

    #[test]
    fn running_count_stops_at_the_first_byte_too_many() {
        let expect = Expect {
            size: Some(5),
            max_size: Some(100),
            ..Expect::default()
        };
        assert!(expect.check_running(5).is_ok());
        assert!(matches!(
            expect.check_running(6),
            Err(StoreError::SizeMismatch {
                expected: 5,
                actual: 6
            })
        ));
        let capped = Expect {
            max_size: Some(0),
            ..Expect::default()
        };
        assert!(capped.check_running(0).is_ok());
        assert!(matches!(
            capped.check_running(1),
            Err(StoreError::TooLarge { limit: 0 })
        ));
    }

    #[test]
    fn verify_compares_size_then_hash() {
        let oid = Oid::parse(EMPTY).unwrap();
        let other = Oid::from_digest([7; 32]);
        let expect = Expect {
            sha256: Some(other.clone()),
            size: Some(1),
            max_size: None,
        };
        assert!(matches!(
            expect.verify(&oid, 0),
            Err(StoreError::SizeMismatch {
                expected: 1,
                actual: 0
            })
        ));
        assert!(matches!(
            expect.verify(&oid, 1),
            Err(StoreError::HashMismatch { .. })
        ));
        assert!(expect.verify(&other, 1).is_ok());
    }
}
