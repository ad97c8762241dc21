//! Every other request under `/api`: `405` with `Allow` for a known path asked with another
//! method, `404` otherwise, both as JSON (never the site's HTML 404 page).

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::reply::Response;

use super::allowed_methods;
use crate::api_error::ApiError;

pub fn route() -> BoxedFilter<(Response,)> {
    warp::path("api")
        .and(warp::path::full())
        .map(|path: FullPath| match allowed_methods(path.as_str()) {
            // Every GET route answers HEAD too (see `crate::head`).
            Some(allow) => ApiError::method_not_allowed(&allow.replace("GET", "GET, HEAD")).into_response(),
            None => ApiError::not_found().into_response(),
        })
        .boxed()
}
