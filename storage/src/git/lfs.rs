//! Git LFS pointer files: what a large file looks like inside git.
//!
//! Grove writes pointers only in the one canonical form, and [`LfsPointer::parse`] accepts only
//! that form, so "is this blob a pointer" has a single answer: the one the listing shows.

/// Blobs larger than this are never pointers (the Git LFS spec's limit).
pub const MAX_POINTER_SIZE: usize = 1024;

const VERSION_LINE: &str = "version https://git-lfs.github.com/spec/v1\n";

/// A parsed Git LFS pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LfsPointer {
    /// sha256 of the real content: 64 lowercase hex digits.
    pub oid: String,
    /// Size of the real content in bytes.
    pub size: u64,
}

impl LfsPointer {
    /// The canonical pointer text:
    ///
    /// ```text
    /// version https://git-lfs.github.com/spec/v1
    /// oid sha256:<64 hex>
    /// size <decimal>
    /// ```
    ///
    /// with a trailing newline. `oid_hex` is written as given; pass 64 lowercase hex digits.
    pub fn format(oid_hex: &str, size: u64) -> String {
        format!("{VERSION_LINE}oid sha256:{oid_hex}\nsize {size}\n")
    }

    /// Parse a blob as a pointer. Strict: exactly the three lines [`LfsPointer::format`] writes,
    /// lowercase hex, a decimal size without leading zeros, and the trailing newline; anything
    /// else (extension keys, CRLF, the pre-release `hawser` URL) is not a pointer.
    pub fn parse(bytes: &[u8]) -> Option<LfsPointer> {
        if bytes.len() > MAX_POINTER_SIZE {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let rest = text
            .strip_prefix(VERSION_LINE)?
            .strip_prefix("oid sha256:")?;
        let (oid, rest) = rest.split_at_checked(64)?;
        if !oid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let digits = rest.strip_prefix("\nsize ")?.strip_suffix('\n')?;
        let canonical_number = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !canonical_number {
            return None;
        }
        let size = digits.parse().ok()?;
        Some(LfsPointer {
            oid: oid.to_owned(),
            size,
        })
    }

    /// This pointer's canonical text.
    pub fn to_text(&self) -> String {
        Self::format(&self.oid, self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

    #[test]
    fn round_trip() {
        let text = LfsPointer::format(OID, 12345);
        assert_eq!(
            text,
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12345\n")
        );
        let p = LfsPointer::parse(text.as_bytes()).unwrap();
        assert_eq!(p.oid, OID);
        assert_eq!(p.size, 12345);
        assert_eq!(p.to_text(), text);
        assert!(LfsPointer::parse(LfsPointer::format(OID, 0).as_bytes()).is_some());
        let max = LfsPointer::format(OID, u64::MAX);
        assert_eq!(LfsPointer::parse(max.as_bytes()).unwrap().size, u64::MAX);
    }

    #[test]
    fn strict() {
        let good = LfsPointer::format(OID, 7);
        let variants = [
            good.trim_end().to_owned(),
            good.replace('\n', "\r\n"),
            good.replace("size 7", "size 07"),
            good.replace("size 7", "size -7"),
            good.replace("size 7", "size "),
            good.replace("size 7", "size 18446744073709551616"),
            good.replace(OID, &OID.to_uppercase()),
            good.replace(OID, &OID[..63]),
            good.replace(OID, &format!("{OID}0")),
            good.replace("git-lfs.github.com", "hawser.github.com"),
            good.replace("sha256:", "sha1:"),
            format!("{good}ext-0-foo sha256:{OID}\n"),
            format!(" {good}"),
            String::new(),
        ];
        for v in &variants {
            assert!(LfsPointer::parse(v.as_bytes()).is_none(), "{v:?} parsed");
        }
        let mut big = good.into_bytes();
        big.resize(MAX_POINTER_SIZE + 1, b'\n');
        assert!(LfsPointer::parse(&big).is_none());
    }
}
