//! Taking session JWTs apart and forging variants of them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

/// The three parts of a compact JWS, the first two decoded.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: Value,
    pub payload: Value,
    pub signature: String,
}

fn decode_part(part: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("JWT part {part:?} is not base64url: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JWT part is not JSON: {e}"))
}

/// base64url (no padding) of the JSON text of `value`.
pub fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Splits and decodes a compact JWT.
pub fn parse(token: &str) -> Jwt {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "JWT {token:?} does not have three parts");
    Jwt {
        header: decode_part(parts[0]),
        payload: decode_part(parts[1]),
        signature: parts[2].into(),
    }
}

/// Signs `payload` with `alg` (an HMAC algorithm) and `key`.
pub fn sign(payload: &Value, key: &[u8], alg: Algorithm) -> String {
    let header = Header::new(alg);
    jsonwebtoken::encode(&header, payload, &EncodingKey::from_secret(key).unwrap()).unwrap()
}

/// Signs `payload` with HS256 and `key`.
pub fn sign_hs256(payload: &Value, key: &[u8]) -> String {
    sign(payload, key, Algorithm::HS256)
}

/// An unsigned token: header `{"alg": "none", "typ": "JWT"}`, empty signature.
pub fn unsigned(payload: &Value) -> String {
    let header = serde_json::json!({"alg": "none", "typ": "JWT"});
    format!("{}.{}.", encode_part(&header), encode_part(payload))
}

/// `token` with its payload replaced by `payload` and the original header and signature kept.
pub fn replace_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], encode_part(payload), parts[2])
}

/// `token` with the first character of its signature changed. (The first, not the last: the last
/// base64url character can carry unused bits, so changing it may not change the signature.)
pub fn flip_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut chars: Vec<char> = sig.chars().collect();
    assert!(!chars.is_empty(), "JWT has no signature");
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    format!("{head}.{}", chars.into_iter().collect::<String>())
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}
