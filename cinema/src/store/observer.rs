//! What a store tells its owner about its commits, for metrics: the store knows nothing of
//! Prometheus, and the service's metrics know nothing of SQL.

use std::time::Duration;

/// One commit of booking writes (bookings, holds, cancellations, check-ins): how many writes it
/// carried (a group commit carries many) and how long the commit took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commits {
    pub writes: usize,
    pub latency: Duration,
}

/// Told of every commit. Called on the store's own threads: must be quick and never block.
pub trait CommitObserver: Send + Sync {
    fn committed(&self, commit: Commits);
}
