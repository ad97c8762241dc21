//! `GET` and `DELETE /api/bookings/{reference}`: a booking, for whoever holds its manage token
//! (`X-Manage-Token` header or `?token=`). A wrong token is answered exactly like an unknown
//! reference, `404`, and after the same work (see `cinema::booking::decide::owns`), so references cannot
//! be probed by the answer or by its timing. A malformed token is refused before the store, as
//! the desk itself refuses it, with the same `404`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cinema::booking::{BookingError, BookingRecord, ManageToken};
use cinema::box_office::CancelledBy;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use super::{BookingView, json, with_app};
use crate::App;
use crate::api_error::ApiError;
use crate::guard::guard;

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    let base = || warp::path!("api" / "bookings" / String).and(token()).and(with_app(app.clone()));
    let get = base()
        .and(crate::head::get_or_head())
        .then(|reference: String, token: String, app: Arc<App>| guard(show(reference, token, app)));
    let delete = base()
        .and(warp::delete())
        .then(|reference: String, token: String, app: Arc<App>| guard(cancel(reference, token, app)));
    get.or(delete).unify().boxed()
}

/// The token from the header, else from the query string; empty if neither has it.
pub(super) fn token() -> impl Filter<Extract = (String,), Error = std::convert::Infallible> + Clone {
    warp::header::headers_cloned().and(warp::query::raw().or(warp::any().map(String::new)).unify()).map(
        |headers: HeaderMap, query: String| {
            headers
                .get("x-manage-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .or_else(|| query.split('&').find_map(|pair| pair.strip_prefix("token=")).map(str::to_string))
                .unwrap_or_default()
        },
    )
}

async fn show(reference: String, token: String, app: Arc<App>) -> Response {
    let Some(token) = ManageToken::parse(&token) else { return not_found() };
    match app.desk.booking(&reference, token.as_str()).await {
        Ok(b) => json(StatusCode::OK, &BookingView::new(&b, &app.catalog, &token)),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn cancel(reference: String, token: String, app: Arc<App>) -> Response {
    let Some(token) = ManageToken::parse(&token) else { return not_found() };
    let now = app.clock.now();
    match app.desk.cancel(&reference, token.as_str(), now).await.inspect(|_| app.mail_wakeup.notify_one()) {
        Ok(b) => {
            if cancelled_now(&b, now) {
                app.metrics.cancelled(CancelledBy::Booker);
            }
            json(StatusCode::OK, &BookingView::new(&b, &app.catalog, &token))
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Whether this request cancelled the booking, rather than finding it cancelled already (the
/// store answers both alike, and records the moment in whole seconds): for the metrics only.
/// A repeat within the same second as the cancellation counts again.
fn cancelled_now(b: &BookingRecord, now: DateTime<Utc>) -> bool {
    b.cancelled_at.is_some_and(|at| at.timestamp() == now.timestamp())
}

/// What an unknown reference, a wrong token and a malformed one all get.
pub(super) fn not_found() -> Response {
    ApiError::from(BookingError::BookingNotFound).into_response()
}
