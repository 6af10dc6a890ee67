//! Xet storage end to end on an in-memory store: xorbs are validated, files are registered only
//! when they rebuild to their claimed sha256, and verified files read back as ordinary blobs.

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use grove_storage::xet::{ShardFile, XorbIndex, dedup_shard};
use grove_storage::{BlobStore, ByteRange, Oid, StoreError};
use sha2::{Digest, Sha256};
use xet_core_structures::merklehash::{MerkleHash, compute_data_hash, file_hash, xorb_hash};
use xet_core_structures::metadata_shard::chunk_verification::range_hash_from_chunks;
use xet_core_structures::xorb_object::{CompressionScheme, serialize_chunk};

/// Deterministic chunk contents: some compressible, some not.
fn chunks(seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut state = seed;
    (0..count)
        .map(|i| {
            let len = 3000 + i * 517;
            (0..len)
                .map(|j| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    if i % 2 == 0 {
                        (j % 7) as u8
                    } else {
                        (state >> 33) as u8
                    }
                })
                .collect()
        })
        .collect()
}

fn xorb_of(data: &[Vec<u8>]) -> (MerkleHash, Bytes) {
    let mut body = Vec::new();
    for chunk in data {
        serialize_chunk(chunk, &mut body, CompressionScheme::LZ4).unwrap();
    }
    let leaves: Vec<_> = data
        .iter()
        .map(|c| (compute_data_hash(c), c.len() as u64))
        .collect();
    (xorb_hash(&leaves), Bytes::from(body))
}

/// An upload body arriving in uneven pieces, so records span pieces and validation batches.
fn pieces(body: Bytes) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let parts: Vec<_> = body
        .chunks(7001)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(parts)
}

fn sha(bytes: &[u8]) -> Oid {
    Oid::from_digest(Sha256::digest(bytes).into())
}

fn shard_file(xorb: MerkleHash, data: &[Vec<u8>], range: std::ops::Range<usize>) -> ShardFile {
    let part = &data[range.clone()];
    let hashes: Vec<_> = part.iter().map(|c| compute_data_hash(c)).collect();
    let leaves: Vec<_> = part
        .iter()
        .map(|c| (compute_data_hash(c), c.len() as u64))
        .collect();
    let content: Vec<u8> = part.concat();
    ShardFile {
        file_hash: file_hash(&leaves),
        sha256: sha(&content),
        terms: vec![grove_storage::xet::ShardTerm {
            xorb,
            start: range.start as u32,
            end: range.end as u32,
            unpacked: content.len() as u32,
            verification: range_hash_from_chunks(&hashes),
        }],
    }
}

async fn read_all(store: &BlobStore, oid: &Oid, range: Option<ByteRange>) -> Vec<u8> {
    let read = store.get(oid, range).await.unwrap();
    let parts: Vec<Bytes> = read.stream.try_collect().await.unwrap();
    parts.concat()
}

#[tokio::test]
async fn a_verified_file_reads_back_whole_and_in_ranges() {
    let store = BlobStore::memory();
    let data = chunks(7, 150);
    let (hash, body) = xorb_of(&data);
    assert!(
        store
            .xet_put_xorb(&hash, pieces(body.clone()))
            .await
            .unwrap()
    );
    assert!(
        !store.xet_put_xorb(&hash, pieces(body)).await.unwrap(),
        "second upload deduplicates"
    );

    let file = shard_file(hash, &data, 0..150);
    let content = data.concat();
    assert_eq!(
        store.size(&file.sha256).await.unwrap(),
        None,
        "invisible before the shard"
    );
    let manifest = store.xet_register_file(&file).await.unwrap();
    assert_eq!(manifest.size, content.len() as u64);
    assert_eq!(
        store.size(&file.sha256).await.unwrap(),
        Some(content.len() as u64)
    );
    assert_eq!(read_all(&store, &file.sha256, None).await, content);
    let (first, last) = (100_000u64, 300_123u64);
    let part = read_all(
        &store,
        &file.sha256,
        Some(ByteRange::Inclusive { first, last }),
    )
    .await;
    assert_eq!(part, &content[first as usize..=last as usize]);
    let tail = read_all(&store, &file.sha256, Some(ByteRange::Suffix(10))).await;
    assert_eq!(tail, &content[content.len() - 10..]);
    let past = store
        .get(&file.sha256, Some(ByteRange::From(content.len() as u64)))
        .await;
    assert!(matches!(past, Err(StoreError::RangeNotSatisfiable { .. })));

    // A second file made of a sub-range of the same xorb costs no new xorb.
    let sub = shard_file(hash, &data, 40..90);
    store.xet_register_file(&sub).await.unwrap();
    assert_eq!(
        read_all(&store, &sub.sha256, None).await,
        data[40..90].concat()
    );

    // The global dedup answer describes the xorb from Grove's own index.
    let index = store.xet_xorb_index(&hash).await.unwrap().unwrap();
    let first_chunk = compute_data_hash(&data[0]);
    let found = store.xet_dedup_lookup(&first_chunk).await.unwrap();
    assert_eq!(found, vec![index.clone()]);
    let unknown = compute_data_hash(b"no file starts with this");
    assert!(store.xet_dedup_lookup(&unknown).await.unwrap().is_empty());
    let shard = dedup_shard(&found).unwrap();
    assert!(shard.len() > 150 * 48);
}

