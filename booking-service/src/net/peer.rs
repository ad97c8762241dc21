//! The client's address, for the filters that need it (the booking rate limit).
//!
//! warp's own server puts the address where `warp::addr::remote()` finds it, but warp offers no
//! public way to do the same from an accept loop of one's own; its maintainers' advice is a
//! request extension read back with `warp::ext`. [`remote`] reads that extension and falls back
//! to `warp::addr::remote()`, so warp's test harness (`.remote_addr(..)`) keeps working.

use std::convert::Infallible;
use std::net::SocketAddr;

use warp::Filter;

/// The address of the client that sent a request, put into its extensions by the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The client's address, if the transport has one.
pub fn remote() -> impl Filter<Extract = (Option<SocketAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<ClientAddr>()
        .and(warp::addr::remote())
        .map(|ours: Option<ClientAddr>, warps: Option<SocketAddr>| ours.map(|ClientAddr(a)| a).or(warps))
}
