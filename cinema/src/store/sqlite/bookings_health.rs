//! What health knows about writes without writing: the writer's latest outcome and the free
//! space on the database's disk.
//!
//! A health check runs every second or so on every instance, so it must not cost a disk flush.
//! Instead the writer records how its last commit (or probe) ended: a failed commit makes the
//! store unavailable until one succeeds again. While failing and idle, the writer probes with
//! a one-row write about once a second (see [`super::bookings_writer`]), so health recovers by
//! itself once the disk has room again, even when no booking arrives because a load balancer
//! has stopped sending them. Free space is one `statvfs`, and catches a full disk before the
//! first booking fails on it.

use std::path::Path;
use std::sync::Mutex;

use crate::store::Unavailable;

/// Below this much free space the next batch (up to 512 bookings, about a megabyte of log) or
/// checkpoint may not fit, so the store says it is unavailable before a booking fails.
pub const MIN_FREE_BYTES: u64 = 4 << 20;

/// The writer's latest outcome: `None` when its last commit succeeded.
#[derive(Default)]
pub(crate) struct WriteStatus {
    failure: Mutex<Option<String>>,
}

impl WriteStatus {
    /// A commit reached the disk.
    pub(crate) fn succeeded(&self) {
        if let Some(was) = self.lock().take() {
            tracing::info!("writes reach the database again (after: {was}); taking bookings");
        }
    }

    /// A commit failed; `what` is SQLite's reason.
    pub(crate) fn failed(&self, db: &Path, what: &str) {
        let mut failure = self.lock();
        if failure.is_none() {
            tracing::error!(
                db = %db.display(),
                "a booking commit failed: {what}. Bookings are refused (503) and health reports unavailable \
                 until a write succeeds again; the writer retries about once a second. If the disk is full, \
                 free space on the disk holding {}.",
                db.display(),
            );
        }
        *failure = Some(what.to_string());
    }

    pub(crate) fn is_failing(&self) -> bool {
        self.lock().is_some()
    }

    pub(crate) fn check(&self) -> Result<(), Unavailable> {
        match &*self.lock() {
            None => Ok(()),
            Some(what) => Err(Unavailable::WriteFailed(what.clone())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.failure.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Fails when the disk holding `db` has less than [`MIN_FREE_BYTES`] available to this process.
pub(crate) fn check_free_space(db: &Path) -> Result<(), Unavailable> {
    match rustix::fs::statvfs(db) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            if free < MIN_FREE_BYTES { Err(Unavailable::DiskFull { free_kib: free / 1024 }) } else { Ok(()) }
        }
        // Not knowing is no reason to refuse bookings; the writer's outcome still counts.
        Err(e) => {
            tracing::warn!(db = %db.display(), "cannot read the free space of the database's disk: {e}");
            Ok(())
        }
    }
}
