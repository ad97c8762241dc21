//! The site's own URLs (`base_url`, `booking_api_url`): absolute http(s) URLs, checked once.
//!
//! They end up in canonical links, the sitemap, JSON-LD and the pages' Content-Security-Policy,
//! so a value that would need escaping in any of those (a quote, a space, a `;`) or that means
//! something else than "where the site is" (a query, a fragment, a user name) is refused here,
//! with what to write instead, rather than escaped differently in four places.

/// Checks an absolute `http://` or `https://` URL with a host, an optional port and path, and
/// no user, query or fragment. Returns it without a trailing slash.
pub fn check(text: &str) -> Result<String, String> {
    let example = "expected an absolute http(s) URL such as \"https://tiketa.example\"";
    let lower = text.to_ascii_lowercase();
    let Some(rest) = ["http://", "https://"].iter().find_map(|s| lower.starts_with(s).then(|| &text[s.len()..])) else {
        return Err(format!("{text:?} is not an http or https URL; {example}"));
    };
    if let Some(c) = text.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "{text:?} holds the character {c:?}; {example}, with spaces and non-ASCII characters percent-encoded"
        ));
    }
    let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(format!("{text:?} names a user; {example}, without a user or password"));
    }
    check_host(authority).map_err(|why| format!("{text:?} has {why}; {example}"))?;
    if path.contains('?') {
        return Err(format!("{text:?} has a query (`?...`); {example}, without a query"));
    }
    if path.contains('#') {
        return Err(format!("{text:?} has a fragment (`#...`); {example}, without a fragment"));
    }
    if let Some(c) =
        path.chars().find(|c| matches!(c, '"' | '\'' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' | ';' | ','))
    {
        return Err(format!("{text:?} holds the character {c:?}; {example}, with such characters percent-encoded"));
    }
    Ok(text.trim_end_matches('/').to_string())
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn check_host(authority: &str) -> Result<(), String> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6.split_once(']').ok_or("an unclosed `[` in its host")?;
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!("no valid IPv6 host ({addr:?})"));
            }
            (None, after.strip_prefix(':').map(Some).unwrap_or(if after.is_empty() { None } else { Some(after) }))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(authority), None),
        },
    };
    if let Some(host) = host {
        let label_ok =
            |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !l.starts_with('-');
        if host.is_empty() || !host.trim_end_matches('.').split('.').all(label_ok) {
            return Err(format!("no valid host ({host:?})"));
        }
    }
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("no valid port ({port:?}); expected a number from 1 to 65535"));
    }
    Ok(())
}

/// The origin of a URL accepted by [`check`]: `https://host:port`, without the path.
pub fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_urls_pass_without_their_trailing_slash() {
        for (url, expected) in [
            ("https://tiketa.example", "https://tiketa.example"),
            ("http://127.0.0.1:9090/", "http://127.0.0.1:9090"),
            ("HTTPS://Tiketa.Example/cinema/", "HTTPS://Tiketa.Example/cinema"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("https://xn--bcher-kva.example/a%20b", "https://xn--bcher-kva.example/a%20b"),
        ] {
            assert_eq!(check(url).as_deref(), Ok(expected), "{url}");
        }
    }

    #[test]
    fn bad_urls_are_refused_saying_why() {
        for (url, why) in [
            ("ftp://tiketa.example", "not an http or https URL"),
            ("tiketa.example", "not an http or https URL"),
            ("https://", "no valid host"),
            ("https://tiketa example", "character ' '"),
            ("https://user:pw@tiketa.example", "names a user"),
            ("https://tiketa.example/?a=b", "query"),
            ("https://tiketa.example#top", "fragment"),
            ("https://tiketa.example:0", "port"),
            ("https://tiketa.example:99999", "port"),
            ("https://tiketa.example/a\"b", "character '\"'"),
            ("https://tiketa.example/a;script-src", "character ';'"),
            ("https://bücher.example", "character 'ü'"),
            ("https://-x.example", "host"),
            ("http://[::1", "unclosed"),
        ] {
            let err = check(url).unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn the_origin_drops_the_path() {
        assert_eq!(origin("https://api.tiketa.example:8443/v1"), "https://api.tiketa.example:8443");
        assert_eq!(origin("http://[::1]:8080"), "http://[::1]:8080");
    }
}
