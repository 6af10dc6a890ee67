//! Pagination in one place: an opaque `cursor` query parameter, a page-size cap, and the absolute
//! `Link: <…>; rel="next"` header the stock client follows (a relative URL breaks it).

use actix_web::HttpRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::AppState;
use super::query::QueryParams;
use crate::error::{ApiError, ApiResult};

/// The largest page any listing returns.
pub const MAX_PAGE: usize = 1000;

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
}

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(raw: &str) -> ApiResult<usize> {
    let invalid = || ApiError::BadRequest(format!("invalid cursor {raw:?}"));
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("o:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(invalid)
}

impl Page {
    /// `cursor` and `limit` from the query; `limit` defaults to `default` and is capped.
    pub fn from_query(query: &QueryParams, default: usize) -> ApiResult<Self> {
        let offset = match query.get("cursor") {
            Some(c) => decode_cursor(c)?,
            None => 0,
        };
        let limit = match query.get("limit") {
            Some(l) => l
                .parse::<usize>()
                .map_err(|_| ApiError::BadRequest(format!("invalid limit {l:?}")))?,
            None => default,
        };
        Ok(Self {
            offset,
            limit: limit.clamp(1, MAX_PAGE),
        })
    }
}

/// The `Link` header value for the page starting at `next_offset`: the request's own URL on the
/// public base URL, with the cursor replaced.
pub fn next_link(state: &AppState, req: &HttpRequest, next_offset: usize) -> String {
    let mut query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    query.push(("cursor".into(), encode_cursor(next_offset)));
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!(
        "<{}{}?{}>; rel=\"next\"",
        state.public_url,
        req.path(),
        encoded
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            super::decode_cursor(&super::encode_cursor(1234)).unwrap(),
            1234
        );
        assert!(super::decode_cursor("garbage!").is_err());
        assert!(super::decode_cursor("eDox").is_err());
    }
}
