//! `HEAD` wherever `GET` works: monitors and link checkers use it.
//!
//! Routes accept both methods with [`get_or_head`] and build the same reply; [`strip_body`]
//! then drops the body of a `HEAD` reply as the last step, keeping every header, the length
//! included, so that both methods answer the same status and headers.

use hyper::body::Body as _;
use warp::Filter;
use warp::http::{HeaderValue, Method, header};
use warp::reject::Rejection;
use warp::reply::Response;

/// Matches `GET` and `HEAD`.
pub fn get_or_head() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::get().or(warp::head()).unify()
}

/// For a `HEAD` request: the reply without its body, with the `Content-Length` the body had.
pub fn strip_body(method: &Method, res: Response) -> Response {
    if method != Method::HEAD {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    if !parts.headers.contains_key(header::CONTENT_LENGTH)
        && let Some(len) = body.size_hint().exact()
    {
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    Response::from_parts(parts, warp::hyper::body::Bytes::new().into())
}
