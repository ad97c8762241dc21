//! Validators, conditional requests and byte ranges for the site's files (RFC 9110 §13, §14).
//!
//! Each file (and each precompressed variant, which is a file of its own) has a strong ETag
//! made of its length and modification time, and a `Last-Modified` date. The generator keeps
//! unchanged files' bytes and times across builds, so validators survive a rebuild.
//!
//! Ranges: one range per request is served (`206`); several, or a malformed header, get the
//! whole file (`200`), as the RFC allows. `If-Range` must match exactly: the same strong ETag,
//! or the same date as `Last-Modified`; otherwise the whole file is sent.

use std::fs::Metadata;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use headers::{ETag, HeaderMapExt, IfModifiedSince, IfNoneMatch, IfUnmodifiedSince};
use warp::http::{HeaderMap, header};

use crate::encoding::Coding;

/// A file's validators.
#[derive(Debug, Clone)]
pub struct Validators {
    /// Quoted, strong: `"1f4-18a2b3c4d5e6f7a8"`, plus `-br` or `-gz` for a variant.
    pub etag: String,
    /// Whole seconds, as HTTP dates carry.
    pub last_modified: SystemTime,
}

impl Validators {
    pub fn of(meta: &Metadata, coding: Option<Coding>) -> Self {
        let modified = meta.modified().unwrap_or(UNIX_EPOCH);
        let since_epoch = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        let suffix = match coding {
            Some(Coding::Brotli) => "-br",
            Some(Coding::Gzip) => "-gz",
            None => "",
        };
        Validators {
            etag: format!("\"{:x}-{:x}{suffix}\"", meta.len(), since_epoch.as_nanos()),
            last_modified: UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs()),
        }
    }
}

/// What the request's preconditions say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    Proceed,
    /// `304`: the client's copy is current.
    NotModified,
    /// `412`: `If-Unmodified-Since` failed.
    Failed,
}

/// Evaluates `If-Unmodified-Since`, then `If-None-Match`, or `If-Modified-Since` without it.
pub fn precondition(headers: &HeaderMap, v: &Validators) -> Precondition {
    if let Some(since) = headers.typed_get::<IfUnmodifiedSince>()
        && !since.precondition_passes(v.last_modified)
    {
        return Precondition::Failed;
    }
    if let Some(none_match) = headers.typed_get::<IfNoneMatch>() {
        let etag: Option<ETag> = v.etag.parse().ok();
        return match etag {
            Some(etag) if !none_match.precondition_passes(&etag) => Precondition::NotModified,
            _ => Precondition::Proceed,
        };
    }
    match headers.typed_get::<IfModifiedSince>() {
        Some(since) if !since.is_modified(v.last_modified) => Precondition::NotModified,
        _ => Precondition::Proceed,
    }
}

/// Which bytes to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bytes {
    /// `200`, the whole file.
    Whole,
    /// `206`, from the first to the last byte, both included.
    Part { first: u64, last: u64 },
    /// `416`.
    Unsatisfiable,
}

/// The bytes the request asks for, out of `len`.
pub fn bytes(headers: &HeaderMap, v: &Validators, len: u64) -> Bytes {
    let Some(range) = headers.get(header::RANGE).and_then(|r| r.to_str().ok()) else { return Bytes::Whole };
    if let Some(if_range) = headers.get(header::IF_RANGE)
        && !if_range.to_str().is_ok_and(|value| if_range_matches(value.trim(), v))
    {
        return Bytes::Whole;
    }
    parse_range(range, len)
}

/// `If-Range`: a strong ETag equal to ours, or an HTTP date equal to `Last-Modified`.
fn if_range_matches(value: &str, v: &Validators) -> bool {
    if value.starts_with("W/") {
        return false; // a weak validator never matches (RFC 9110 §13.1.5)
    }
    if value.starts_with('"') {
        return value == v.etag;
    }
    httpdate::parse_http_date(value).is_ok_and(|date| date == v.last_modified)
}

/// One `bytes=` range of `len` bytes (RFC 9110 §14.1.2); several ranges or a malformed header
/// mean the whole file.
fn parse_range(header: &str, len: u64) -> Bytes {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return Bytes::Whole };
    if spec.contains(',') {
        return Bytes::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Bytes::Whole };
    let number = |s: &str| if s.bytes().all(|b| b.is_ascii_digit()) { s.parse::<u64>().ok() } else { None };
    match (first, last) {
        ("", suffix) => match number(suffix) {
            None => Bytes::Whole,
            Some(0) => Bytes::Unsatisfiable,
            Some(_) if len == 0 => Bytes::Unsatisfiable,
            Some(n) => Bytes::Part { first: len.saturating_sub(n), last: len - 1 },
        },
        (first, "") => match number(first) {
            None => Bytes::Whole,
            Some(f) if f >= len => Bytes::Unsatisfiable,
            Some(f) => Bytes::Part { first: f, last: len - 1 },
        },
        (first, last) => match (number(first), number(last)) {
            (Some(f), Some(l)) if f <= l => {
                if f >= len {
                    Bytes::Unsatisfiable
                } else {
                    Bytes::Part { first: f, last: l.min(len - 1) }
                }
            }
            _ => Bytes::Whole,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_rfc() {
        assert_eq!(parse_range("bytes=0-9", 100), Bytes::Part { first: 0, last: 9 });
        assert_eq!(parse_range("bytes=90-200", 100), Bytes::Part { first: 90, last: 99 }, "the end is clamped");
        assert_eq!(parse_range("bytes=50-", 100), Bytes::Part { first: 50, last: 99 });
        assert_eq!(parse_range("bytes=-10", 100), Bytes::Part { first: 90, last: 99 });
        assert_eq!(parse_range("bytes=-500", 100), Bytes::Part { first: 0, last: 99 }, "a long suffix is all");
        assert_eq!(parse_range("bytes=100-", 100), Bytes::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Bytes::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Bytes::Unsatisfiable);
        for whole in ["bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=a-b", "bytes=+1-2", "bytes=1"] {
            assert_eq!(parse_range(whole, 100), Bytes::Whole, "{whole}");
        }
    }

    #[test]
    fn if_range_needs_an_exact_strong_match() {
        let v = Validators { etag: "\"a-1\"".into(), last_modified: UNIX_EPOCH + Duration::from_secs(1_700_000_000) };
        assert!(if_range_matches("\"a-1\"", &v));
        assert!(!if_range_matches("W/\"a-1\"", &v));
        assert!(!if_range_matches("\"a-2\"", &v));
        assert!(if_range_matches(&httpdate::fmt_http_date(v.last_modified), &v));
        let later = httpdate::fmt_http_date(v.last_modified + Duration::from_secs(60));
        assert!(!if_range_matches(&later, &v), "a later date is not the same date");
    }
}
