//! Assertions on JSON shapes shared by the tests.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Asserts that `value` is an object with exactly the keys `keys` (in any order).
#[track_caller]
pub fn assert_keys(value: &Value, keys: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {value}"));
    let mut got: Vec<&str> = object.keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = keys.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "keys of {value}");
}

/// Asserts that `value` is a date in the contract's form, RFC 3339 UTC with milliseconds and `Z`
/// (`2026-11-30T04:35:08.123Z`), and returns it.
#[track_caller]
pub fn assert_date(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("date is not a string: {value}"));
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| range.into_iter().all(|i| b[i].is_ascii_digit());
    let well_formed = b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z';
    assert!(
        well_formed,
        "date {text:?} is not of the form 2026-11-30T04:35:08.123Z"
    );
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("date {text:?} does not parse: {e}"))
        .with_timezone(&Utc)
}

/// Asserts that `a` and `b` are at most `seconds` apart.
#[track_caller]
pub fn assert_close(a: DateTime<Utc>, b: DateTime<Utc>, seconds: i64) {
    let diff = (a - b).num_seconds().abs();
    assert!(
        diff <= seconds,
        "{a} and {b} are {diff} s apart, more than {seconds} s"
    );
}

/// Asserts that `value` is a non-empty string and returns it.
#[track_caller]
pub fn assert_nonempty_str(value: &Value) -> String {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    assert!(!s.is_empty(), "empty string");
    s.to_string()
}

/// Asserts that `token` looks like an API token: `grove_` followed by base62, long enough to
/// carry at least 128 random bits (22 base62 characters).
#[track_caller]
pub fn assert_token_format(token: &str) {
    let rest = token
        .strip_prefix("grove_")
        .unwrap_or_else(|| panic!("token {token:?} does not start with grove_"));
    assert!(
        rest.chars().all(|c| c.is_ascii_alphanumeric()),
        "token {token:?} is not base62"
    );
    assert!(
        rest.len() >= 22,
        "token {token:?} carries fewer than 128 bits"
    );
}

/// Asserts an account object: `{"id", "type", "name", "fullname", "createdAt"}`, plus `isAdmin`
/// for users.
#[track_caller]
pub fn assert_account(value: &Value, kind: &str, name: &str) {
    if kind == "user" {
        assert_keys(
            value,
            &["id", "type", "name", "fullname", "createdAt", "isAdmin"],
        );
        assert!(
            value["isAdmin"].is_boolean(),
            "isAdmin is not a boolean: {value}"
        );
    } else {
        assert_keys(value, &["id", "type", "name", "fullname", "createdAt"]);
    }
    assert_nonempty_str(&value["id"]);
    assert_eq!(value["type"], kind, "type of {value}");
    assert_eq!(value["name"], name, "name of {value}");
    assert_date(&value["createdAt"]);
}
