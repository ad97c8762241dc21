//! Two `tiketa-booking` processes on one database, as behind a load balancer: the SQLite file
//! of a [`Fixture`] shared by two processes, or one PostgreSQL database shared by two instances.

use super::{Fixture, Server};

/// Two instances of the service on the fixture's database.
pub struct Pair {
    pub a: Server,
    pub b: Server,
}

impl Pair {
    /// Starts two instances (each waits for its "listening" line) with `extra` flags. Every
    /// test client connects from 127.0.0.1, so the per-client connection cap is lifted.
    pub fn start(fixture: &Fixture, extra: &[&str]) -> Pair {
        let args = [&["--max-connections-per-client", "0"][..], extra].concat();
        Pair { a: Server::start(fixture, &args), b: Server::start(fixture, &args) }
    }

    /// Two instances on the real clock (see [`Server::start_live`]).
    pub fn start_live(fixture: &Fixture, extra: &[&str]) -> Pair {
        let args = [&["--max-connections-per-client", "0"][..], extra].concat();
        Pair { a: Server::start_live(fixture, &args), b: Server::start_live(fixture, &args) }
    }

    /// Instance `i % 2`: spreads clients over both, as a round-robin balancer would.
    pub fn nth(&self, i: usize) -> &Server {
        if i.is_multiple_of(2) { &self.a } else { &self.b }
    }
}
