//! Security headers on every reply, API and site, success and error alike.
//!
//! The API never renders HTML, so its policy forbids everything. The site's policy allows what
//! the theme uses: its own scripts and styles, inline styles (film palettes), YouTube's
//! no-cookie player in a frame, and calls to the booking API.

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

/// The site's Content-Security-Policy; `api_origin` is the booking API's origin when it is not
/// this one.
pub fn site_policy(api_origin: &str) -> HeaderValue {
    let connect = if api_origin.is_empty() { "'self'".to_string() } else { format!("'self' {api_origin}") };
    HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https://i.ytimg.com; \
         frame-src https://www.youtube-nocookie.com; connect-src {connect}; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"))
}

fn set(h: &mut HeaderMap, name: HeaderName, value: &'static str) {
    h.entry(name).or_insert(HeaderValue::from_static(value));
}
