//! Security headers on every reply, API and site, success and error alike.
//!
//! The API never renders HTML, so its policy forbids everything. The site's policy is the one
//! the generated pages carry themselves (see [`site_policy`]). The door page has its own
//! ([`door_page`]): the only page allowed the camera.

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

/// The door page's policy: its own script, style and API only (nothing from elsewhere, no
/// inline code), in no frame.
pub const DOOR_POLICY: &str =
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// The camera for the door page's scanner, from its own origin only; every other page gets
/// `camera=()` from [`apply`].
pub const DOOR_PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=()";

/// The door page's headers (its document, script and style): [`DOOR_POLICY`] and
/// [`DOOR_PERMISSIONS`]; never stored (a shared door tablet keeps no copy, and a new version is
/// used at once); never indexed. [`apply`] then adds the rest and keeps these.
pub fn door_page(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOOR_POLICY));
    h.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(DOOR_PERMISSIONS));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex, nofollow"));
    res
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

    #[test]
    fn the_door_page_alone_may_use_the_camera_and_keeps_its_policy() {
        let site = HeaderValue::from_static("default-src 'self'");
        let page = apply(door_page(Response::new("".into())), &site);
        let h = page.headers();
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], DOOR_POLICY);
        assert_eq!(h["permissions-policy"], DOOR_PERMISSIONS);
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h["x-robots-tag"], "noindex, nofollow");
        let other = apply(Response::new("".into()), &site);
        assert_eq!(other.headers()["permissions-policy"], "camera=(), microphone=(), geolocation=()");
    }
}
