//! Noticing that the database file was deleted or replaced under a running service.
//!
//! SQLite keeps writing to the file it opened. Deleted, that file has no name any more: every
//! booking after is acknowledged, kept in an inode nobody can reach, and gone at the next
//! restart. Replaced (a restore over it, a `mv`), the service writes into the old file while
//! the path names another. Comparing the path's device and inode with the ones opened costs one
//! `stat`, so the writer does it around every batch and health does it on every call.
//!
//! A file put back under its path (`mv` back, the same inode) is noticed too, and writes
//! resume; a copy from a backup is a different file and needs a restart, which opens it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::{StoreError, Unavailable};

/// The database file as opened: its path and the device and inode it named then.
pub(crate) struct DatabaseFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
    /// Whether the file is known to be gone, so the loud log line is written once per loss.
    gone: AtomicBool,
}

impl DatabaseFile {
    /// Records what `path` names now. Call right after opening the database.
    pub(crate) fn identify(path: &Path) -> Result<Self, StoreError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| StoreError::Open { database: path.display().to_string(), source: Box::new(e) })?;
        Ok(DatabaseFile { path: path.to_path_buf(), dev: meta.dev(), ino: meta.ino(), gone: AtomicBool::new(false) })
    }

    /// Fails if the path no longer names the opened file. Logs at ERROR when that is first
    /// seen, and at INFO when the file is back.
    pub(crate) fn check(&self) -> Result<(), Unavailable> {
        let what = match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == (self.dev, self.ino) => {
                if self.gone.swap(false, Ordering::Relaxed) {
                    tracing::info!(db = %self.path.display(), "the database file is back; taking bookings again");
                }
                return Ok(());
            }
            Ok(m) => format!(
                "is another file now (inode {} on device {}, not {} on {})",
                m.ino(),
                m.dev(),
                self.ino,
                self.dev
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "was deleted".to_string(),
            Err(e) => format!("cannot be checked ({e})"),
        };
        if !self.gone.swap(true, Ordering::Relaxed) {
            tracing::error!(
                db = %self.path.display(),
                "the database file {} {what} while the service was running. Bookings are refused from now on \
                 (503) and health reports unavailable, so no booking is acknowledged into a file that will not be \
                 there after a restart. Put the original file back at this path, or restore it from a backup, \
                 then restart the service. Bookings made just before this are in the file this process still \
                 holds open: copy it from /proc/{}/fd/ before stopping the service if it was deleted.",
                self.path.display(),
                std::process::id(),
            );
        }
        Err(Unavailable::DatabaseReplaced)
    }
}
