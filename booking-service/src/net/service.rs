//! The service one connection runs: warp's filter, told who the client is, and counted in the
//! connection's [`Activity`] so that a connection is never closed for idleness while its
//! handler works, but is while a handler waits for a body the client does not send.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::body::{Body, Frame, Incoming, SizeHint};
use warp::http::Request;
use warp::hyper::body::Bytes;
use warp::reply::Response;

use super::activity::{Activity, Working};
use super::peer::ClientAddr;

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
}

impl<W: Warp> ConnectionService<W> {
    pub fn new(filter: W, client: SocketAddr, activity: Arc<Activity>) -> Self {
        ConnectionService { filter, client, activity }
    }
}

impl<W: Warp> hyper::service::Service<Request<Incoming>> for ConnectionService<W> {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let working = self.activity.handler();
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(ClientAddr(self.client));
        let body = CountedBody::new(body, &self.activity);
        let mut filter = self.filter.clone();
        Box::pin(async move {
            let reply = tower_service::Service::call(&mut filter, Request::from_parts(parts, body)).await;
            drop(working);
            reply
        })
    }
}

/// A request body that stays counted in its connection's activity until it has arrived.
pub struct CountedBody {
    inner: Incoming,
    arriving: Option<Working>,
}

impl CountedBody {
    fn new(inner: Incoming, activity: &Arc<Activity>) -> Self {
        let arriving = (!inner.is_end_stream()).then(|| activity.body());
        CountedBody { inner, arriving }
    }
}

impl Body for CountedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let poll = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(poll, Poll::Ready(None | Some(Err(_)))) || self.inner.is_end_stream() {
            self.arriving = None;
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
