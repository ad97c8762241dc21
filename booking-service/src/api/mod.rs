//! The JSON API under `/api`: one file per route, plus what they share.
//!
//! [`ROUTES`] is the API's table of contents. The fallback uses it to tell an unknown path
//! (`404`) from a known path asked with the wrong method (`405` with `Allow`), a test holds
//! the OpenAPI document to it, and the metrics and the access log name a request by its
//! template ([`template_of`]), so none of them can drift apart.

pub(crate) mod body;
pub mod book;
pub mod calendar;
pub mod events;
pub mod fallback;
pub mod health;
pub mod holds;
pub mod manage;
pub mod openapi;
pub mod recovery;
pub mod seats;
pub mod showtimes;
pub mod showtimes_query;
pub(crate) mod views;

use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

pub use views::{BookingView, ShowtimeView};

/// Every API route: method and path template (`{name}` is one path segment). The operator
/// routes (`/metrics`) are listed too: they are in the OpenAPI document.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/health"),
    ("GET", "/api/showtimes"),
    ("GET", "/api/showtimes/{id}/seats"),
    ("GET", "/api/showtimes/{id}/events"),
    ("POST", "/api/showtimes/{id}/holds"),
    ("DELETE", "/api/showtimes/{id}/holds"),
    ("POST", "/api/showtimes/{id}/bookings"),
    ("GET", "/api/bookings/{reference}"),
    ("DELETE", "/api/bookings/{reference}"),
    ("GET", "/api/bookings/{reference}/calendar.ics"),
    ("POST", "/api/bookings/recover"),
    ("GET", "/api/openapi.json"),
    // The operator's, behind the operator token and outside CORS (see `crate::door`,
    // `crate::metrics`).
    ("GET", "/api/door/showtimes"),
    ("GET", "/api/door/showtimes/{id}/bookings"),
    ("POST", "/api/door/check-in"),
    ("GET", "/metrics"),
];

/// What every route's template begins with (a test holds [`ROUTES`] to it).
const ROUTE_ROOTS: [&str; 2] = ["/api/", "/metrics"];

/// The methods `path` answers, comma-separated, or `None` if no route has this path.
pub fn allowed_methods(path: &str) -> Option<String> {
    let methods: Vec<&str> =
        ROUTES.iter().filter(|(_, template)| fits(template, path)).map(|(method, _)| *method).collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// The template of the route `path` is for, whatever the method: what the metrics and the
/// access log name a request by, so that ids, references and tokens never become labels. A
/// literal segment wins over a `{name}` (`/api/bookings/recover` is not a reference).
pub fn template_of(path: &str) -> Option<&'static str> {
    // The site's pages and assets, most requests when it is served, are told apart at once.
    if !ROUTE_ROOTS.iter().any(|root| path.starts_with(root)) {
        return None;
    }
    ROUTES
        .iter()
        .map(|(_, template)| *template)
        .filter(|template| fits(template, path))
        .min_by_key(|template| template.matches('{').count())
}

/// Whether `path` has the shape of `template`, segment by segment (a trailing `/` aside).
/// It stops at the first segment that differs: every request of the site's files is asked
/// against every route (the access log names its route), and `/assets/...` leaves at `api`.
fn fits(template: &str, path: &str) -> bool {
    let mut segments = path.trim_end_matches('/').split('/');
    let mut parts = template.split('/');
    loop {
        match (parts.next(), segments.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if (p.starts_with('{') && !s.is_empty()) || p == s => {}
            _ => return false,
        }
    }
}

/// A JSON reply that no cache keeps: seat maps and bookings change from one second to the next.
pub fn json_response(status: StatusCode, body: impl Into<warp::hyper::body::Bytes>) -> Response {
    let mut res = Response::new(body.into().into());
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Serialises a value as a JSON reply.
pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    json_response(status, serde_json::to_vec(value).expect("API views always serialise"))
}

/// Hands the app to a handler.
pub fn with_app(
    app: std::sync::Arc<crate::App>,
) -> impl warp::Filter<Extract = (std::sync::Arc<crate::App>,), Error = std::convert::Infallible> + Clone {
    use warp::Filter;
    warp::any().map(move || app.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_methods_match_templates_segment_by_segment() {
        assert_eq!(allowed_methods("/api/bookings/TK-2222-2222").as_deref(), Some("GET, DELETE"));
        assert_eq!(allowed_methods("/api/showtimes/x/seats").as_deref(), Some("GET"));
        assert_eq!(allowed_methods("/api/health/").as_deref(), Some("GET"));
        assert_eq!(allowed_methods("/api/showtimes/x/nope"), None);
        assert_eq!(allowed_methods("/api/showtimes//seats"), None);
        assert_eq!(allowed_methods("/api"), None);
        assert_eq!(allowed_methods("/api/health/extra"), None, "a path longer than every route");
    }

    #[test]
    fn every_route_begins_with_a_route_root() {
        for (_, template) in ROUTES {
            assert!(
                ROUTE_ROOTS.iter().any(|root| template.starts_with(root)),
                "{template}: add its root to ROUTE_ROOTS"
            );
        }
    }

    #[test]
    fn a_path_is_named_by_its_template_and_literals_win() {
        assert_eq!(template_of("/api/showtimes/aurora-20300110-1000/seats"), Some("/api/showtimes/{id}/seats"));
        assert_eq!(template_of("/api/bookings/TK-2222-2222"), Some("/api/bookings/{reference}"));
        assert_eq!(template_of("/api/bookings/recover"), Some("/api/bookings/recover"));
        assert_eq!(template_of("/metrics"), Some("/metrics"));
        assert_eq!(template_of("/api/schedule.json"), None);
        assert_eq!(template_of("/films/aurora/"), None);
    }
}
