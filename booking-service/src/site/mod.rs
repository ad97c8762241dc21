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
//! - [`cache`]: how long the file may be cached;
//! - [`held`]: files read once per build and held in memory (bounded), each use checked
//!   against the disk with a `stat` of the site's root and one of the file.
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
//!
//! A site folder that is gone (`dist` deleted, or its symlink pointing at a deleted build)
//! answers `503` in plain text saying so, for every path the site would have served; the API
//! keeps working.

pub mod cache;
pub mod conditional;
pub mod held;
pub mod locate;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::io::ReaderStream;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::hyper::body::Bytes as Body;
use warp::reject::Rejection;
use warp::reply::{Reply, Response};

use self::conditional::{Bytes, Precondition, Validators};
use self::held::{HELD_FILE, Held, HeldFile, Identity, Key, wanted_key};
use self::locate::{Located, VARIANTS, locate};
use crate::api_error::ApiError;
use crate::encoding::{Coding, preferred};
use crate::head::get_or_head;
use crate::vary;

/// Files up to this size that are not held are read whole and their file closed at once;
/// larger ones are streamed, holding their file open while they are sent.
const READ_WHOLE: u64 = 64 * 1024;
/// The chunk size of streamed files.
const CHUNK: usize = 64 * 1024;

/// The site's files; rejects (404) a path with no file, for the routes after it.
pub fn files(site: PathBuf) -> BoxedFilter<(Response,)> {
    let site = Arc::new(Site::new(site));
    get_or_head()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and_then(move |path: FullPath, headers: HeaderMap| {
            let site = site.clone();
            async move {
                match site.find(path.as_str(), &headers).await {
                    Ok(Some(found)) => Ok::<_, Rejection>(reply(found, &headers).await),
                    Ok(None) => Err(warp::reject::not_found()),
                    Err(response) => Ok(response),
                }
            }
        })
        .boxed()
}

/// The site's `404.html`, with status 404, for every `GET` and `HEAD` that nothing else took.
pub fn not_found(site: PathBuf) -> BoxedFilter<(Response,)> {
    let site = Arc::new(Site::new(site));
    get_or_head()
        .and(warp::header::headers_cloned())
        .and_then(move |headers: HeaderMap| {
            let site = site.clone();
            async move {
                match site.find("/404.html", &headers).await {
                    Ok(Some(found)) => Ok::<_, Rejection>(not_found_page(found).await),
                    Ok(None) => Err(warp::reject::not_found()),
                    Err(response) => Ok(response),
                }
            }
        })
        .boxed()
}

/// What a reply says about the file it sends.
#[derive(Debug, Clone)]
pub struct Description {
    /// The requested file's path relative to the site root: its content type and cache policy.
    pub relative: PathBuf,
    /// The variant's coding, or `None` for the original.
    pub coding: Option<Coding>,
    /// Whether the file has variants, so that the reply varies by `Accept-Encoding`.
    pub has_variants: bool,
    pub validators: Validators,
    pub len: u64,
    /// The headers of a whole `200` reply, made once per file read (see [`file_headers`]).
    pub headers: HeaderMap,
}

/// A file to send: its description, and its bytes in memory or on disk.
struct Found {
    description: Arc<Description>,
    source: Source,
}

enum Source {
    Memory(Body),
    Disk(File),
}

/// One site folder, and the files held from it.
struct Site {
    root: PathBuf,
    held: Held,
}

impl Site {
    fn new(root: PathBuf) -> Self {
        Site { root, held: Held::default() }
    }

