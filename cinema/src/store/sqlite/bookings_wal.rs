//! Keeping the write-ahead log small: bounded under load, empty when idle.
//!
//! Why it grew without bound (978 MB for a 13 MB database after 30 s of full load): SQLite only
//! starts the WAL over from its beginning when a writer begins a transaction at a moment when
//! every frame has been copied into the database and no reader still uses the log. The
//! checkpointer thread's PASSIVE checkpoints copy frames, but under sustained load the writer
//! appends a new batch before each one finishes, so that moment never comes; and nothing ever
//! truncated the file, so it kept its largest size after the load stopped and across restarts.
//!
//! The writer therefore checkpoints with TRUNCATE itself, between two batches, when the file
//! passes [`WalLimits::truncate_above`]: the WAL is copied to the end (the PASSIVE checkpoints
//! have already copied nearly all of it, off this thread), the file is cut to zero bytes and
//! the next batch starts a new log. Bookings wait for that, briefly (about 30 ms per 64 MiB of
//! log at full speed, measured). SQLite makes TRUNCATE wait for running readers by polling,
//! and a steady stream of reads on the store's own pool always has one running, so this
//! store's reads pass a gate ([`ReadGate`]) that the truncation closes while it runs: reads
//! pause for one truncation, never longer. A reader in another process (a long transaction, a
//! backup) can still hold the log; the truncation then gives up after [`CHECKPOINT_WAIT`] and
//! backs off (the writer waits at most that long per attempt), and says so in the log.
//!
//! After [`WalLimits::idle_after`] without a write, the writer truncates the log too, so it is
//! empty whenever the service is idle; and the store truncates at open, so a log left by a
//! crash is folded in before the first booking.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::BUSY_TIMEOUT;

/// How long one TRUNCATE checkpoint waits for running reads before giving up for now.
pub const CHECKPOINT_WAIT: Duration = Duration::from_millis(250);

/// The longest pause between two attempts while readers keep the log from being truncated.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// When the writer truncates the write-ahead log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalLimits {
    /// Truncate after a commit that leaves the log file larger than this. The file stays below
    /// it plus one batch while readers let the checkpoint finish.
    pub truncate_above: u64,
    /// Truncate after this long without a write.
    pub idle_after: Duration,
}

impl Default for WalLimits {
    /// 64 MiB: at full speed that is a truncation every two seconds or so, each costing the
    /// writer a few milliseconds.
    fn default() -> Self {
        WalLimits { truncate_above: 64 << 20, idle_after: Duration::from_secs(1) }
    }
}

/// Held by whichever of this store's threads checkpoints. SQLite refuses a second checkpoint
/// at once with "busy" rather than waiting; taking this first makes the writer wait for the
/// checkpointer's PASSIVE round to end instead of failing and trying again later, which under
/// load would let the log grow.
pub(crate) type CheckpointLock = Arc<Mutex<()>>;

/// Reads on this store's read pool hold it shared; a truncation holds it exclusively.
///
/// SQLite's TRUNCATE waits for readers by polling, and a steady stream of reads always has one
/// running: measured with one thread reading in a loop, every truncation gave up after its
/// full wait and the log grew past six times its limit. With this gate the truncation waits
/// for the reads already running (milliseconds) and holds new ones back only while it runs
/// (tens of milliseconds, once per limit's worth of log), so neither starves the other.
/// Other processes' readers are not behind it; for them the back-off above applies.
pub(crate) type ReadGate = Arc<RwLock<()>>;

/// The writer's view of its log file.
pub(crate) struct Wal {
    path: PathBuf,
    checkpoints: CheckpointLock,
    reads: ReadGate,
    limits: WalLimits,
    /// No attempt before this moment (set after an attempt readers kept from finishing).
    retry_at: Option<Instant>,
    backoff: Duration,
}

impl Wal {
    pub(crate) fn new(db: &Path, limits: WalLimits, checkpoints: CheckpointLock, reads: ReadGate) -> Self {
        let mut path = db.as_os_str().to_owned();
        path.push("-wal");
        Wal { path: path.into(), checkpoints, reads, limits, retry_at: None, backoff: Duration::ZERO }
    }

    pub(crate) fn idle_after(&self) -> Duration {
        self.limits.idle_after
    }

    /// The log file's size now (0 if it does not exist).
    pub(crate) fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// After a commit: truncates if the log has grown past the limit.
    pub(crate) fn after_commit(&mut self, conn: &Connection) {
        if self.size() > self.limits.truncate_above {
            self.truncate(conn);
        }
    }

    /// While idle: truncates if there is anything in the log.
    pub(crate) fn when_idle(&mut self, conn: &Connection) {
        if self.size() > 0 {
            self.truncate(conn);
        }
    }

    /// Copies the whole log into the database and cuts it to zero bytes, unless readers keep
    /// it for longer than [`CHECKPOINT_WAIT`]; then backs off. Returns whether it finished.
    pub(crate) fn truncate(&mut self, conn: &Connection) -> bool {
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return false;
        }
        let started = Instant::now();
        let size = self.size();
        let done = {
            let _only_checkpoint = self.checkpoints.lock().unwrap_or_else(|p| p.into_inner());
            let _no_reads = self.reads.write().unwrap_or_else(|p| p.into_inner());
            checkpoint_truncate(conn)
        };
        tracing::debug!(wal = %self.path.display(), bytes = size, took = ?started.elapsed(), ?done, "WAL truncation");
        match done {
            Ok(true) => {
                self.retry_at = None;
                self.backoff = Duration::ZERO;
            }
            Ok(false) | Err(_) => {
                self.backoff = (self.backoff * 2).clamp(Duration::from_millis(20), MAX_BACKOFF);
                self.retry_at = Some(Instant::now() + self.backoff);
                if let Err(e) = &done {
                    tracing::warn!(wal = %self.path.display(), "WAL checkpoint failed: {e}; retrying");
                } else if self.backoff == MAX_BACKOFF {
                    tracing::warn!(
                        wal = %self.path.display(),
                        "the WAL ({} MB) cannot be truncated: a reader keeps an old snapshot open (another \
                         process with a long read transaction, a backup?); retrying every {} s",
                        self.size() >> 20,
                        MAX_BACKOFF.as_secs(),
                    );
                }
            }
        }
        done.unwrap_or(false)
    }
}

/// One TRUNCATE checkpoint, waiting at most [`CHECKPOINT_WAIT`] for readers. `Ok(false)` when
/// readers still used the log (or another process was checkpointing).
fn checkpoint_truncate(conn: &Connection) -> rusqlite::Result<bool> {
    conn.busy_timeout(CHECKPOINT_WAIT)?;
    let result = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The first column is 1 when the checkpoint could not finish ("busy").
    Ok(result? == 0)
}
