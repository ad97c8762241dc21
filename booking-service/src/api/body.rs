//! Reading a JSON request body with a size limit that holds for chunked bodies too: a declared
//! `Content-Length` over the limit is refused before reading, and reading stops at the limit.

use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use warp::Buf;
use warp::http::{HeaderMap, header};

use crate::api_error::{ApiError, ErrorCode};

/// The largest request body the API reads.
pub const MAX_BODY: usize = 16 * 1024;

pub async fn read_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: impl Stream<Item = Result<impl Buf, warp::Error>>,
) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    let too_large =
        || ApiError::new(ErrorCode::PayloadTooLarge, format!("the body is larger than {} KiB", MAX_BODY / 1024));
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(256).min(MAX_BODY as u64) as usize);
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let mut chunk =
            chunk.map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("cannot read the body: {e}")))?;
        if bytes.len() + chunk.remaining() > MAX_BODY {
            return Err(too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            bytes.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("the body is not a valid request: {e}")))
}
