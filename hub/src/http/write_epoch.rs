//! Tells the search service when a request that may have written has finished, so the next
//! listing re-reads the change log's head instead of a cached one (read-your-writes without a
//! database round trip on every read).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::AppState;

pub async fn note_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let writes = !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    let search = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.search.clone());
    let res = next.call(req).await?;
    // The handler has committed by the time its response exists.
    if writes && let Some(search) = search {
        search.note_write();
    }
    Ok(res)
}
