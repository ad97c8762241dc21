//! The answer to a write submitted to the SQLite booking writer thread.
//!
//! The writer answers over a one-shot channel once the batch holding the write is committed,
//! so an async caller awaits it without parking a thread and a plain caller (a test, a tool)
//! blocks on it with [`Pending::wait`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::store::StoreError;

/// The answer to a submitted write, awaited (`.await`) or blocked on ([`Pending::wait`]).
#[must_use = "a submitted write's outcome is only known by waiting for it"]
pub struct Pending<T>(PendingInner<T>);

enum PendingInner<T> {
    Waiting(oneshot::Receiver<Result<T, StoreError>>),
    Ready(Option<Result<T, StoreError>>),
}

/// The store side of a [`Pending`]: send the outcome exactly once.
pub struct Reply<T>(oneshot::Sender<Result<T, StoreError>>);

impl<T> Pending<T> {
    /// A pending answer and the handle that answers it.
    pub fn channel() -> (Reply<T>, Pending<T>) {
        let (tx, rx) = oneshot::channel();
        (Reply(tx), Pending(PendingInner::Waiting(rx)))
    }

    /// An answer known at once (a refusal before anything was queued).
    pub fn ready(result: Result<T, StoreError>) -> Self {
        Pending(PendingInner::Ready(Some(result)))
    }

    /// Blocks the calling thread until the answer comes. Not for async code: await instead.
    pub fn wait(self) -> Result<T, StoreError> {
        match self.0 {
            PendingInner::Waiting(rx) => rx.blocking_recv().unwrap_or_else(|_| Err(gone())),
            PendingInner::Ready(r) => r.expect("a Pending is waited on once"),
        }
    }
}

impl<T> Reply<T> {
    pub fn send(self, result: Result<T, StoreError>) {
        // The waiter may have gone (a client that hung up); the write stands regardless.
        let _ = self.0.send(result);
    }
}

fn gone() -> StoreError {
    StoreError::Closed
}

// Nothing inside is ever pinned in place: the value is moved out when ready.
impl<T> Unpin for Pending<T> {}

impl<T> Future for Pending<T> {
    type Output = Result<T, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            PendingInner::Waiting(rx) => Pin::new(rx).poll(cx).map(|r| r.unwrap_or_else(|_| Err(gone()))),
            PendingInner::Ready(r) => Poll::Ready(r.take().expect("polled after completion")),
        }
    }
}
