//! Closing connections on which nothing moves while the server waits on the client.
//!
//! A connection is *waiting on the client* when no handler is working on a request (an idle
//! keep-alive socket, a reply the client does not read) or when a handler still waits for the
//! request's body. If no byte moves in either direction for the idle timeout while it waits,
//! the connection is closed. A connection whose handler is working (a booking queued behind
//! others, a slow disk) is never closed for it: the wait is the server's, not the client's.
//!
//! [`Watched`] wraps the socket and notes every read and write that moved bytes; the service
//! ([`super::service`]) notes when handlers start and finish and when bodies end; [`stalled`]
//! completes when the connection has been waiting on the client for too long, or when the
//! connection limits chose it to make room for a new one ([`Activity::evict`]).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, watch};

/// What one connection is doing.
#[derive(Debug)]
pub struct Activity {
    opened: Instant,
    /// When bytes last moved, in milliseconds since `opened`.
    last_moved_ms: AtomicU64,
    /// Handlers working on a request of this connection.
    handlers: AtomicUsize,
    /// Request bodies not yet received in full.
    bodies: AtomicUsize,
    /// Event streams being sent (see [`Activity::stream`]).
    streams: AtomicUsize,
    /// Told when the connection must close to make room for another.
    evicted: Notify,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            opened: Instant::now(),
            last_moved_ms: AtomicU64::new(0),
            handlers: AtomicUsize::new(0),
            bodies: AtomicUsize::new(0),
            streams: AtomicUsize::new(0),
            evicted: Notify::new(),
        })
    }

    /// How long nothing has moved while no handler works, or `None` while one does: what makes
    /// a connection a candidate for eviction when the service is full.
    pub fn idle_for(&self, now: Instant) -> Option<Duration> {
        (self.handlers.load(Ordering::Relaxed) == 0).then(|| now.saturating_duration_since(self.last_moved()))
    }

    /// Asks the connection to close (see [`stalled`]).
    pub fn evict(&self) {
        self.evicted.notify_one();
    }

    fn last_moved(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_moved_ms.load(Ordering::Relaxed))
    }

    fn moved(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_moved_ms.store(ms, Ordering::Relaxed);
    }

    /// A handler starts; it is counted until the returned guard drops.
    pub fn handler(self: &Arc<Self>) -> Working {
        self.handlers.fetch_add(1, Ordering::Relaxed);
        Working { activity: self.clone(), count: Count::Handler }
    }

    /// A request body starts arriving; it is counted until the returned guard drops.
    pub fn body(self: &Arc<Self>) -> Working {
        self.bodies.fetch_add(1, Ordering::Relaxed);
        Working { activity: self.clone(), count: Count::Body }
    }

    /// An event stream starts; it is counted until the returned guard drops. A connection with
    /// an open stream is still waiting on its client (a stream nobody reads must end), but it
    /// is sent a heartbeat every 15 s, so it is closed only after [`STREAM_IDLE`] with nothing
    /// moving, whatever the idle timeout.
    pub fn stream(self: &Arc<Self>) -> Working {
        self.streams.fetch_add(1, Ordering::Relaxed);
        Working { activity: self.clone(), count: Count::Stream }
    }

    fn streaming(&self) -> bool {
        self.streams.load(Ordering::Relaxed) > 0
    }

    fn waiting_on_client(&self) -> bool {
        self.handlers.load(Ordering::Relaxed) == 0 || self.bodies.load(Ordering::Relaxed) > 0
    }

    /// How long after `now` the connection counts as stalled; `None` if it is stalled by then.
    fn time_left(&self, idle: Duration, now: Instant) -> Option<Duration> {
        if !self.waiting_on_client() {
            return Some(idle);
        }
        idle.checked_sub(now.saturating_duration_since(self.last_moved())).filter(|left| !left.is_zero())
    }
}

/// Completes when the connection is evicted, or once it has waited on the client with nothing
/// moving for `idle` (for [`SHUTDOWN_IDLE`] once `stopping` says the service is shutting down: a
/// connection that never sent a request, or sits between two, must not hold the shutdown up,
/// while a request in flight, or a reply still flowing, finishes).
pub async fn stalled(activity: &Activity, idle: Duration, stopping: watch::Receiver<bool>) {
    // `biased` here and below: polled on every wake of the connection (see `server::connection`).
    tokio::select! {
        biased;
        () = idle_too_long(activity, idle, stopping) => {}
        () = activity.evicted.notified() => {}
    }
}

async fn idle_too_long(activity: &Activity, idle: Duration, mut stopping: watch::Receiver<bool>) {
    let mut shutting_down = *stopping.borrow();
    loop {
        let idle = if shutting_down {
            SHUTDOWN_IDLE.min(idle)
        } else if activity.streaming() {
            STREAM_IDLE.max(idle)
        } else {
            idle
        };
        let Some(left) = activity.time_left(idle, Instant::now()) else { return };
        if shutting_down {
            tokio::time::sleep(left).await;
            continue;
        }
        tokio::select! {
            biased;
            () = tokio::time::sleep(left) => {}
            // A dropped sender means the service is going away too.
            changed = stopping.changed() => shutting_down = changed.is_err() || *stopping.borrow(),
        }
    }
}

/// How long nothing may move on a connection with an open event stream: a heartbeat goes every
/// 15 s, so a stream this quiet is one its client stopped reading.
pub const STREAM_IDLE: Duration = Duration::from_secs(45);

/// How long nothing may move on a connection that waits on its client, once shutdown began.
pub const SHUTDOWN_IDLE: Duration = Duration::from_millis(250);

#[derive(Debug)]
enum Count {
    Handler,
    Body,
    Stream,
}

/// A handler or a body in progress; see [`Activity::handler`] and [`Activity::body`].
#[derive(Debug)]
pub struct Working {
    activity: Arc<Activity>,
    count: Count,
}

impl Drop for Working {
    fn drop(&mut self) {
        // The idle clock restarts when the server's part ends, not when it began.
        self.activity.moved();
        match self.count {
            Count::Handler => self.activity.handlers.fetch_sub(1, Ordering::Relaxed),
            Count::Body => self.activity.bodies.fetch_sub(1, Ordering::Relaxed),
            Count::Stream => self.activity.streams.fetch_sub(1, Ordering::Relaxed),
        };
    }
}

/// A socket that notes in its [`Activity`] whenever bytes move.
#[derive(Debug)]
pub struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Self {
        Watched { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.moved();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.moved();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.moved();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_waiting_on_the_client_counts_and_the_clock_restarts_when_the_server_is_done() {
        let idle = Duration::from_secs(10);
        let activity = Activity::new();
        let at = |secs| activity.opened + Duration::from_secs(secs);
        assert_eq!(activity.time_left(idle, at(4)), Some(Duration::from_secs(6)));
        assert_eq!(activity.time_left(idle, at(10)), None, "an idle connection stalls after `idle`");
        let working = activity.handler();
        assert_eq!(activity.time_left(idle, at(60)), Some(idle), "the server's own wait never counts");
        let body = activity.body();
        assert_eq!(activity.time_left(idle, at(60)), None, "a handler waiting for a body waits on the client");
        drop(body);
        assert_eq!(activity.time_left(idle, at(60)), Some(idle));
        drop(working);
        // Dropping the handler noted "now" (the test's start): the clock restarted there.
        let left = activity.time_left(idle, at(4)).unwrap();
        assert!(left > Duration::from_secs(5) && left <= Duration::from_secs(6), "{left:?}");
    }
}
