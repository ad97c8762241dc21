//! Security headers on every reply, API and site, success and error alike.
//!
//! The API never renders HTML, so its policy forbids everything. The site's policy is the one
//! the generated pages carry themselves (see [`site_policy`]).

use warp::http::{HeaderMap, HeaderName, HeaderValue, header};
use warp::reply::Response;

const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the headers a reply does not already set.
pub fn apply(mut res: Response, site_policy: &HeaderValue) -> Response {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = res.headers_mut();
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(h, HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()");
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if is_html { site_policy.clone() } else { HeaderValue::from_static(API_POLICY) };
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    res
}

/// The site's Content-Security-Policy: the policy every generated page carries in its `<meta>`
/// ([`cinema::page_policy`], one builder for both), plus `frame-ancestors`, which browsers honour
/// only in a header.
pub fn site_policy(settings: &cinema::SiteSettings) -> HeaderValue {
    let policy = format!("{}; frame-ancestors 'none'", cinema::page_policy::policy(settings));
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"))
}

fn set(h: &mut HeaderMap, name: HeaderName, value: &'static str) {
    h.entry(name).or_insert(HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_header_is_the_pages_own_policy_plus_frame_ancestors() {
        let settings =
            cinema::SiteSettings { booking_api_url: "https://api.tiketa.example/v1/".into(), ..Default::default() };
        let header = site_policy(&settings);
        let header = header.to_str().unwrap();
        assert_eq!(header, format!("{}; frame-ancestors 'none'", cinema::page_policy::policy(&settings)));
        assert!(header.contains("connect-src 'self' https://api.tiketa.example;"), "{header}");
    }
}
