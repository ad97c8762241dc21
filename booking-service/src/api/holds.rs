//! `POST` and `DELETE /api/showtimes/{id}/holds`: seats held for one visitor while they book.
//!
//! `POST {"seats": [...], "hold_token": "..."}` adds seats to the hold of `hold_token` (a new
//! token when it is left out), all or none; `seats: []` changes nothing and answers the hold as
//! it is (how a reloaded page learns its seats). `DELETE {"hold_token": "...", "seats": [...]}`
//! gives seats back (all of them without `seats`). Both answer the token's hold as it now
//! stands: its seats, when it ends, and how long a hold lasts. The token is only ever sent
//! back to whoever sent it (or, for a new hold, to whoever asked for it), and never logged.
//!
//! In order, as for bookings: the client's rate limit (its own, with a burst for clicking
//! through seats), the body, then the desk.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use cinema::booking::Hold;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;
use warp::{Buf, Filter};

use super::body::read_json;
use super::{json, with_app};
use crate::App;
use crate::api_error::ApiError;
use crate::guard::guard;

/// `POST`: seats to add. Unknown fields are refused, as in a booking.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldRequest {
    seats: Vec<String>,
    #[serde(default)]
    hold_token: Option<String>,
}

/// `DELETE`: seats to give back; all of them without `seats`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseRequest {
    hold_token: String,
    #[serde(default)]
    seats: Option<Vec<String>>,
}

/// A token's hold as a reply shows it.
#[derive(Debug, Serialize)]
struct HoldView<'a> {
    hold_token: &'a str,
    seats: &'a [String],
    /// With milliseconds, in UTC; `null` when the token holds no seat.
    expires_at: Option<String>,
    /// How long the hold has left by the server's clock: a page counts down from this rather
    /// than from `expires_at`, so a wrong clock on the visitor's device does not matter.
    expires_in_ms: Option<i64>,
    /// How long a new hold lasts (`hold_minutes` in `site.toml`).
    hold_ms: i64,
}

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "showtimes" / String / "holds")
        .and(warp::post().or(warp::delete()).unify().and(warp::method()))
        .and(crate::net::peer::remote())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_app(app))
        .then(|id: String, method: Method, remote: Option<SocketAddr>, headers: HeaderMap, body, app: Arc<App>| {
            guard(handle(id, method, remote, headers, body, app))
        })
        .boxed()
}

async fn handle(
    id: String,
    method: Method,
    remote: Option<SocketAddr>,
    headers: HeaderMap,
    body: impl Stream<Item = Result<impl Buf, warp::Error>>,
    app: Arc<App>,
) -> Response {
    let client = remote.map(|peer| app.trusted_proxies.client(peer.ip(), &headers));
    if let Err(wait) = app.limits.holds.check(client, Instant::now()) {
        return ApiError::rate_limited(wait, "seat changes").into_response();
    }
    let now = app.clock.now();
    let action = if method == Method::DELETE { "release" } else { "hold" };
    let answer = if method == Method::DELETE {
        let request: ReleaseRequest = match read_json(&headers, body).await {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        app.desk
            .release(&id, &request.hold_token, request.seats.as_deref(), now)
            .await
            .map(|hold| (request.hold_token, hold))
    } else {
        let request: HoldRequest = match read_json(&headers, body).await {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        app.desk
            .hold(&id, request.hold_token.as_deref(), &request.seats, now)
            .await
            .map(|(token, hold)| (token.as_str().to_string(), hold))
    };
    app.metrics.hold_changed(action, answer.as_ref().err());
    match answer {
        Ok((token, hold)) => json(StatusCode::OK, &view(&token, &hold, now, app.desk.hold_duration())),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn view<'a>(token: &'a str, hold: &'a Hold, now: DateTime<Utc>, hold_for: chrono::Duration) -> HoldView<'a> {
    HoldView {
        hold_token: token,
        seats: &hold.seats,
        expires_at: hold.expires_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        expires_in_ms: hold.expires_at.map(|t| (t - now).num_milliseconds().max(0)),
        hold_ms: hold_for.num_milliseconds(),
    }
}
