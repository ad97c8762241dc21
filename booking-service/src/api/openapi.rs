//! `GET /api/openapi.json`: the API described in OpenAPI 3. The document is written by hand
//! (`openapi.json` next to the crate's manifest) and a test keeps it true to [`super::ROUTES`].

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::json_response;

pub const DOCUMENT: &str = include_str!("../../openapi.json");

pub fn route() -> BoxedFilter<(Response,)> {
    warp::path!("api" / "openapi.json")
        .and(crate::head::get_or_head())
        .map(|| {
            let mut res = json_response(StatusCode::OK, DOCUMENT);
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            res
        })
        .boxed()
}
