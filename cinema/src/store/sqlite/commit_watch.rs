//! Who the booking writer tells of its commits, for the service's metrics.
//!
//! The observer arrives after the store opened (the service builds its metrics once it has a
//! store), possibly before the booking side has started, so the store owns one slot that the
//! database keeps and hands to the writer thread; no global registry.

use std::sync::{Arc, Mutex};

use crate::store::{CommitObserver, Commits};

/// The observer of a store's commits, if it has one yet.
#[derive(Default)]
pub(crate) struct CommitWatch(Mutex<Option<Arc<dyn CommitObserver>>>);

impl CommitWatch {
    /// From now on, tells `observer` of every commit (instead of an earlier observer).
    pub(crate) fn set(&self, observer: Arc<dyn CommitObserver>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }

    /// Tells the observer, if any, of one commit. The lock is held only to copy the handle, so
    /// a slow observer never holds up another thread setting one.
    pub(crate) fn committed(&self, commit: Commits) {
        let observer = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(observer) = observer {
            observer.committed(commit);
        }
    }
}
