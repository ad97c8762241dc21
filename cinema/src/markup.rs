//! The one escaper for text put into markup: HTML pages (the generator's template formatter),
//! SVG and XML files (posters, the sitemap) and the HTML part of mail.
//!
//! It escapes `& < > " '` and nothing else: enough for element content and for attribute values
//! in either kind of quotes, in HTML and in XML alike (`&#39;` is understood by both, where
//! `&apos;` is not HTML 4's). Slashes and non-ASCII text are left as they are, so URLs and names
//! stay readable in the markup.

use std::borrow::Cow;

/// `text` with `& < > " '` written as entities; borrowed when there is nothing to escape.
pub fn escape(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find(['&', '<', '>', '"', '\'']) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        match entity(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The entity that stands for `c` in markup, if it needs one.
fn entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_characters_are_escaped_and_nothing_else() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert!(matches!(escape("https://tiketa.example/films/akira/ 東京"), Cow::Borrowed(_)));
        assert_eq!(escape("&amp;"), "&amp;amp;", "text is text, even when it looks escaped");
    }
}