    /// The file for `url_path`: held if it was read from this build and is unchanged, else
    /// located and read on a blocking thread (and held if small enough). `Ok(None)` when the
    /// site has no such file; `Err` is the reply (the site is gone, or a file cannot be read).
    async fn find(&self, url_path: &str, headers: &HeaderMap) -> Result<Option<Found>, Response> {
        // A range is served from the original (see the module's documentation).
        let wanted = if headers.contains_key(header::RANGE) {
            Vec::new()
        } else {
            preferred(headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()), VARIANTS)
        };
        // The build being served now: `stat` follows the `dist` symlink to it.
        let build = match std::fs::metadata(&self.root) {
            Ok(meta) => Identity::of(&meta),
            Err(e) => return Err(unpublished(&self.root, &e)),
        };
        let key = Key { build, url_path: url_path.to_string(), wanted: wanted_key(&wanted) };
        if let Some(held) = self.held.get(&key) {
            return Ok(Some(Found {
                description: held.description.clone(),
                source: Source::Memory(held.bytes.clone()),
            }));
        }
        let root = self.root.clone();
        let url = url_path.to_string();
        let read = crate::guard::blocking(move || read(&root, &url, &wanted, build)).await;
        match read {
            Ok(Ok(Some((found, held)))) => {
                if let Some(held) = held {
                    self.held.insert(key, held);
                }
                Ok(Some(found))
            }
            Ok(Ok(None)) => Ok(None),
            Ok(Err(e)) => {
                tracing::error!("site {}: cannot serve {url_path}: {e}", self.root.display());
                Err(ApiError::internal().into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Locates the file for `url_path` under `root` and, if it is small enough to hold, reads it
/// whole; it is held only if it was located in build `build` (the root was not swapped between
/// the caller's look and this one).
fn read(
    root: &Path,
    url_path: &str,
    wanted: &[Coding],
    build: Identity,
) -> std::io::Result<Option<(Found, Option<Arc<HeldFile>>)>> {
    let Some(located) = locate(root, url_path, wanted)? else { return Ok(None) };
    let Located { root: real_root, path, mut file, meta, relative, coding, has_variants } = located;
    let validators = Validators::of(&meta, coding);
    let mut description =
        Description { relative, coding, has_variants, validators, len: meta.len(), headers: HeaderMap::new() };
    description.headers = file_headers(&description);
    let description = Arc::new(description);
    if meta.len() > HELD_FILE {
        return Ok(Some((Found { description, source: Source::Disk(file) }, None)));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    if bytes.len() as u64 != meta.len() {
        // Rewritten in place while it was read (not a published build): a retry sees it whole.
        return Err(std::io::Error::other("the file changed while it was read"));
    }
    let bytes = Body::from(bytes);
    let same_build = Identity::at(&real_root) == Some(build);
    let held = same_build.then(|| {
        Arc::new(HeldFile {
            path,
            identity: Identity::of(&meta),
            description: description.clone(),
            bytes: bytes.clone(),
        })
    });
    Ok(Some((Found { description, source: Source::Memory(bytes) }, held)))
}

/// The reply when the site's folder is not there: 503, saying what to do.
fn unpublished(root: &Path, e: &std::io::Error) -> Response {
    tracing::warn!("site {}: cannot read it ({e}); answering 503 until a build is published", root.display());
    let text = format!(
        "The site is not published here at the moment: {} cannot be read ({e}). \
         Build it with `tiketa-gen roll`; the booking API still works.\n",
        root.display()
    );
    let mut res = Response::new(text.into());
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The headers of a file's whole reply: what the bytes are, how long they may be cached,
/// their validators, and whether ranges are served.
fn file_headers(description: &Description) -> HeaderMap {
    let mut headers = representation_headers(description);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache::cache_policy(&description.relative)));
    headers.insert(header::LAST_MODIFIED, date(description.validators.last_modified));
    if let Ok(etag) = HeaderValue::from_str(&description.validators.etag) {
        headers.insert(header::ETAG, etag);
    }
    if description.coding.is_none() {
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    headers
}

/// The reply for a found file: `200`, `206`, `304`, `412` or `416`.
async fn reply(found: Found, request: &HeaderMap) -> Response {
    let Found { description, source } = found;
    let validators = &description.validators;
    let len = description.len;
    let mut headers = description.headers.clone();
    let bodiless_status = match conditional::precondition(request, validators) {
        Precondition::NotModified => Some(StatusCode::NOT_MODIFIED),
        Precondition::Failed => Some(StatusCode::PRECONDITION_FAILED),
        Precondition::Proceed => None,
    };
    if let Some(status) = bodiless_status {
        headers.remove(header::ACCEPT_RANGES); // said of the bytes a 200 or 206 sends
        return bodiless(status, headers);
    }
    if description.coding.is_some() {
        return send(source, StatusCode::OK, headers, 0, len).await;
    }
    match conditional::bytes(request, validators, len) {
        Bytes::Whole => send(source, StatusCode::OK, headers, 0, len).await,
        Bytes::Part { first, last } => {
            if let Ok(range) = HeaderValue::from_str(&format!("bytes {first}-{last}/{len}")) {
                headers.insert(header::CONTENT_RANGE, range);
            }
            send(source, StatusCode::PARTIAL_CONTENT, headers, first, last - first + 1).await
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
async fn not_found_page(found: Found) -> Response {
    let mut headers = found.description.headers.clone();
    for validator_or_range in [header::ETAG, header::LAST_MODIFIED, header::ACCEPT_RANGES] {
        headers.remove(validator_or_range);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache::REVALIDATE));
    send(found.source, StatusCode::NOT_FOUND, headers, 0, found.description.len).await
}

/// The headers that describe the bytes: their type, their coding, what they vary by.
fn representation_headers(description: &Description) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mime = mime_guess::from_path(&description.relative).first_or_octet_stream();
    if let Ok(content_type) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    if let Some(coding) = description.coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
    }
    if description.has_variants {
        vary::add(&mut headers, "Accept-Encoding");
    }
    headers
}

fn date(time: std::time::SystemTime) -> HeaderValue {
    HeaderValue::from_str(&httpdate::fmt_http_date(time)).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn bodiless(status: StatusCode, headers: HeaderMap) -> Response {
    let mut res = Response::new(Body::new().into());
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}

/// `len` bytes of the file from `start`: a slice of the held bytes, or read from disk (whole
/// if small, streamed otherwise).
async fn send(source: Source, status: StatusCode, mut headers: HeaderMap, start: u64, len: u64) -> Response {
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = match source {
        Source::Memory(bytes) => {
            let (start, end) =
                (usize::try_from(start).unwrap_or(usize::MAX), usize::try_from(start + len).unwrap_or(usize::MAX));
            match bytes.get(start..end) {
                Some(_) => bytes.slice(start..end).into(),
                None => return ApiError::internal().into_response(),
            }
        }
        Source::Disk(file) if len <= READ_WHOLE => match read_part(file, start, len).await {
            Ok(bytes) => bytes.into(),
            Err(res) => return res,
        },
        Source::Disk(file) => {
            let mut file = tokio::fs::File::from_std(file);
            if let Err(e) = tokio::io::AsyncSeekExt::seek(&mut file, SeekFrom::Start(start)).await {
                tracing::warn!("cannot read a site file: {e}");
                return ApiError::internal().into_response();
            }
            let stream = ReaderStream::with_capacity(tokio::io::AsyncReadExt::take(file, len), CHUNK);
            warp::reply::stream(stream).into_response().into_body()
        }
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}

/// `len` bytes of `file` from `start`, read on a blocking thread.
async fn read_part(mut file: File, start: u64, len: u64) -> Result<Body, Response> {
    let read = crate::guard::blocking(move || -> std::io::Result<Vec<u8>> {
        let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    })
    .await;
    match read {
        Ok(Ok(bytes)) => Ok(Body::from(bytes)),
        Ok(Err(e)) => {
            // The file changed under us (a rebuild truncated it): a retry will see the new one.
            tracing::warn!("cannot read a site file: {e}");
            Err(ApiError::internal().into_response())
        }
        Err(e) => Err(e.into_response()),
    }
}
