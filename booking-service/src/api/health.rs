//! `GET /api/health`: `200 {"status":"ok"}` when this instance can take bookings, `503` with
//! the reason otherwise, so a load balancer stops sending bookings to an instance that would
//! refuse them (a full disk, a failed commit, a deleted database file).
//!
//! The store decides ([`cinema::store::Store::check`]) without writing: a load balancer
//! asks every second, and a disk flush per ask would cost bookings under load.

use std::sync::Arc;

use cinema::store::{StoreError, Unavailable};
use serde::Serialize;
use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::{json, with_app};
use crate::App;
use crate::api_error::ErrorCode;
use crate::guard::guard;

/// What an unavailable instance suggests as a wait before asking again.
const RETRY_AFTER_SECS: u64 = 5;

/// `status` and `reason` for monitors; `error` keeps the API's one error shape for clients.
#[derive(Serialize)]
struct UnavailableBody<'a> {
    status: &'static str,
    reason: &'a str,
    error: ErrorBody,
}

#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
    retry_after: u64,
}

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "health")
        .and(crate::head::get_or_head())
        .and(with_app(app))
        .then(|app: Arc<App>| guard(handle(app)))
        .boxed()
}

async fn handle(app: Arc<App>) -> Response {
    match app.desk.store().check().await {
        Ok(()) => json(StatusCode::OK, &json!({"status": "ok"})),
        Err(e) => {
            // The store logged the details (paths, what to do) once, when it found them; a
            // line per health call would flood the log while a load balancer keeps asking.
            tracing::debug!("health: unavailable: {e}");
            let reason = match &e {
                StoreError::Unavailable(reason) => reason.to_string(),
                StoreError::Closed => "this instance is stopping".to_string(),
                StoreError::Busy => "the booking store is busy".to_string(),
                other => {
                    tracing::error!("health: {other}");
                    Unavailable::Unreadable.to_string()
                }
            };
            let body = UnavailableBody {
                status: "unavailable",
                reason: &reason,
                error: ErrorBody {
                    code: ErrorCode::StoreUnavailable.as_str(),
                    message: format!("this instance cannot take bookings now: {reason}"),
                    retry_after: RETRY_AFTER_SECS,
                },
            };
            let mut res = json(StatusCode::SERVICE_UNAVAILABLE, &body);
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            res
        }
    }
}
