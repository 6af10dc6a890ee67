//! The key layout of the blob store, in one place.
//!
//! - `lfs/<2 hex>/<2 hex>/<sha256>`: published blobs. Only verified content is ever written
//!   here, always with create-if-absent, and it is never overwritten: content-addressed objects
//!   are immutable. The two fan-out levels keep directories small on the local store (the same
//!   layout Git LFS uses in `.git/lfs/objects`).
//! - `staging/<uuid v7>`: uploads in progress or awaiting verification. A v7 uuid starts with its
//!   creation time, so a garbage collector can tell an abandoned staging object's age from its
//!   name alone.
//! - `probe/readyz`: the key the reachability probe looks under; nothing is ever written there.
//!
//! The garbage collector and integrity checks should build keys through these functions too.

use object_store::path::Path;
use uuid::Uuid;

use crate::oid::Oid;

/// Prefix of published blobs.
pub const BLOB_PREFIX: &str = "lfs";
/// Prefix of staging objects.
pub const STAGING_PREFIX: &str = "staging";
/// Prefix the reachability probe lists.
pub const PROBE_PREFIX: &str = "probe";

/// The key of a published blob: `lfs/ab/cd/abcd…`.
pub fn blob_key(oid: &Oid) -> Path {
    let hex = oid.as_hex();
    Path::from(format!("{BLOB_PREFIX}/{}/{}/{hex}", &hex[0..2], &hex[2..4]))
}

/// The key of a staging object: `staging/<uuid>`.
pub fn staging_key(id: Uuid) -> Path {
    Path::from(format!("{STAGING_PREFIX}/{id}"))
}

/// A fresh staging key (uuid v7: time-ordered, so its age can be read from the name).
pub fn new_staging_key() -> Path {
    staging_key(Uuid::now_v7())
}

/// Prefix of everything the Xet protocol stores (see `xet/mod.rs` for the layout).
pub const XET_PREFIX: &str = "xet";

/// The key of a stored xorb's chunk area: `xet/xorbs/<hash>`.
pub fn xorb_key(hash: &crate::xet::XetHash) -> Path {
    Path::from(format!("{XET_PREFIX}/xorbs/{}", hash.hex()))
}

/// The key of a stored xorb's chunk index: `xet/xorb-index/<hash>`.
pub fn xorb_index_key(hash: &crate::xet::XetHash) -> Path {
    Path::from(format!("{XET_PREFIX}/xorb-index/{}", hash.hex()))
}

/// The key of a verified Xet file's manifest: `xet/files/<file hash>`.
pub fn xet_file_key(hash: &crate::xet::XetHash) -> Path {
    Path::from(format!("{XET_PREFIX}/files/{}", hash.hex()))
}

/// The key naming the verified Xet file with a sha256: `xet/sha256/ab/cd/<sha256>`.
pub fn xet_sha256_key(oid: &Oid) -> Path {
    let hex = oid.as_hex();
    Path::from(format!(
        "{XET_PREFIX}/sha256/{}/{}/{hex}",
        &hex[0..2],
        &hex[2..4]
    ))
}

/// The key naming the xorb that holds a chunk: `xet/dedup/<chunk hash>`.
pub fn xet_dedup_key(hash: &crate::xet::XetHash) -> Path {
    Path::from(format!("{XET_PREFIX}/dedup/{}", hash.hex()))
}

/// The prefix the reachability probe lists.
pub fn probe_prefix() -> Path {
    Path::from(format!("{PROBE_PREFIX}/readyz"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_key_fans_out_by_the_first_two_bytes() {
        let oid =
            Oid::parse("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").unwrap();
        assert_eq!(
            blob_key(&oid).as_ref(),
            "lfs/e3/b0/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn staging_keys_are_unique_and_under_staging() {
        let a = new_staging_key();
        let b = new_staging_key();
        assert_ne!(a, b);
        assert!(a.as_ref().starts_with("staging/"));
        let id = a.as_ref().strip_prefix("staging/").unwrap();
        assert_eq!(Uuid::parse_str(id).unwrap().get_version_num(), 7);
    }
}
