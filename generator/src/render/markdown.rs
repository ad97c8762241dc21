//! Lore: Markdown to HTML.
//!
//! Lore is prose, so raw HTML in it is shown as text rather than passed through: the site's
//! promise that every piece of text is escaped holds for content authors too.

use pulldown_cmark::{Event, Options, Parser, html};

/// Renders Markdown to HTML, escaping any raw HTML the text contains.
pub fn to_html(markdown: &str) -> String {
    let parser =
        Parser::new_ext(markdown, Options::ENABLE_SMART_PUNCTUATION | Options::ENABLE_STRIKETHROUGH).map(|event| {
            match event {
                Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
                other => other,
            }
        });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, parser);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_emphasis_render() {
        assert_eq!(to_html("One *two*.\n\nThree."), "<p>One <em>two</em>.</p>\n<p>Three.</p>\n");
    }

    #[test]
    fn raw_html_is_escaped_not_passed_through() {
        let html = to_html("Hi <script>alert(1)</script> there\n\n<div onclick=x>block</div>\n");
        assert!(!html.contains("<script>") && !html.contains("<div"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}
