//! Bridges a request body (not `Send`: actix keeps it on its worker thread) to consumers that
//! need a `Send` stream, such as the blob store, through a small bounded channel. The channel's
//! bound is the backpressure: a slow store slows the reading of the socket.

use bytes::Bytes;
use futures::{Future, Stream, StreamExt};

/// Chunks in flight between the socket and the consumer.
const DEPTH: usize = 4;

/// Returns the `Send` stream and the pump that feeds it; run both together (`futures::join!`).
pub fn sendable(
    mut payload: actix_web::web::Payload,
) -> (
    impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    impl Future<Output = ()>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(DEPTH);
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let pump = async move {
        while let Some(chunk) = payload.next().await {
            let item = chunk.map_err(|e| std::io::Error::other(e.to_string()));
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    };
    (stream, pump)
}
