//! `/door/`: the door page, its script and its style, built into the binary.
//!
//! Static and the same for everyone: it holds no token and no data, so it needs none to be
//! served. The service answers it whether or not it serves the site, so the page is always
//! same-origin with the door's API. Its headers ([`crate::security::door_page`]) allow the
//! camera here only, and keep it out of caches and search engines. `/door` redirects to
//! `/door/`, where the page's relative links resolve.

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::security;

const INDEX: &str = include_str!("../../door-page/index.html");
const SCRIPT: &str = include_str!("../../door-page/door.js");
const STYLE: &str = include_str!("../../door-page/door.css");

pub fn route() -> BoxedFilter<(Response,)> {
    let index = warp::path!("door").and(warp::path::full()).map(|path: FullPath| {
        if path.as_str().ends_with('/') { file(INDEX, "text/html; charset=utf-8") } else { to_slash() }
    });
    let script = warp::path!("door" / "door.js").map(|| file(SCRIPT, "text/javascript; charset=utf-8"));
    let style = warp::path!("door" / "door.css").map(|| file(STYLE, "text/css; charset=utf-8"));
    crate::head::get_or_head().and(index.or(script).unify().or(style).unify()).boxed()
}

fn file(body: &'static str, content_type: &'static str) -> Response {
    let mut res = Response::new(body.into());
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    security::door_page(res)
}

fn to_slash() -> Response {
    let mut res = Response::new("".into());
    *res.status_mut() = StatusCode::PERMANENT_REDIRECT;
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/door/"));
    res
}
