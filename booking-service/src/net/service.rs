//! The service one connection runs: warp's filter, told who the client is, and counted in the
//! connection's [`Activity`] so that a connection is never closed for idleness while its
//! handler works, but is while a handler waits for a body the client does not send.
//!
//! A request body must also arrive in full within the body timeout (the header timeout's
//! figure), however steadily it trickles: otherwise reading it fails, the handler answers
//! `400`, and a client sending a byte now and then cannot hold a handler forever.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::Sleep;
use warp::http::Request;
use warp::hyper::body::Bytes;
use warp::reply::Response;

use super::activity::{Activity, Working};
use super::peer::ClientAddr;
use crate::access_log::AccessLog;

/// The tower service that `warp::service` makes of the filter (its type cannot be named).
pub trait Warp:
    tower_service::Service<Request<CountedBody>, Response = Response, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + 'static
{
}

impl<S> Warp for S where
    S: tower_service::Service<Request<CountedBody>, Response = Response, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + 'static
{
}

/// warp's filter as a hyper service for one connection.
#[derive(Clone)]
pub struct ConnectionService<W> {
    filter: W,
    client: SocketAddr,
    activity: Arc<Activity>,
    body_timeout: Duration,
    log: AccessLog,
}

impl<W: Warp> ConnectionService<W> {
    pub fn new(filter: W, client: SocketAddr, activity: Arc<Activity>, body_timeout: Duration, log: AccessLog) -> Self {
        ConnectionService { filter, client, activity, body_timeout, log }
    }
}

impl<W: Warp> hyper::service::Service<Request<Incoming>> for ConnectionService<W> {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let working = self.activity.handler();
        let (mut parts, body) = request.into_parts();
        let pending = self.log.begin(&parts, self.client);
        parts.extensions.insert(ClientAddr(self.client));
        // An event stream notes itself in the connection's activity (see `Activity::stream`).
        parts.extensions.insert(self.activity.clone());
        let body = CountedBody::new(body, &self.activity, self.body_timeout);
        let mut filter = self.filter.clone();
        Box::pin(async move {
            let Ok(reply) = tower_service::Service::call(&mut filter, Request::from_parts(parts, body)).await;
            drop(working);
            pending.answered(&reply);
            Ok(reply)
        })
    }
}

/// A request body that stays counted in its connection's activity until it has arrived, and
/// fails if it has not arrived by its deadline.
pub struct CountedBody {
    inner: Incoming,
    /// While the body arrives: its place in the activity, and its deadline.
    arriving: Option<(Working, Pin<Box<Sleep>>)>,
    timeout: Duration,
}

impl CountedBody {
    fn new(inner: Incoming, activity: &Arc<Activity>, timeout: Duration) -> Self {
        let arriving = (!inner.is_end_stream()).then(|| (activity.body(), Box::pin(tokio::time::sleep(timeout))));
        CountedBody { inner, arriving, timeout }
    }
}

/// Reading a request body took longer than its timeout.
#[derive(Debug)]
struct BodyTooSlow(Duration);

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {} s", self.0.as_secs_f64())
    }
}

impl std::error::Error for BodyTooSlow {}

impl Body for CountedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let poll = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(poll, Poll::Ready(None | Some(Err(_)))) || self.inner.is_end_stream() {
            self.arriving = None;
        } else if poll.is_pending()
            && let Some((_, deadline)) = &mut self.arriving
            && deadline.as_mut().poll(cx).is_ready()
        {
            self.arriving = None;
            return Poll::Ready(Some(Err(Box::new(BodyTooSlow(self.timeout)))));
        }
        poll.map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
