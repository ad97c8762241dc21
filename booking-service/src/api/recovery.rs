//! `POST /api/bookings/recover {"email": "..."}`: sends an address the manage links of its
//! bookings for coming showtimes again, for a visitor who lost them.
//!
//! The reply must not tell a stranger whether an address has booked, neither by its words nor
//! by its timing: every valid address gets the same `202` with the same body, decided before
//! the store is asked anything. The store's work ([`cinema::booking::Desk::recover`]: fresh
//! tokens, one queued message) runs afterwards in a task of its own, whose outcome only the log
//! sees, and never the address in full.
//!
//! In order: the client's limit (cheapest refusal first), the body, the address (`422` for one
//! that cannot be an address: that says nothing about bookings), the address's limit, then the
//! reply. The address's limit keeps anyone, from any number of clients, from filling one inbox.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use cinema::booking::check_email;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;
use warp::{Buf, Filter};

use super::body::read_json;
use super::{json, with_app};
use crate::App;
use crate::api_error::ApiError;
use crate::guard::guard;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoveryRequest {
    email: String,
}

/// The one reply every valid address gets.
#[derive(Debug, Serialize)]
pub struct RecoveryQueued {
    pub status: &'static str,
    pub message: &'static str,
}

pub const QUEUED: RecoveryQueued = RecoveryQueued {
    status: "queued",
    message: "If that address has bookings for coming showtimes, a message with their links is on its way.",
};

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "bookings" / "recover")
        .and(warp::post())
        .and(crate::net::peer::remote())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_app(app))
        .then(|remote: Option<SocketAddr>, headers: HeaderMap, body, app: Arc<App>| {
            guard(handle(remote, headers, body, app))
        })
        .boxed()
}

async fn handle(
    remote: Option<SocketAddr>,
    headers: HeaderMap,
    body: impl Stream<Item = Result<impl Buf, warp::Error>>,
    app: Arc<App>,
) -> Response {
    let client = remote.map(|peer| app.trusted_proxies.client(peer.ip(), &headers));
    if let Err(wait) = app.recovery_limits.per_client.check(client, Instant::now()) {
        return ApiError::rate_limited(wait, "recovery requests").into_response();
    }
    let request: RecoveryRequest = match read_json(&headers, body).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let email = match check_email(&request.email) {
        Ok(email) => email,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Err(wait) = app.recovery_limits.per_address.check(email.to_ascii_lowercase(), Instant::now()) {
        let limited = ApiError::rate_limited(wait, "recovery requests");
        let message = format!(
            "this address was sent its links a few times already; try again in {} s",
            limited.retry_after.unwrap_or(1)
        );
        return ApiError { message, ..limited }.into_response();
    }
    let now = app.clock.now();
    tokio::spawn(recover(app, email, now));
    json(StatusCode::ACCEPTED, &QUEUED)
}

/// The store's part, after the reply: its outcome is for the log (and this instance's mail
/// sender) only.
async fn recover(app: Arc<App>, email: String, now: DateTime<Utc>) {
    match app.desk.recover(&email, now).await {
        Ok(0) => tracing::debug!(to = %masked(&email), "recovery: no booking to send"),
        Ok(bookings) => {
            tracing::info!(to = %masked(&email), bookings, "recovery mail queued");
            app.mail_wakeup.notify_one();
        }
        Err(e) => tracing::error!(to = %masked(&email), "recovery mail not queued: {e}"),
    }
}

/// An address as the log shows it: the first character of its mailbox and its domain
/// (`a…@example.com`), enough to match a complaint, not to read someone's address.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}…@{domain}", local.chars().next().unwrap_or('?')),
        None => "…".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_address_keeps_its_first_character_and_domain_only() {
        assert_eq!(masked("ana.lima@example.com"), "a…@example.com");
        assert_eq!(masked("x@example.com"), "x…@example.com");
        assert_eq!(masked("nonsense"), "…");
    }
}
