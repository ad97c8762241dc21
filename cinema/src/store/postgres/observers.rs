//! Who hears of this store's commits of booking writes (see [`crate::store::CommitObserver`]).
//!
//! Kept by the store, shared with its group-commit writer ([`super::batch`]): each store tells
//! its own observers, so two stores in one process (two instances in a test) never mix their
//! metrics, and nothing is global. The commits told of are those of bookings (a batch as one
//! commit of many writes), cancellations, holds, releases that freed seats, and check-ins; the
//! latency is the COMMIT's round trip, which is where a commit waits for the server's flush.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::store::{CommitObserver, Commits};

/// The observers of one store.
#[derive(Default)]
pub(super) struct Observers {
    observers: RwLock<Vec<Arc<dyn CommitObserver>>>,
}

impl Observers {
    /// Tells `observer` of every commit from now on.
    pub(super) fn add(&self, observer: Arc<dyn CommitObserver>) {
        self.observers.write().unwrap_or_else(|p| p.into_inner()).push(observer);
    }

    /// A commit of `writes` booking writes took `latency`.
    pub(super) fn committed(&self, writes: usize, latency: Duration) {
        let observers = self.observers.read().unwrap_or_else(|p| p.into_inner());
        for observer in observers.iter() {
            observer.committed(Commits { writes, latency });
        }
    }
}
