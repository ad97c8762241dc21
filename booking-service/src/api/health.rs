//! `GET /api/health`: `{"status":"ok"}` when the database answers a query, `503` otherwise, so
//! a load balancer stops sending bookings to an instance that cannot keep them.

use std::sync::Arc;

use cinema::store::BookingStore;
use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{json, read, with_app};
use crate::App;
use crate::api_error::{ApiError, ErrorCode};
use crate::guard::guard;

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "health")
        .and(crate::head::get_or_head())
        .and(with_app(app))
        .then(|app: Arc<App>| guard(handle(app)))
        .boxed()
}

async fn handle(app: Arc<App>) -> Response {
    match read(&app, |app| app.desk.store().check()).await {
        Ok(Ok(())) => json(StatusCode::OK, &json!({"status": "ok"})),
        Ok(Err(e)) => {
            tracing::error!("health check: {e}");
            ApiError::new(ErrorCode::StoreUnavailable, "the database does not answer").into_response()
        }
        Err(e) => e.into_response(),
    }
}
