//! Lore: Markdown to HTML.
//!
//! Lore is prose, so raw HTML in it is shown as text rather than passed through: the site's
//! promise that every piece of text is escaped holds for content authors too.
//!
//! Links and images are the other way Markdown puts a URL into a page, and a `javascript:`,
//! `vbscript:` or `data:` URL there would run script on the site's origin when clicked (or,
//! for some browsers and `data:` images, when shown). Only `http`, `https`, `mailto` and
//! relative URLs are published. The scheme is judged as a browser judges it, on the URL
//! pulldown-cmark hands over (character references such as `&#106;` already decoded) with
//! leading and trailing controls and spaces stripped and tabs and newlines removed: so
//! `JaVaScRiPt:`, ` javascript:`, `java&#9;script:` are all seen as `javascript:`. A refused
//! link is published as its text alone; a refused image as its alt text alone.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// The URL schemes a published link or image may have; relative URLs have none.
const SAFE_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Renders Markdown to HTML, escaping any raw HTML the text contains and dropping links and
/// images whose URL has an unsafe scheme.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_SMART_PUNCTUATION | Options::ENABLE_STRIKETHROUGH;
    // Per open link or image: whether its start was dropped, so its end is dropped too.
    let mut dropped: Vec<bool> = Vec::new();
    let parser = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { ref dest_url, .. } | Tag::Image { ref dest_url, .. }) => {
            let safe = is_safe_url(dest_url);
            dropped.push(!safe);
            safe.then_some(event)
        }
        Event::End(TagEnd::Link | TagEnd::Image) => {
            let was_dropped = dropped.pop().unwrap_or(false);
            (!was_dropped).then_some(event)
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, parser);
    out
}

/// Whether a link or image URL may be published: relative, or of a safe scheme.
fn is_safe_url(url: &CowStr<'_>) -> bool {
    scheme(url).is_none_or(|s| SAFE_SCHEMES.iter().any(|safe| s.eq_ignore_ascii_case(safe)))
}

/// The scheme a browser would find in `url`, or `None` for a relative URL. Follows the WHATWG
/// URL parser: strip leading and trailing C0 controls and spaces, remove every tab and
/// newline, then a scheme is an ASCII letter followed by letters, digits, `+`, `-` or `.`,
/// up to the first `:`.
fn scheme(url: &str) -> Option<String> {
    let cleaned: String =
        url.trim_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let (scheme, _) = cleaned.split_once(':')?;
    let mut chars = scheme.chars();
    let is_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_scheme.then(|| scheme.to_string())
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

    #[test]
    fn schemes_are_found_as_a_browser_finds_them() {
        for (url, expected) in [
            ("javascript:alert(1)", Some("javascript")),
            ("  \u{1}JaVa\tScRiPt:alert(1)", Some("JaVaScRiPt")),
            ("java\nscript:x", Some("javascript")),
            ("data:text/html,x", Some("data")),
            ("https://example.com/", Some("https")),
            ("/films/a:b", None),
            ("#top", None),
            ("../x", None),
            ("%6Aavascript:x", None),
            ("1http:x", None),
            ("", None),
        ] {
            assert_eq!(scheme(url).as_deref(), expected, "{url:?}");
        }
    }

    #[test]
    fn unsafe_links_become_text_and_unsafe_images_their_alt_text() {
        assert_eq!(to_html("[click](javascript:alert(1))"), "<p>click</p>\n");
        assert_eq!(to_html("![alt](data:image/png;base64,AA)"), "<p>alt</p>\n");
        assert_eq!(to_html("[go](https://example.com/)"), "<p><a href=\"https://example.com/\">go</a></p>\n");
        // A safe image inside an unsafe link keeps the image and loses the link.
        assert_eq!(to_html("[![p](/p.png)](vbscript:x)"), "<p><img src=\"/p.png\" alt=\"p\" /></p>\n");
    }
}
