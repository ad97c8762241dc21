//! Connections: who gets one, how long it may stay, and what it costs.
//!
//! The service owns its accept loop (see [`crate::server`]) instead of warp's, because warp's
//! keeps every socket for as long as the client likes: a few thousand idle sockets from one
//! client used to exhaust the process's open files and make the service unreachable. Here:
//! - [`file_limit`] raises the soft open-file limit to the hard one at start and says how many
//!   connections the rest of the limit can hold, keeping a reserve for the database and files;
//! - [`limits`] admits a connection only under the per-client cap, and at the total cap only by
//!   closing the connection idle longest;
//! - [`activity`] closes a connection on which nothing moves while the server waits on the
//!   client (an idle keep-alive socket, a stalled body, a reply nobody reads); hyper's header
//!   timeout bounds how long a request's head may take to arrive (slowloris), and [`service`]
//!   gives its body as long again;
//! - [`peer`] hands the client's address to the filters, as warp's own server did, and
//!   [`client_address`] says which client that is behind a trusted reverse proxy.

pub mod activity;
pub mod client_address;
pub mod file_limit;
pub mod limits;
pub mod peer;
pub mod service;

use std::time::Duration;

/// How connections are bounded; built from the command line by [`crate::config::Config`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSettings {
    /// The most connections open at once.
    pub max_connections: usize,
    /// The most connections open at once from one client (an IPv4 address or an IPv6 /64);
    /// 0 means no per-client cap.
    pub max_per_client: usize,
    /// How long a request's head may take to arrive, counted from when the server starts
    /// waiting for it; and how long its body may take after that.
    pub header_timeout: Duration,
    /// How long nothing may move on a connection while the server waits on the client.
    pub idle_timeout: Duration,
}
