//! One record per request, made by the accept loop ([`crate::net::service`]) once the reply's
//! head is ready: a line in the access log (target `access`) and the request metrics (see
//! [`crate::metrics`]).
//!
//! The line says the method, the path with every `token` query value replaced by
//! `[redacted]` (the manage page and the calendar file take `?token=`), the route template,
//! the status, the latency in milliseconds, the reply's size when known and the client (as the
//! rate limits see it: behind a trusted proxy, the address it forwarded). Nothing else of the
//! request is logged: never a header (`X-Manage-Token`, `Authorization`), never a body.
//!
//! The latency runs to the reply's head: a file or an event stream still flowing after it is
//! not waited for (a stream may stay open for hours). Silence the log with
//! `RUST_LOG=info,access=off`; `--log-format json` makes it JSON lines.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Body as _;
use warp::http::request::Parts;
use warp::http::{Method, header};
use warp::reply::Response;

use crate::App;
use crate::metrics::Metrics;
use crate::net::client_address::TrustedProxies;

/// What the query value of a token is replaced by.
pub const REDACTED: &str = "[redacted]";

/// What every request is recorded into: shared by all connections.
#[derive(Clone)]
pub struct AccessLog {
    metrics: Arc<Metrics>,
    trusted_proxies: TrustedProxies,
    /// Whether a site is served: a path of no route is then one of its files (or its 404).
    serves_site: bool,
}

impl AccessLog {
    pub fn of(app: &App) -> Self {
        AccessLog {
            metrics: app.metrics.clone(),
            trusted_proxies: app.trusted_proxies.clone(),
            serves_site: app.site.is_some(),
        }
    }

    /// A request arrived from `peer`: what to record once it is answered.
    pub fn begin(&self, request: &Parts, peer: SocketAddr) -> Pending {
        let path = request.uri.path();
        let route = crate::api::template_of(path).unwrap_or(if self.serves_site { "site" } else { "unmatched" });
        // The path is copied only for a log that writes it: with `access=off`, serving a file
        // makes no allocation here.
        let path = tracing::enabled!(target: "access", tracing::Level::INFO).then(|| {
            let path_and_query = request.uri.path_and_query().map_or(path, |p| p.as_str());
            redacted(path_and_query).into_owned()
        });
        Pending {
            metrics: self.metrics.clone(),
            started: Instant::now(),
            method: method_label(&request.method),
            path,
            route,
            client: self.trusted_proxies.client(peer.ip(), &request.headers),
        }
    }
}

/// A request being answered.
pub struct Pending {
    metrics: Arc<Metrics>,
    started: Instant,
    method: &'static str,
    /// `None` when the access log is off.
    path: Option<String>,
    route: &'static str,
    client: IpAddr,
}

impl Pending {
    /// The reply's head is ready: log the request and count it.
    pub fn answered(self, reply: &Response) {
        let latency = self.started.elapsed();
        let status = reply.status().as_u16();
        self.metrics.answered(self.method, self.route, status, latency);
        let Some(path) = self.path else { return };
        let bytes = reply.body().size_hint().exact().or_else(|| {
            reply.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
        });
        tracing::info!(
            target: "access",
            method = %self.method,
            path = %path,
            route = %self.route,
            status,
            latency_ms = milliseconds(latency),
            bytes,
            client = %self.client,
            "request"
        );
    }
}

/// The method as a label: the standard ones by name, any other as `OTHER` (a client may send
/// any token as a method, and labels must stay few).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
    KNOWN.into_iter().find(|known| *known == method.as_str()).unwrap_or("OTHER")
}

/// Milliseconds with three decimals (microseconds).
fn milliseconds(latency: Duration) -> f64 {
    (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `path_and_query` with the value of every query parameter whose name, decoded, contains
/// `token` (any case) replaced by [`REDACTED`]; the rest as sent. The manage route reads only
/// `token=`, but a name spelled `%74oken` or `hold_token` is redacted too: cheaper than
/// proving it harmless.
pub fn redacted(path_and_query: &str) -> Cow<'_, str> {
    let Some((path, query)) = path_and_query.split_once('?') else { return Cow::Borrowed(path_and_query) };
    let pairs: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            if decoded.to_ascii_lowercase().contains("token") && !value.is_empty() {
                Cow::Owned(format!("{name}={REDACTED}"))
            } else {
                Cow::Borrowed(pair)
            }
        })
        .collect();
    if pairs.iter().all(|p| matches!(p, Cow::Borrowed(_))) {
        return Cow::Borrowed(path_and_query);
    }
    Cow::Owned(format!("{path}?{}", pairs.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_values_are_redacted_and_nothing_else_changes() {
        let token = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            redacted(&format!("/api/bookings/TK-2222-2222?token={token}")),
            "/api/bookings/TK-2222-2222?token=[redacted]"
        );
        assert_eq!(
            redacted(&format!("/booking/?ref=TK-2222-2222&token={token}&x=1")),
            "/booking/?ref=TK-2222-2222&token=[redacted]&x=1"
        );
        for spelled in ["%74oken", "TOKEN", "hold_token", "%74%6F%6B%65%6E"] {
            let line = redacted(&format!("/x?{spelled}={token}")).into_owned();
            assert!(!line.contains(token) && line.ends_with(REDACTED), "{spelled}: {line}");
        }
        assert_eq!(redacted("/x?token=a&token=b"), "/x?token=[redacted]&token=[redacted]");
        for unchanged in ["/api/showtimes", "/films/?film=aurora", "/x?token", "/x?token=", "/x?a=token"] {
            assert!(matches!(redacted(unchanged), Cow::Borrowed(p) if p == unchanged), "{unchanged}");
        }
    }

    #[test]
    fn odd_methods_share_one_label() {
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
        assert_eq!(milliseconds(Duration::from_nanos(1_234_567)), 1.235);
    }
}
