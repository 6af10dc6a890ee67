//! Query strings with repeated keys (`expand=a&expand=b`, `filter=x&filter=y`), which the stock
//! client sends and serde's flat form decoding cannot express.

use actix_web::HttpRequest;

pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn of(req: &HttpRequest) -> Self {
        Self(
            url::form_urlencoded::parse(req.query_string().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Parameters from pairs (a page passing its own query on, minus its own keys).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// Every (key, value) pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The distinct parameter names, in order of first appearance.
    pub fn keys(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (k, _) in &self.0 {
            if !out.contains(&k.as_str()) {
                out.push(k);
            }
        }
        out
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `true`/`1` are true; absent is `default`.
    pub fn flag(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            Some(v) => matches!(v, "true" | "1" | "True"),
            None => default,
        }
    }
}
