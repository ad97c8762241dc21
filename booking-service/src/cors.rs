//! Which browser origins may call the API.
//!
//! By default only the site's own `base_url` (from `content/site.toml`) may, plus this server's
//! loopback origins when it serves the site itself, so `make run` works at both
//! `http://127.0.0.1:8080` and `http://localhost:8080`. `*` is never a default: it has to be
//! asked for with `--cors-origin '*'`. warp's filter refuses a request from any other origin
//! with `403`; [`crate::recover`] turns that into the JSON error shape.

use std::net::SocketAddr;
use std::str::FromStr;

use warp::cors::Cors;
use warp::http::Method;
use warp::http::uri::Authority;

/// The request headers a browser may send cross-origin.
/// `last-event-id`: an event stream's reconnect sends it, and outside the CORS safelist it needs
/// a preflight that must pass.
const ALLOWED_HEADERS: &[&str] = &["content-type", "idempotency-key", "x-manage-token", "last-event-id"];
/// The response headers a page's script may read.
const EXPOSED_HEADERS: &[&str] = &["retry-after", "idempotent-replayed", "location"];

/// The origins to allow: the configured ones, or the defaults described above.
pub fn origins(configured: &[String], base_url: &str, listen: SocketAddr, serves_site: bool) -> Vec<String> {
    if !configured.is_empty() {
        return configured.iter().map(|o| o.trim().trim_end_matches('/').to_string()).collect();
    }
    let mut origins = vec![cinema::site_url::origin(base_url).to_string()];
    if serves_site && listen.ip().is_loopback() {
        let port = listen.port();
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            origins.push(format!("http://{host}:{port}"));
        }
    }
    origins.dedup();
    origins
}

/// Builds the CORS filter, or says which origin is malformed.
pub fn build(origins: &[String]) -> Result<Cors, String> {
    let mut cors = warp::cors()
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::DELETE])
        .allow_headers(ALLOWED_HEADERS.iter().copied())
        .expose_headers(EXPOSED_HEADERS.iter().copied())
        .max_age(600);
    if origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin();
    } else {
        for origin in origins {
            check(origin)?;
        }
        cors = cors.allow_origins(origins.iter().map(String::as_str));
    }
    Ok(cors.build())
}

fn check(origin: &str) -> Result<(), String> {
    let bad =
        || format!("CORS origin {origin:?} is malformed; expected scheme://host[:port] such as https://tiketa.example");
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    let authority_ok = !rest.is_empty() && !rest.contains('/') && Authority::from_str(rest).is_ok();
    if matches!(scheme, "http" | "https") && authority_ok { Ok(()) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_base_url_and_own_loopback_origins_never_star() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(origins(&[], "https://tiketa.example/", listen, false), ["https://tiketa.example"]);
        let with_site = origins(&[], "http://127.0.0.1:8080", listen, true);
        assert!(with_site.contains(&"http://localhost:8080".to_string()));
        assert!(!with_site.iter().any(|o| o == "*"));
        assert_eq!(origins(&["https://a.example/".into()], "x", listen, true), ["https://a.example"]);
    }

    #[test]
    fn malformed_origins_are_refused_with_the_expected_form() {
        assert!(build(&["https://a.example".into(), "http://localhost:3000".into()]).is_ok());
        assert!(build(&["*".into()]).is_ok());
        for bad in ["a.example", "ftp://a.example", "https://", "https://a.example/path"] {
            assert!(build(&[bad.into()]).unwrap_err().contains("scheme://host"), "{bad}");
        }
    }
}
