//! Content codings: what a client's `Accept-Encoding` accepts, and in what order of preference.
//!
//! Used by the static site (which picks a precompressed `.br` or `.gz` file) and by the API
//! (which gzips large replies). A coding is acceptable when the header names it, or `*`, with
//! a q-value above 0; `q=0` refuses it. No header means the client takes anything, but servers
//! conventionally send identity then (RFC 9110 §12.5.3), and so do we.

/// A content coding the service can send: the generator's precompressed variants share it.
pub use cinema::precompressed::Coding;

/// The codings `accept_encoding` accepts among `offered`, best first: higher q-value first,
/// and in `offered` order when equal.
pub fn preferred(accept_encoding: Option<&str>, offered: &[Coding]) -> Vec<Coding> {
    let Some(header) = accept_encoding else { return Vec::new() };
    let mut ranked: Vec<(u16, usize, Coding)> = offered
        .iter()
        .enumerate()
        .filter_map(|(i, &coding)| quality(header, coding.token()).filter(|&q| q > 0).map(|q| (q, i, coding)))
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, coding)| coding).collect()
}

/// The q-value (in thousandths) `header` gives `token`: its own entry, else `*`'s, else none.
fn quality(header: &str, token: &str) -> Option<u16> {
    let mut wildcard = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .map_or(Some(1000), parse_q);
        let Some(q) = q else { continue }; // a malformed q-value: ignore the entry
        if name.eq_ignore_ascii_case(token) || (token == "gzip" && name.eq_ignore_ascii_case("x-gzip")) {
            return Some(q);
        }
        if name == "*" {
            wildcard = Some(q);
        }
    }
    wildcard
}

/// `0`, `0.5`, `1.000` -> thousandths; anything else is malformed.
fn parse_q(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Coding::{Brotli, Gzip};

    const BOTH: &[Coding] = &[Brotli, Gzip];

    #[test]
    fn browsers_get_brotli_first_and_q_zero_refuses() {
        assert_eq!(preferred(Some("gzip, deflate, br, zstd"), BOTH), [Brotli, Gzip]);
        assert_eq!(preferred(Some("gzip"), BOTH), [Gzip]);
        assert_eq!(preferred(Some("br;q=0, gzip"), BOTH), [Gzip]);
        assert_eq!(preferred(Some("gzip;q=0.0, br;q=0"), BOTH), Vec::<Coding>::new());
        assert_eq!(preferred(Some("br;q=0.5, gzip;q=0.8"), BOTH), [Gzip, Brotli], "higher q first");
        assert_eq!(preferred(Some("*"), BOTH), [Brotli, Gzip]);
        assert_eq!(preferred(Some("*;q=0, gzip"), BOTH), [Gzip], "the named entry beats the wildcard");
        assert_eq!(preferred(Some("identity"), BOTH), Vec::<Coding>::new());
        assert_eq!(preferred(Some(""), BOTH), Vec::<Coding>::new());
        assert_eq!(preferred(None, BOTH), Vec::<Coding>::new(), "no header: identity");
        assert_eq!(preferred(Some("GZIP;Q=1"), BOTH), [Gzip], "tokens are case-insensitive");
        assert_eq!(preferred(Some("gzip;q=2, br;q=abc"), BOTH), Vec::<Coding>::new(), "malformed q-values are ignored");
    }
}
