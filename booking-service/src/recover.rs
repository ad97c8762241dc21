//! Turns warp's rejections into the JSON error shape.
//!
//! The API's own routes never reject (their handlers reply with errors themselves, and the API
//! fallback answers every other `/api` path), so what reaches here comes from outside the
//! API: a path no filter knows, a method the site does not answer, or a browser origin that CORS
//! refuses.

use std::convert::Infallible;

use warp::cors::CorsForbidden;
use warp::reject::{MethodNotAllowed, Rejection};
use warp::reply::Response;

use crate::api_error::{ApiError, ErrorCode};

pub async fn to_json(rejection: Rejection) -> Result<Response, Infallible> {
    if let Some(unauthorized) = rejection.find::<crate::operator::Unauthorized>() {
        return Ok(unauthorized.reply());
    }
    let error = if rejection.is_not_found() {
        ApiError::not_found()
    } else if let Some(cors) = rejection.find::<CorsForbidden>() {
        ApiError::new(ErrorCode::CorsForbidden, cors.to_string())
    } else if rejection.find::<MethodNotAllowed>().is_some() {
        ApiError::method_not_allowed("GET, HEAD")
    } else {
        tracing::error!("unhandled rejection: {rejection:?}");
        ApiError::internal()
    };
    Ok(error.into_response())
}
