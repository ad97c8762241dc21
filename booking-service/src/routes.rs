//! The whole service in one expression: the API's routes, the site, the API's fallback, the
//! site's 404 page, then the cross-cutting layers. Read top to bottom, this is the table of
//! contents.
//!
//! Route order matters: the API's own routes come first; then the site's files, so that files
//! the generator writes under `/api/` (`/api/schedule.json`) are served; then the API's JSON
//! 404/405 for the rest of `/api/`; then the site's `404.html` for everything else.
//!
//! The operator's routes (the [`door`] and `/metrics`) come before all of it and outside CORS:
//! each answers every request for its own paths itself (its `401` included), so none of them
//! ever reaches the CORS layer, no operator reply carries `Access-Control-Allow-Origin`, and no
//! browser origin, the public site's included, is ever allowed to read them.
//!
//! Layer order matters too: `recover` turns every rejection into a JSON error *before* `cors`,
//! so error replies carry CORS headers too; a second `recover` catches CORS's own refusal; the
//! security headers go on every reply; then large API replies are compressed, `Vary: Origin`
//! is added (warp's CORS reflects the caller's origin, so any cached reply depends on it), and
//! last a `HEAD` reply loses its body, keeping the headers `GET` would have sent.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, Method};
use warp::reply::Response;

use crate::api;
use crate::recover::to_json;
use crate::{App, compress, door, head, security, site, vary};

/// Builds the service's filter. Fails only on a malformed CORS origin.
pub fn routes(app: Arc<App>) -> Result<BoxedFilter<(Response,)>, String> {
    let api = api::health::route(app.clone())
        .or(api::showtimes::route(app.clone()))
        .unify()
        .or(api::seats::route(app.clone()))
        .unify()
        .or(api::events::route(app.clone()))
        .unify()
        .or(api::holds::route(app.clone()))
        .unify()
        .or(api::book::route(app.clone()))
        .unify()
        .or(api::manage::route(app.clone()))
        .unify()
        .or(api::calendar::route(app.clone()))
        .unify()
        .or(api::recovery::route(app.clone()))
        .unify()
        .or(api::openapi::route())
        .unify()
        .boxed();
    let all = match &app.site {
        Some(dir) => api
            .or(site::files(dir.clone()))
            .unify()
            .or(api::fallback::route())
            .unify()
            .or(site::not_found(dir.clone()))
            .unify()
            .boxed(),
        None => api.or(api::fallback::route()).unify().boxed(),
    };
    let operator = door::routes(app.clone()).or(crate::metrics::route::route(app.clone())).unify();
    let cors = crate::cors::build(&app.cors_origins)?;
    let site_policy: HeaderValue = security::site_policy(&app.catalog.settings);
    let public = all.recover(to_json).unify().with(cors).map(warp::Reply::into_response).recover(to_json).unify();
    let secured = operator.or(public).unify().map(move |res: Response| security::apply(res, &site_policy));
    Ok(warp::method()
        .and(warp::header::optional::<String>("accept-encoding"))
        .and(secured)
        .then(|method: Method, accept_encoding: Option<String>, res: Response| async move {
            let mut res = compress::api_reply(&method, accept_encoding.as_deref(), res).await;
            vary::add(res.headers_mut(), "Origin");
            head::strip_body(&method, res)
        })
        .boxed())
}
