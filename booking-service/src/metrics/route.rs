//! `GET /metrics`: every metric in the Prometheus text format, for the operator's token only.
//!
//! An operator route: it sits outside the CORS layer (see [`crate::routes`]), and once the path
//! is `/metrics` every refusal is answered here (`401` without the token, `405` for another
//! method), so a request never falls through to the site's 404 page.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::App;
use crate::api::with_app;
use crate::guard::guard;
use crate::recover::to_json;

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    let scrape = crate::operator::authorized(app.clone())
        .and(crate::head::get_or_head())
        .and(with_app(app))
        .then(|app: Arc<App>| guard(scrape(app)))
        .recover(to_json)
        .unify();
    warp::path!("metrics").and(scrape).boxed()
}

async fn scrape(app: Arc<App>) -> Response {
    // One count of the outbox per scrape; a store that cannot count now leaves the gauges as
    // they were rather than failing the scrape.
    let outbox = match app.desk.store().outbox_counts().await {
        Ok(counts) => Some((counts.pending, counts.failing)),
        Err(e) => {
            tracing::debug!("metrics: cannot count the outbox: {e}");
            None
        }
    };
    let text = app.metrics.render(app.events.streams(), outbox);
    let mut res = Response::new(text.into());
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(prometheus::TEXT_FORMAT));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
