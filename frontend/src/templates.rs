//! The page templates (minijinja), compiled into the binary and auto-escaped: every value a
//! page shows is HTML-escaped unless a view marks it safe (only the card, which
//! [`crate::markdown::render`] sanitised).

use minijinja::{Environment, Value};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct RenderError {
    name: String,
    source: minijinja::Error,
}

const TEMPLATES: [(&str, &str); 17] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("repo.html", include_str!("../templates/repo.html")),
    (
        "leaderboard.html",
        include_str!("../templates/leaderboard.html"),
    ),
    ("job.html", include_str!("../templates/job.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("signup.html", include_str!("../templates/signup.html")),
    ("tokens.html", include_str!("../templates/tokens.html")),
    ("new_repo.html", include_str!("../templates/new_repo.html")),
    ("diff.html", include_str!("../templates/diff.html")),
    ("commits.html", include_str!("../templates/commits.html")),
    ("blob.html", include_str!("../templates/blob.html")),
    ("account.html", include_str!("../templates/account.html")),
    ("new_org.html", include_str!("../templates/new_org.html")),
];

/// 1234567 -> "1.2M".
fn human(v: Value) -> String {
    let n = v
        .as_i64()
        .map(|n| n as f64)
        .or_else(|| f64::try_from(v.clone()).ok())
        .unwrap_or(0.0);
    let (value, unit) = match n.abs() {
        x if x >= 1e9 => (n / 1e9, "B"),
        x if x >= 1e6 => (n / 1e6, "M"),
        x if x >= 1e3 => (n / 1e3, "k"),
        _ => return format!("{n}"),
    };
    format!("{value:.1}{unit}")
}

/// Bytes for people: "12.3 MB".
fn filesize(v: Value) -> String {
    let n = v.as_i64().unwrap_or(0) as f64;
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut size = n;
    let mut unit = 0;
    while size >= 1000.0 && unit < units.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{size:.1} {}", units[unit])
    }
}

pub struct Pages {
    env: Environment<'static>,
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

impl Pages {
    pub fn new() -> Pages {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        env.add_filter("human", human);
        env.add_filter("filesize", filesize);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("built-in templates parse");
        }
        Pages { env }
    }

    /// Renders the page `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String, RenderError> {
        let fail = |source| RenderError {
            name: name.to_string(),
            source,
        };
        self.env
            .get_template(name)
            .map_err(fail)?
            .render(Value::from(minijinja::value::Serde(&ctx)))
            .map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_page_renders_and_escapes() {
        let pages = Pages::new();
        let evil = "<script>alert(1)</script>";
        let html = pages
            .render(
                "error.html",
                json!({"status": 404, "message": evil, "query": evil}),
            )
            .unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        let repo = json!({"id": "a/b", "url": "/a/b", "downloads": 1234567, "updated": "today", "private": false});
        let home = pages
            .render(
                "home.html",
                json!({"trending": [repo], "recent": [], "families": []}),
            )
            .unwrap();
        assert!(home.contains("1.2M downloads") && home.contains("Nothing updated yet"));
        let page = pages
            .render("repo.html", json!({"repo": {"id": evil}, "files": [{"path": evil, "size": 2048, "download": "/x"}], "tags": [evil]}))
            .unwrap();
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("2.0 kB"));
    }
}
