//! The store's commits as histograms: how many writes each carried (how well the writer groups
//! a burst of bookings) and how long each took (the disk, or the database server).

use cinema::store::observer::{CommitObserver, Commits};
use prometheus::Histogram;

/// Told of every commit by the store (see [`cinema::store::Store::observe_commits`]); called on
/// the store's own threads, and only adds to two histograms, which never block.
pub struct CommitMetrics {
    writes: Histogram,
    latency: Histogram,
}

impl CommitMetrics {
    pub(super) fn new(writes: Histogram, latency: Histogram) -> Self {
        CommitMetrics { writes, latency }
    }
}

impl CommitObserver for CommitMetrics {
    fn committed(&self, commit: Commits) {
        self.writes.observe(commit.writes as f64);
        self.latency.observe(commit.latency.as_secs_f64());
    }
}
