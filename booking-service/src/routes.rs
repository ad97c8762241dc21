//! The whole service in one expression: the API's routes, its fallback, the site, then the
//! cross-cutting layers. Read top to bottom, this is the table of contents.
//!
//! Layer order matters: `recover` turns every rejection into a JSON error *before* `cors`, so
//! error replies carry CORS headers too; a second `recover` catches CORS's own refusal; the
//! security headers go on last, on everything.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::HeaderValue;
use warp::reply::Response;

use crate::api;
use crate::recover::to_json;
use crate::{App, security, site};

/// Builds the service's filter. Fails only on a malformed CORS origin.
pub fn routes(app: Arc<App>) -> Result<BoxedFilter<(Response,)>, String> {
    let api = api::health::route(app.clone())
        .or(api::showtimes::route(app.clone()))
        .unify()
        .or(api::seats::route(app.clone()))
        .unify()
        .or(api::book::route(app.clone()))
        .unify()
        .or(api::manage::route(app.clone()))
        .unify()
        .or(api::openapi::route())
        .unify()
        .or(api::fallback::route())
        .unify()
        .boxed();
    let all = match &app.site {
        Some(dir) => api.or(site::route(dir.clone())).unify().boxed(),
        None => api,
    };
    let cors = crate::cors::build(&app.cors_origins)?;
    let site_policy: HeaderValue = security::site_policy(&app.catalog.settings.booking_api_url);
    Ok(all
        .recover(to_json)
        .unify()
        .with(cors)
        .map(warp::Reply::into_response)
        .recover(to_json)
        .unify()
        .map(move |res: Response| security::apply(res, &site_policy))
        .boxed())
}
