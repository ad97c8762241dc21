//! Keeps a panicking handler from taking anything down with it.
//!
//! hyper already confines a panic to its connection's task, but the client would see the
//! connection drop with no reply. Here a panic in a handler (or in the blocking work it started)
//! becomes a JSON `500` on the same connection, is logged, and the next request is served as
//! usual. SQLite work done before the panic stays consistent: transactions roll back on drop.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use warp::reply::Response;

use crate::api_error::ApiError;

/// Runs a handler; a panic in it becomes a `500` reply.
pub async fn guard(handler: impl Future<Output = Response>) -> Response {
    AssertUnwindSafe(handler).catch_unwind().await.unwrap_or_else(|panic| {
        tracing::error!("a handler panicked: {}", panic_message(&*panic));
        ApiError::internal().into_response()
    })
}

/// Runs blocking work (SQLite reads) on tokio's blocking threads, never on the executor's.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        match e.try_into_panic() {
            Ok(panic) => tracing::error!("blocking work panicked: {}", panic_message(&*panic)),
            Err(e) => tracing::error!("blocking work was cancelled: {e}"),
        }
        ApiError::internal()
    })
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_a_json_500() {
        let res = guard(async { panic!("boom") }).await;
        assert_eq!(res.status(), 500);
        let res = guard(async {
            match blocking(|| -> u8 { panic!("boom in a blocking thread") }).await {
                Ok(_) => unreachable!(),
                Err(e) => e.into_response(),
            }
        })
        .await;
        assert_eq!(res.status(), 500);
    }
}
