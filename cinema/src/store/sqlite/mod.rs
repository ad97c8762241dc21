//! The embedded SQLite store: the default, one file, no server.
//!
//! Every connection is opened the same way: WAL so readers never block the writer, a busy
//! timeout so two processes wait for each other instead of failing, and `synchronous=FULL` so a
//! write that returned is on disk (a booking acknowledged is a booking kept).

mod backup;
mod bookings;
mod bookings_checkpoint;
mod bookings_health;
mod bookings_read;
mod bookings_wal;
mod bookings_writer;
mod check_in;
mod commit_watch;
mod database;
mod database_file;
mod holds;
mod migrations;
mod outbox;
mod pending;
mod schedule;
mod seat_changes;
mod seat_misses;
mod showtime_page;
mod watcher;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use self::bookings::{SqliteBookingStore, WRITE_QUEUE};
pub use self::bookings_health::MIN_FREE_BYTES;
pub use self::bookings_wal::{CHECKPOINT_WAIT, WalLimits};
pub use self::database::SqliteDatabase;
pub use self::migrations::SCHEMA_VERSION;
pub use self::pending::{Pending, Reply};
use super::{OpenMode, StoreError};

/// How long a connection waits for another writer before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Wraps a rusqlite error as a store error.
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Opens a connection with Tiketa's settings and brings the schema up to date.
pub fn open_connection(path: &Path, mode: OpenMode) -> Result<Connection, StoreError> {
    let open_err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
        database: path.display().to_string(),
        source: e,
    };
    let flags = match mode {
        OpenMode::Create => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| open_err(Box::new(e)))?;
            }
            OpenFlags::default()
        }
        OpenMode::Existing => {
            match std::fs::metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(StoreError::Missing { database: path.display().to_string() });
                }
                Err(e) => return Err(open_err(Box::new(e))),
                Ok(_) => {}
            }
            // Without CREATE, SQLite itself refuses a file that vanished since the check.
            OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE
        }
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_err(Box::new(e)))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| open_err(Box::new(e)))?;
    if mode == OpenMode::Existing {
        // Before anything writes: switching to WAL would turn an empty file into a database.
        refuse_unless_tiketa(&conn, path)?;
    }
    retry_while_busy(|| {
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
    })
    .map_err(|e| open_err(Box::new(e)))?;
    migrations::migrate(&conn, path)?;
    Ok(conn)
}

/// Fails unless the file holds a schema that `roll` made (`user_version` above 0): an empty
/// file or another program's database is refused untouched.
fn refuse_unless_tiketa(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let not_tiketa = || StoreError::NotTiketa { database: path.display().to_string() };
    match retry_while_busy(|| conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))) {
        Ok(0) => Err(not_tiketa()),
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::NotADatabase => Err(not_tiketa()),
        Err(e) => Err(StoreError::Open { database: path.display().to_string(), source: Box::new(e) }),
    }
}

/// Retries an operation that SQLite refused with "busy" or "locked" until [`BUSY_TIMEOUT`].
///
/// The busy timeout covers ordinary reads and writes, but not every case: switching a fresh
/// database to WAL while another process creates its schema fails at once, so opening
/// connections from several processes at the same moment needs this.
pub(crate) fn retry_while_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match op() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// A single-connection SQLite store for the schedule: one roll, then reads.
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens the database, creating it (and its folder) if it does not exist.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(SqliteStore { path: path.to_path_buf(), conn: Mutex::new(open_connection(path, OpenMode::Create)?) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back on
        // drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}
