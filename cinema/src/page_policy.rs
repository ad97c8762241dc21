//! The site's Content-Security-Policy: one policy, carried in each generated page as
//! `<meta http-equiv="Content-Security-Policy">` (by the generator) and sent as a header (plus
//! `frame-ancestors`) by the booking service when it serves the pages itself.
//!
//! A CDN serves the built pages without the booking service's headers, so the policy has to
//! travel inside the page. It allows exactly what the theme uses:
//! - scripts and style sheets from the site itself, never inline script (the JSON-LD block is
//!   data, `type="application/ld+json"`, which no policy blocks), never `eval`;
//! - `style="--accent: ..."` attributes (film palettes, the seat grid's columns) through
//!   `style-src-attr`, while `<style>` elements stay forbidden;
//! - images from the site only (posters, the favicon; the icons are inline SVG markup);
//! - the trailer player, `https://www.youtube-nocookie.com`, in a frame;
//! - `fetch` to the site itself (and `tiketa-gen serve`'s live-reload stream) plus the booking
//!   API's origin when `booking_api_url` puts it elsewhere;
//! - no plugins, no `<base>`, forms posting only to the site.
//!
//! `frame-ancestors` (who may frame the page) is ignored by browsers in a `<meta>` policy, so it
//! is not here: the booking service sends it as a header, with `X-Frame-Options`, and a CDN
//! in front of the site should too.
//!
//! Where both apply (pages served by `tiketa-booking --site`), a browser enforces both; built
//! here once, they cannot drift apart.

use crate::{SiteSettings, site_url};

/// The YouTube host the trailer modal embeds (`site.js`, JSON-LD `embedUrl`).
pub const TRAILER_ORIGIN: &str = "https://www.youtube-nocookie.com";

/// The policy for every HTML page of the site.
pub fn policy(settings: &SiteSettings) -> String {
    let connect = if settings.booking_api_url.is_empty() {
        "'self'".to_string()
    } else {
        format!("'self' {}", site_url::origin(&settings.booking_api_url))
    };
    [
        "default-src 'self'".to_string(),
        "script-src 'self'".to_string(),
        "style-src 'self'".to_string(),
        "style-src-attr 'unsafe-inline'".to_string(),
        "img-src 'self'".to_string(),
        format!("connect-src {connect}"),
        format!("frame-src {TRAILER_ORIGIN}"),
        "object-src 'none'".to_string(),
        "base-uri 'none'".to_string(),
        "form-action 'self'".to_string(),
    ]
    .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_src_names_the_booking_apis_origin_when_it_is_elsewhere() {
        let mut settings = SiteSettings::default();
        assert!(policy(&settings).contains("connect-src 'self';"));
        settings.booking_api_url = "https://api.tiketa.example:8443/v1".into();
        assert!(policy(&settings).contains("connect-src 'self' https://api.tiketa.example:8443;"));
        // A path is never part of the source: `https://api.example/v1` (no trailing slash) would
        // allow that one URL only, and block every route under it.
        settings.booking_api_url = "https://api.tiketa.example/v1/".into();
        assert!(policy(&settings).contains("connect-src 'self' https://api.tiketa.example;"));
    }
}
