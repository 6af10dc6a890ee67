//! Model cards to HTML, safely: CommonMark plus tables, strikethrough and task lists, with every
//! piece of raw HTML in the card shown as text (never passed through), and links and images
//! restricted to `http(s)`, `mailto` and relative URLs, so no script, `javascript:` URL or
//! event handler from a card reaches the page.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Largest card body rendered; the rest is cut (at a character boundary) with a note.
pub const MAX_CARD_BYTES: usize = 256 * 1024;

/// True for URLs a card may link to.
pub fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // A colon before any '/', '?' or '#' is a scheme.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => !lower.starts_with("//"),
    }
}

fn neutralise(event: Event<'_>) -> Event<'_> {
    match event {
        // Raw HTML becomes visible text; the HTML writer escapes it.
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::Borrowed(""),
            title,
            id,
        }),
        other => other,
    }
}

/// Renders a card body (Markdown without its front matter) to safe HTML.
pub fn render(markdown: &str) -> String {
    let mut text = markdown;
    let mut cut = false;
    if text.len() > MAX_CARD_BYTES {
        let mut end = MAX_CARD_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text = &text[..end];
        cut = true;
    }
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let parser = Parser::new_ext(text, options).map(neutralise);
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, parser);
    if cut {
        out.push_str("<p class=\"note\">The rest of this card is too long to show here.</p>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_and_script_urls_never_pass() {
        let card = "# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n\
                    [click](javascript:alert(1)) [ok](https://example.org/a) [rel](docs/x.md)\n\n\
                    ![i](JaVaScRiPt:alert(1)) <b onclick=\"x\">bold</b> [d](data:text/html,hi)";
        let html = render(card);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:text"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("href=\"https://example.org/a\""));
        assert!(html.contains("href=\"docs/x.md\""));
        assert!(html.contains("<h1>Hi</h1>"));
    }

    #[test]
    fn tables_render_and_huge_cards_are_cut() {
        let html = render("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<table>") && html.contains("<td>1</td>"));
        let huge = "é".repeat(MAX_CARD_BYTES);
        assert!(render(&huge).contains("too long"));
        assert!(!safe_url("//evil.example/x") && safe_url("#section") && !safe_url(" vbscript:x"));
    }
}
