//! WAL checkpoints off the booking writer's path.
//!
//! By default SQLite checkpoints inside the COMMIT that grows the WAL past 1000 pages: that
//! commit then copies pages into the database file and flushes it, and every booking waiting
//! in the batch behind it waits too, which is what sets the tail latency. The writer therefore
//! turns automatic checkpoints off, and this thread runs a PASSIVE checkpoint (which never
//! blocks the writer or readers) a few times a second on its own connection. PASSIVE
//! checkpoints copy the log but cannot make it shorter under load; the writer truncates it
//! (see [`super::bookings_wal`]), and finds little left to copy thanks to this thread.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::bookings_wal::CheckpointLock;
use super::{OpenMode, open_connection};
use crate::store::StoreError;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_millis(200);

/// Opens the checkpointer's connection now (so errors surface at open) and returns the loop to
/// run on its thread; it ends when `stop`'s sender is dropped.
pub(crate) fn checkpointer(
    path: &Path,
    stop: Receiver<()>,
    checkpoints: CheckpointLock,
) -> Result<impl FnOnce() + Send + 'static, StoreError> {
    let conn = open_connection(path, OpenMode::Existing)?;
    Ok(move || {
        loop {
            match stop.recv_timeout(EVERY) {
                Err(RecvTimeoutError::Timeout) => {
                    let _only_checkpoint = checkpoints.lock().unwrap_or_else(|p| p.into_inner());
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        // Busy with another process's checkpoint, say; the next round retries.
                        tracing::warn!("WAL checkpoint skipped: {e}");
                    }
                }
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    })
}
