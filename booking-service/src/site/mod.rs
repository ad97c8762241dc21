//! Serving a built site (`--site dist`) from the same process, for single-host and local use.
//!
//! Written here rather than taken from warp's `fs` filters, which follow symlinks out of the
//! folder, take any `If-Range` date not older than the file for a match, send no ETag, and know
//! nothing of precompressed files (tower-http's `ServeDir` serves variants but also follows
//! symlinks anywhere). The steps, each in its own file:
//! - [`locate`]: the URL's file, confined to the site's real folder, resolved per request (the
//!   generator swaps builds by moving a symlink), and its `.br`/`.gz` variant if the client
//!   accepts one;
//! - [`conditional`]: validators, `304`/`412`, and the one byte range to send;
//! - [`cache`]: how long the file may be cached.
//!
//! A directory path serves its `index.html`. A path with no file is left to the routes after
//! this one (the API's JSON 404 under `/api/`), and finally to [`not_found`], the site's
//! `404.html` with status 404. Content types come from the requested file's extension, so a
//! variant is sent with its original's type and `Content-Encoding`.
//!
//! Ranges are served from the original file only: a request with `Range` gets identity bytes
//! (`Vary: Accept-Encoding` still says the reply depends on the header). Offsets into a
//! compressed stream would only be usable with the very same variant, and range requests
//! (resumed downloads, media seeking) are about files that are not precompressed anyway.

pub mod cache;
pub mod conditional;
pub mod locate;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use tokio_util::io::ReaderStream;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reject::Rejection;
use warp::reply::{Reply, Response};

use self::conditional::{Bytes, Precondition, Validators};
use self::locate::{Located, VARIANTS, locate};
use crate::api_error::ApiError;
use crate::encoding::preferred;
use crate::head::get_or_head;
use crate::vary;

/// Files up to this size are read whole and their file closed at once; larger ones are
/// streamed, holding their file open while they are sent.
const READ_WHOLE: u64 = 64 * 1024;
/// The chunk size of streamed files.
const CHUNK: usize = 64 * 1024;

/// The site's files; rejects (404) a path with no file, for the routes after it.
pub fn files(site: PathBuf) -> BoxedFilter<(Response,)> {
    get_or_head()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and_then(move |path: FullPath, headers: HeaderMap| {
            let site = site.clone();
            async move {
                match find(site, path.as_str().to_string(), &headers).await {
                    Ok(Some(located)) => Ok::<_, Rejection>(reply(located, &headers).await),
                    Ok(None) => Err(warp::reject::not_found()),
                    Err(e) => Ok(e.into_response()),
                }
            }
        })
        .boxed()
}

/// The site's `404.html`, with status 404, for every `GET` and `HEAD` that nothing else took.
pub fn not_found(site: PathBuf) -> BoxedFilter<(Response,)> {
    get_or_head()
        .and(warp::header::headers_cloned())
        .and_then(move |headers: HeaderMap| {
            let site = site.clone();
            async move {
                match find(site, "/404.html".to_string(), &headers).await {
                    Ok(Some(located)) => Ok::<_, Rejection>(not_found_page(located).await),
                    Ok(None) => Err(warp::reject::not_found()),
                    Err(e) => Ok(e.into_response()),
                }
            }
        })
        .boxed()
}

/// Locates the file for `url_path` on a blocking thread.
async fn find(site: PathBuf, url_path: String, headers: &HeaderMap) -> Result<Option<Located>, ApiError> {
    // A range is served from the original (see the module's documentation).
    let wanted = if headers.contains_key(header::RANGE) {
        Vec::new()
    } else {
        preferred(headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()), VARIANTS)
    };
    crate::guard::blocking(move || {
        locate(&site, &url_path, &wanted).map_err(|e| {
            tracing::error!("site {}: cannot serve {url_path}: {e}", site.display());
            ApiError::internal()
        })
    })
    .await?
}