#[tokio::test]
async fn bad_xorbs_and_lying_shards_are_refused_and_leave_nothing() {
    let store = BlobStore::memory();
    let data = chunks(11, 20);
    let (hash, body) = xorb_of(&data);

    // A flipped byte, a truncation, and the right bytes under the wrong name.
    let mut flipped = body.to_vec();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x55;
    let refused = store
        .xet_put_xorb(&hash, pieces(Bytes::from(flipped)))
        .await;
    assert!(
        matches!(refused, Err(StoreError::InvalidXet(_))),
        "{refused:?}"
    );
    let truncated = store
        .xet_put_xorb(&hash, pieces(body.slice(..body.len() - 3)))
        .await;
    assert!(matches!(truncated, Err(StoreError::InvalidXet(_))));
    let other = MerkleHash::from_hex(&"ab".repeat(32)).unwrap();
    assert!(
        store
            .xet_put_xorb(&other, pieces(body.clone()))
            .await
            .is_err()
    );
    assert!(store.xet_xorb_index(&hash).await.unwrap().is_none());

    // A shard naming a xorb that was never uploaded.
    let file = shard_file(hash, &data, 0..20);
    let missing = store.xet_register_file(&file).await;
    assert!(matches!(missing, Err(StoreError::InvalidXet(m)) if m.contains("never uploaded")));

    store.xet_put_xorb(&hash, pieces(body)).await.unwrap();
    // A wrong sha256 claim: refused, and the content is not visible under either hash.
    let mut lying = file.clone();
    lying.sha256 = sha(b"something else");
    let refused = store.xet_register_file(&lying).await;
    assert!(matches!(refused, Err(StoreError::InvalidXet(m)) if m.contains("sha256")));
    assert_eq!(store.size(&lying.sha256).await.unwrap(), None);
    assert_eq!(store.size(&file.sha256).await.unwrap(), None);
    // Wrong lengths, ranges, verification hashes and file hashes.
    let mut wrong = file.clone();
    wrong.terms[0].unpacked += 1;
    assert!(store.xet_register_file(&wrong).await.is_err());
    let mut wrong = file.clone();
    wrong.terms[0].end = 21;
    assert!(store.xet_register_file(&wrong).await.is_err());
    let mut wrong = file.clone();
    wrong.terms[0].verification = other;
    assert!(store.xet_register_file(&wrong).await.is_err());
    let mut wrong = file.clone();
    wrong.file_hash = other;
    assert!(store.xet_register_file(&wrong).await.is_err());
    assert_eq!(store.size(&file.sha256).await.unwrap(), None);

    // The honest shard still works afterwards.
    store.xet_register_file(&file).await.unwrap();
    let content: Vec<u8> = data.concat();
    assert_eq!(read_all(&store, &file.sha256, None).await, content);
    let index = Arc::new(
        XorbIndex::decode(&store.xet_xorb_index(&hash).await.unwrap().unwrap().encode()).unwrap(),
    );
    assert_eq!(index.chunks.len(), 20);
}

#[tokio::test]
async fn a_footer_after_the_chunks_is_tolerated_and_not_stored() {
    let store = BlobStore::memory();
    let data = chunks(3, 12);
    let (hash, body) = xorb_of(&data);
    let mut with_footer = body.to_vec();
    with_footer.extend_from_slice(b"XETBLOB\x01");
    with_footer.extend_from_slice(&[0u8; 200]);
    assert!(
        store
            .xet_put_xorb(&hash, pieces(Bytes::from(with_footer)))
            .await
            .unwrap()
    );
    let index = store.xet_xorb_index(&hash).await.unwrap().unwrap();
    assert_eq!(index.stored_len as usize, body.len());
    let file = shard_file(hash, &data, 0..12);
    store.xet_register_file(&file).await.unwrap();
    assert_eq!(read_all(&store, &file.sha256, None).await, data.concat());
}
