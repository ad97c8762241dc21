//! `GET` and `DELETE /api/bookings/{reference}`: a booking, for whoever holds its manage token
//! (`X-Manage-Token` header or `?token=`). A wrong token is answered exactly like an unknown
//! reference, `404`, and after the same work (see `cinema::booking::decide::owns`), so references cannot
//! be probed by the answer or by its timing.

use std::sync::Arc;

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
fn token() -> impl Filter<Extract = (String,), Error = std::convert::Infallible> + Clone {
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
    match app.desk.booking(&reference, &token).await {
        Ok(b) => json(StatusCode::OK, &BookingView::new(&b, &app.catalog, None)),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn cancel(reference: String, token: String, app: Arc<App>) -> Response {
    match app.desk.cancel(&reference, &token, app.clock.now()).await.inspect(|_| app.mail_wakeup.notify_one()) {
        Ok(b) => json(StatusCode::OK, &BookingView::new(&b, &app.catalog, None)),
        Err(e) => ApiError::from(e).into_response(),
    }
}