/// The reply for a located file: `200`, `206`, `304`, `412` or `416`.
async fn reply(located: Located, request: &HeaderMap) -> Response {
    let validators = Validators::of(&located.meta, located.coding);
    let len = located.meta.len();
    let mut headers = representation_headers(&located);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache::cache_policy(&located.relative)));
    headers.insert(header::LAST_MODIFIED, date(validators.last_modified));
    if let Ok(etag) = HeaderValue::from_str(&validators.etag) {
        headers.insert(header::ETAG, etag);
    }
    match conditional::precondition(request, &validators) {
        Precondition::NotModified => return bodiless(StatusCode::NOT_MODIFIED, headers),
        Precondition::Failed => return bodiless(StatusCode::PRECONDITION_FAILED, headers),
        Precondition::Proceed => {}
    }
    if located.coding.is_some() {
        return send(located.file, StatusCode::OK, headers, 0, len).await;
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    match conditional::bytes(request, &validators, len) {
        Bytes::Whole => send(located.file, StatusCode::OK, headers, 0, len).await,
        Bytes::Part { first, last } => {
            if let Ok(range) = HeaderValue::from_str(&format!("bytes {first}-{last}/{len}")) {
                headers.insert(header::CONTENT_RANGE, range);
            }
            send(located.file, StatusCode::PARTIAL_CONTENT, headers, first, last - first + 1).await
        }
        Bytes::Unsatisfiable => {
            if let Ok(range) = HeaderValue::from_str(&format!("bytes */{len}")) {
                headers.insert(header::CONTENT_RANGE, range);
            }
            headers.remove(header::CONTENT_TYPE);
            let mut res = bodiless(StatusCode::RANGE_NOT_SATISFIABLE, headers);
            res.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(0));
            res
        }
    }
}

/// The site's 404 page: no validators, no ranges, revalidated on every use.
async fn not_found_page(located: Located) -> Response {
    let mut headers = representation_headers(&located);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache::REVALIDATE));
    let len = located.meta.len();
    send(located.file, StatusCode::NOT_FOUND, headers, 0, len).await
}

/// The headers that describe the bytes: their type, their coding, what they vary by.
fn representation_headers(located: &Located) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mime = mime_guess::from_path(&located.relative).first_or_octet_stream();
    if let Ok(content_type) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    if let Some(coding) = located.coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
    }
    if located.has_variants {
        vary::add(&mut headers, "Accept-Encoding");
    }
    headers
}

fn date(time: std::time::SystemTime) -> HeaderValue {
    HeaderValue::from_str(&httpdate::fmt_http_date(time)).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn bodiless(status: StatusCode, headers: HeaderMap) -> Response {
    let mut res = Response::new(warp::hyper::body::Bytes::new().into());
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}

/// `len` bytes of `file` from `start`: read whole if small, streamed otherwise.
async fn send(mut file: File, status: StatusCode, mut headers: HeaderMap, start: u64, len: u64) -> Response {
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = if len <= READ_WHOLE {
        let read = crate::guard::blocking(move || -> std::io::Result<Vec<u8>> {
            let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut bytes)?;
            Ok(bytes)
        })
        .await;
        match read {
            Ok(Ok(bytes)) => warp::hyper::body::Bytes::from(bytes).into(),
            Ok(Err(e)) => {
                // The file changed under us (a rebuild truncated it): a retry will see the new one.
                tracing::warn!("cannot read a site file: {e}");
                return ApiError::internal().into_response();
            }
            Err(e) => return e.into_response(),
        }
    } else {
        let mut file = tokio::fs::File::from_std(file);
        if let Err(e) = tokio::io::AsyncSeekExt::seek(&mut file, SeekFrom::Start(start)).await {
            tracing::warn!("cannot read a site file: {e}");
            return ApiError::internal().into_response();
        }
        let stream = ReaderStream::with_capacity(tokio::io::AsyncReadExt::take(file, len), CHUNK);
        warp::reply::stream(stream).into_response().into_body()
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}
