//! Byte ranges with HTTP semantics (RFC 9110 §14.1.2), resolved against a blob's size.
//!
//! The HTTP layer parses the `Range` header (or calls [`ByteRange::parse_header`]) and the store
//! resolves it here, so every backend answers a range the same way: an end past the last byte is
//! clamped, a start at or past the end is unsatisfiable (416), and a suffix longer than the blob
//! means the whole blob.

use std::ops::Range;

use crate::error::StoreError;

/// One byte range as a client asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-last`, both inclusive, as in `bytes=0-499`.
    Inclusive {
        /// First byte offset.
        first: u64,
        /// Last byte offset (inclusive; may lie past the end, then it is clamped).
        last: u64,
    },
    /// `first-`: from `first` to the end.
    From(u64),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a `Range` header value holding exactly one range, e.g. `bytes=0-499`, `bytes=500-`
    /// or `bytes=-200`. Multiple ranges, other units and malformed values are an
    /// [`StoreError::InvalidRange`] (HTTP says to ignore such a header and send the whole blob;
    /// that choice is the caller's).
    pub fn parse_header(value: &str) -> Result<ByteRange, StoreError> {
        let invalid = || StoreError::InvalidRange(value.chars().take(80).collect());
        let spec = value.trim();
        let spec = spec
            .strip_prefix("bytes=")
            .or_else(|| spec.strip_prefix("Bytes="))
            .ok_or_else(invalid)?
            .trim();
        if spec.contains(',') {
            return Err(invalid());
        }
        let (a, b) = spec.split_once('-').ok_or_else(invalid)?;
        let num = |s: &str| -> Result<u64, StoreError> {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(invalid());
            }
            s.parse::<u64>().map_err(|_| invalid())
        };
        match (a.trim(), b.trim()) {
            ("", n) => Ok(ByteRange::Suffix(num(n)?)),
            (first, "") => Ok(ByteRange::From(num(first)?)),
            (first, last) => {
                let (first, last) = (num(first)?, num(last)?);
                if last < first {
                    return Err(invalid());
                }
                Ok(ByteRange::Inclusive { first, last })
            }
        }
    }

    /// Resolves the range against a blob of `size` bytes into a non-empty half-open range.
    pub fn resolve(&self, size: u64) -> Result<Range<u64>, StoreError> {
        let unsatisfiable = StoreError::RangeNotSatisfiable { size };
        match *self {
            ByteRange::Inclusive { first, last } => {
                if last < first {
                    return Err(StoreError::InvalidRange(format!("{first}-{last}")));
                }
                if first >= size {
                    return Err(unsatisfiable);
                }
                Ok(first..last.saturating_add(1).min(size))
            }
            ByteRange::From(first) => {
                if first >= size {
                    return Err(unsatisfiable);
                }
                Ok(first..size)
            }
            ByteRange::Suffix(n) => {
                if n == 0 || size == 0 {
                    return Err(unsatisfiable);
                }
                Ok(size - n.min(size)..size)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(first: u64, last: u64) -> ByteRange {
        ByteRange::Inclusive { first, last }
    }

    #[test]
    fn resolves_like_http() {
        assert_eq!(r(0, 0).resolve(10).unwrap(), 0..1);
        assert_eq!(r(2, 5).resolve(10).unwrap(), 2..6);
        assert_eq!(r(5, 100).resolve(10).unwrap(), 5..10);
        assert_eq!(r(9, u64::MAX).resolve(10).unwrap(), 9..10);
        assert_eq!(ByteRange::From(3).resolve(10).unwrap(), 3..10);
        assert_eq!(ByteRange::Suffix(3).resolve(10).unwrap(), 7..10);
        assert_eq!(ByteRange::Suffix(30).resolve(10).unwrap(), 0..10);
    }

    #[test]
    fn unsatisfiable_ranges_carry_the_size() {
        for range in [r(10, 20), ByteRange::From(10), ByteRange::Suffix(0)] {
            assert!(matches!(
                range.resolve(10),
                Err(StoreError::RangeNotSatisfiable { size: 10 })
            ));
        }
        for range in [r(0, 0), ByteRange::From(0), ByteRange::Suffix(5)] {
            assert!(matches!(
                range.resolve(0),
                Err(StoreError::RangeNotSatisfiable { size: 0 })
            ));
        }
        assert!(matches!(
            r(5, 4).resolve(10),
            Err(StoreError::InvalidRange(_))
        ));
    }

    #[test]
    fn parses_single_range_headers() {
        assert_eq!(ByteRange::parse_header("bytes=0-499").unwrap(), r(0, 499));
        assert_eq!(
            ByteRange::parse_header("bytes=500-").unwrap(),
            ByteRange::From(500)
        );
        assert_eq!(
            ByteRange::parse_header("bytes=-200").unwrap(),
            ByteRange::Suffix(200)
        );
        assert_eq!(ByteRange::parse_header(" bytes= 1 - 2 ").unwrap(), r(1, 2));
    }

    #[test]
    fn refuses_malformed_headers() {
        for bad in [
            "",
            "bytes=",
            "bytes=-",
            "bytes=5-4",
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=-+2",
            "bytes=99999999999999999999999-",
            "bytes=1",
        ] {
            assert!(
                matches!(
                    ByteRange::parse_header(bad),
                    Err(StoreError::InvalidRange(_))
                ),
                "accepted {bad:?}"
            );
        }
    }
}
