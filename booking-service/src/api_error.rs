//! The one error shape: `{"error": {"code": "...", "message": "...", ...}}` with the right
//! status, whatever went wrong and wherever (a booking rule, a malformed request, an unknown
//! route, a panic). Clients branch on `code`; `message` is for people. The codes and their
//! statuses are one list, [`ErrorCode`], shared with the domain and the OpenAPI test.

use cinema::booking::BookingError;
pub use cinema::booking::ErrorCode;
use cinema::store::StoreError;
use serde::Serialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

/// An error reply.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The seats the error is about (taken, unknown, duplicated).
    pub seats: Option<Vec<String>>,
    /// Seconds to wait before retrying (429, 503).
    pub retry_after: Option<u64>,
    /// The methods a path does answer (405).
    pub allow: Option<String>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seats: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), seats: None, retry_after: None, allow: None }
    }

    /// The reply's status: the code's own.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).expect("every ErrorCode has a valid HTTP status")
    }

    /// A `429` with `Retry-After`: too many `what` from this client; `wait` until the next one
    /// is allowed, in whole seconds, at least one.
    pub fn rate_limited(wait: std::time::Duration, what: &str) -> Self {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        ApiError {
            retry_after: Some(secs),
            ..Self::new(ErrorCode::RateLimited, format!("too many {what} from this address; try again in {secs} s"))
        }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "there is nothing at this path")
    }

    pub fn method_not_allowed(allow: &str) -> Self {
        ApiError {
            allow: Some(allow.to_string()),
            ..Self::new(ErrorCode::MethodNotAllowed, format!("this path answers {allow} only"))
        }
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "something went wrong on our side; nothing was changed unless a booking reply said so",
        )
    }

    pub fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Envelope {
            error: Body {
                code: self.code,
                message: &self.message,
                seats: self.seats.as_deref(),
                retry_after: self.retry_after,
            },
        })
        .expect("an error body always serialises");
        let mut res = crate::api::json_response(self.status(), body);
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(allow) = self.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
            res.headers_mut().insert(header::ALLOW, allow);
        }
        res
    }
}

impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> Self {
        let message = match &e {
            // The store's own words are for the operator's log, not for clients.
            BookingError::Store(inner) => {
                match inner {
                    StoreError::Busy | StoreError::Closed => tracing::warn!("booking store: {inner}"),
                    _ => tracing::error!("booking store: {inner}"),
                }
                inner.public_message()
            }
            other => other.to_string(),
        };
        let retry_after = match &e {
            BookingError::Store(inner) => Some(inner.retry_after().unwrap_or(5)),
            _ => None,
        };
        ApiError { seats: e.seats().map(<[String]>::to_vec), retry_after, ..ApiError::new(e.code(), message) }
    }
}
