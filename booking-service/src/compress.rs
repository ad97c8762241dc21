//! Large API replies (the showtimes list, seat maps, the OpenAPI document) are gzipped for
//! clients that accept it: a seat map shrinks from about 9 KB to about 1 KB.
//!
//! Only JSON replies over [`MIN_SIZE`] to `GET` and `HEAD`, built whole in memory, are
//! compressed, at a fast level (a fraction of a millisecond for a seat map). Replies to other
//! methods are never compressed: they can carry secrets beside text the client chose (a manage
//! token beside a name), which is what compression-oracle attacks such as BREACH need.
//! Every reply that could have been compressed says `Vary: Accept-Encoding`, compressed or not.
//! The static site's files are not handled here: they come precompressed from the generator.

use flate2::Compression;
use flate2::write::GzEncoder;
use http_body_util::BodyExt;
use hyper::body::Body as _;
use std::io::Write;
use warp::http::{HeaderValue, Method, StatusCode, header};
use warp::reply::Response;

use crate::encoding::{Coding, preferred};
use crate::vary;

/// Replies smaller than this gain too little to be worth the work.
pub const MIN_SIZE: u64 = 1024;

/// The reply, gzipped if it qualifies and the client accepts gzip.
pub async fn api_reply(method: &Method, accept_encoding: Option<&str>, res: Response) -> Response {
    if !qualifies(method, &res) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    vary::add(&mut parts.headers, "Accept-Encoding");
    let gzip = !preferred(accept_encoding, &[Coding::Gzip]).is_empty();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            tracing::error!("cannot read a reply to compress it: {e}");
            return crate::api_error::ApiError::internal().into_response();
        }
    };
    if !gzip {
        return Response::from_parts(parts, bytes.into());
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::new(4));
    let compressed = encoder.write_all(&bytes).and_then(|()| encoder.finish());
    match compressed {
        Ok(compressed) => {
            parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(Coding::Gzip.token()));
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, compressed.into())
        }
        // Writing into memory does not fail; if it ever did, the plain reply is still right.
        Err(_) => Response::from_parts(parts, bytes.into()),
    }
}

fn qualifies(method: &Method, res: &Response) -> bool {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    (method == Method::GET || method == Method::HEAD)
        && res.status() == StatusCode::OK
        && is_json
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        // A reply with a validator is a site file: its ETag names one encoding.
        && !res.headers().contains_key(header::ETAG)
        && res.body().size_hint().exact().is_some_and(|len| len > MIN_SIZE)
}
