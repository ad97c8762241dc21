//! `POST /api/showtimes/{id}/bookings`: book seats, all or none.
//!
//! In order: the client's rate limit (cheapest refusal first), the body (type, size, JSON),
//! then the desk. A `201` carries the reference and the manage token; a retry with the same
//! `Idempotency-Key` gets the same `201` again, marked `Idempotent-Replayed: true`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use cinema::booking::BookingRequest;
use futures_util::Stream;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Buf, Filter};

use super::body::read_json;
use super::{BookingView, json, with_app};
use crate::App;
use crate::api_error::ApiError;
use crate::guard::guard;

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "showtimes" / String / "bookings")
        .and(warp::post())
        .and(crate::net::peer::remote())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_app(app))
        .then(|id: String, remote: Option<SocketAddr>, headers: HeaderMap, body, app: Arc<App>| {
            guard(handle(id, remote, headers, body, app))
        })
        .boxed()
}

async fn handle(
    id: String,
    remote: Option<SocketAddr>,
    headers: HeaderMap,
    body: impl Stream<Item = Result<impl Buf, warp::Error>>,
    app: Arc<App>,
) -> Response {
    let client = remote.map(|peer| app.trusted_proxies.client(peer.ip(), &headers));
    if let Err(wait) = app.limits.bookings.check(client, Instant::now()) {
        return ApiError::rate_limited(wait, "bookings").into_response();
    }
    let request: BookingRequest = match read_json(&headers, body).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(_)) => return ApiError::from(cinema::booking::BookingError::InvalidIdempotencyKey).into_response(),
    };
    match app.desk.book(&id, &request, key, app.clock.now()).await {
        Ok(c) => {
            app.mail_wakeup.notify_one();
            if !c.replayed {
                app.metrics.booked(c.booking.seats.len());
            }
            let view = BookingView::new(&c.booking, &app.catalog, &c.token).showing_token();
            let mut res = json(StatusCode::CREATED, &view);
            let h = res.headers_mut();
            if let Ok(location) = HeaderValue::from_str(&format!("/api/bookings/{}", c.booking.reference)) {
                h.insert(header::LOCATION, location);
            }
            if c.replayed {
                h.insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            res
        }
        Err(e) => {
            app.metrics.booking_refused(&e);
            ApiError::from(e).into_response()
        }
    }
}
