//! A fully read HTTP response and the assertions tests make on it.

use reqwest::header::{CONTENT_TYPE, HeaderMap, SET_COOKIE};
use serde_json::Value;

/// A response whose body has been read, so it can be inspected more than once.
#[derive(Debug)]
pub struct Resp {
    /// The request line, for messages (`GET /api/whoami-v2`).
    pub request: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub(crate) fn read(request: String, response: reqwest::blocking::Response) -> Resp {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .text()
            .unwrap_or_else(|e| panic!("{request}: cannot read the response body: {e}"));
        Resp {
            request,
            status,
            headers,
            body,
        }
    }

    /// The body as JSON; panics (showing the body) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: body is not JSON ({e}); status {}: {}",
                self.request, self.status, self.body
            )
        })
    }

    /// Panics unless the status is `status`; returns the body as JSON.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        self.assert_status_is(status);
        self.json()
    }

    /// Panics unless the status is `status`; does not look at the body.
    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Self {
        self.assert_status_is(status);
        self
    }

    #[track_caller]
    fn assert_status_is(&self, status: u16) {
        assert_eq!(
            self.status, status,
            "{}: expected status {status}, got {} with body {}",
            self.request, self.status, self.body
        );
    }

    /// Asserts `status`, `Content-Type: application/json` and the error envelope
    /// `{"error": "<non-empty message>"}` (and nothing else); returns the message.
    #[track_caller]
    pub fn expect_error(&self, status: u16) -> String {
        self.assert_status_is(status);
        self.error_envelope()
    }

    /// Asserts the error envelope for any status in `statuses`; returns the message.
    #[track_caller]
    pub fn expect_error_in(&self, statuses: &[u16]) -> String {
        assert!(
            statuses.contains(&self.status),
            "{}: expected one of {statuses:?}, got {} with body {}",
            self.request,
            self.status,
            self.body
        );
        self.error_envelope()
    }

    #[track_caller]
    fn error_envelope(&self) -> String {
        let content_type = self.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "{}: error response (status {}) has Content-Type {content_type:?}, not \
             application/json; body {}",
            self.request,
            self.status,
            self.body
        );
        let json: Value = serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: error body is not JSON ({e}): {}",
                self.request, self.body
            )
        });
        let object = json
            .as_object()
            .unwrap_or_else(|| panic!("{}: error body is not an object: {json}", self.request));
        let message = object
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_else(|| {
                panic!(
                    "{}: error body lacks a string `error`: {json}",
                    self.request
                )
            });
        assert!(
            !message.trim().is_empty(),
            "{}: empty error message: {json}",
            self.request
        );
        let extra: Vec<&String> = object.keys().filter(|k| *k != "error").collect();
        assert!(
            extra.is_empty(),
            "{}: error body has fields besides `error`: {json}",
            self.request
        );
        message.to_string()
    }

    /// A response header as text (the first one, if repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    /// The `Set-Cookie` header for cookie `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<SetCookie> {
        self.set_cookies()
            .iter()
            .map(|c| SetCookie::parse(c))
            .find(|c| c.name == name)
    }

    /// True when the response says it is JSON.
    pub fn is_json(&self) -> bool {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
    }
}

/// A parsed `Set-Cookie` header.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub raw: String,
    pub name: String,
    pub value: String,
    /// Attributes with lower-cased names, in order; flags have an empty value.
    pub attributes: Vec<(String, String)>,
}

impl SetCookie {
    pub fn parse(raw: &str) -> SetCookie {
        let mut parts = raw.split(';');
        let first = parts.next().unwrap_or("");
        let (name, value) = first.split_once('=').unwrap_or((first, ""));
        let attributes = parts
            .map(|a| {
                let a = a.trim();
                let (k, v) = a.split_once('=').unwrap_or((a, ""));
                (k.trim().to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        SetCookie {
            raw: raw.to_string(),
            name: name.trim().to_string(),
            value: value.trim().to_string(),
            attributes,
        }
    }

    /// The value of attribute `name` (case-insensitive), `Some("")` for a flag.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.attributes
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}
