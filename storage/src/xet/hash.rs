//! Xet hashes and their string form.

use crate::error::StoreError;

/// A 32-byte Xet hash (chunk, xorb or file). Its string form is the Xet one: each of the four
/// little-endian u64 words printed as 16 hex digits.
pub type XetHash = xet_core_structures::merklehash::MerkleHash;

/// Parses a hash as it appears in CAS paths: exactly 64 lowercase hex digits.
pub fn parse_xet_hash(text: &str) -> Result<XetHash, StoreError> {
    let well_formed = text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(StoreError::InvalidXet(format!(
            "{:?} is not a Xet hash (64 lowercase hex digits)",
            text.chars().take(80).collect::<String>()
        )));
    }
    XetHash::from_hex(text).map_err(|e| StoreError::InvalidXet(format!("bad Xet hash: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_form_round_trips_and_refuses_junk() {
        let text = "0706050403020100".repeat(4);
        let hash = parse_xet_hash(&text).unwrap();
        assert_eq!(hash.hex(), text);
        assert_eq!(&hash.as_bytes()[..8], &[0, 1, 2, 3, 4, 5, 6, 7]);
        assert!(parse_xet_hash("../etc/passwd").is_err());
        assert!(parse_xet_hash(&"A".repeat(64)).is_err());
        assert!(parse_xet_hash(&"a".repeat(63)).is_err());
    }
}
