//! A consistent copy of the database while the service runs, with SQLite's online backup.
//!
//! The copy reads from a connection of its own inside one read transaction, so it is the
//! database as of one moment (every booking committed before the backup began, none half
//! written) and SQLite never has to start it over however many bookings commit meanwhile. In
//! WAL mode a reader never blocks writers: bookings go on while it runs. What a long copy holds
//! up is only the writer's truncation of the log, which backs off and waits (see
//! [`super::bookings_wal`]); the copy goes page by page ([`PAGES_PER_STEP`] at a time), so
//! that each step is short.
//!
//! The copy is written under a temporary name in the destination's folder, flushed to disk,
//! and only then given its name (a rename that refuses to replace a file), so a crash or a
//! full disk never leaves a half-written file under the name an operator will restore from.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use super::{BUSY_TIMEOUT, OpenMode, backend, open_connection};
use crate::box_office::BackupReport;
use crate::store::StoreError;

/// Pages copied per step: 4 MiB of 4 KiB pages.
const PAGES_PER_STEP: i32 = 1024;

/// Copies the database at `source` to the new file `to`.
pub(crate) fn backup(source: &Path, to: &Path) -> Result<BackupReport, StoreError> {
    // Checked first so a mistaken name fails at once rather than after the copy; the rename
    // at the end refuses it again, should the file appear meanwhile.
    if to.symlink_metadata().is_ok() {
        return Err(exists(to));
    }
    let started = Instant::now();
    let folder = match to.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let partial = tempfile::Builder::new()
        .prefix(".tiketa-backup-")
        .suffix(".partial")
        .tempfile_in(folder)
        .map_err(|e| cannot_write(to, e))?;
    let bookings = copy_into(source, partial.path(), PAGES_PER_STEP, || {})?;
    partial.as_file().sync_all().map_err(|e| cannot_write(to, e))?;
    let copy = partial.persist_noclobber(to).map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists => exists(to),
        _ => cannot_write(to, e.error),
    })?;
    // The new name is on disk once the folder is.
    std::fs::File::open(folder).and_then(|f| f.sync_all()).map_err(|e| cannot_write(to, e))?;
    let bytes = copy.metadata().map_err(|e| cannot_write(to, e))?.len();
    tracing::info!(from = %source.display(), to = %to.display(), bytes, bookings, took = ?started.elapsed(), "backup written");
    Ok(BackupReport { bytes, bookings })
}

/// Copies `source` into the (empty) file `partial`, `pages` at a time, calling `between_steps`
/// after each step but the last; answers how many bookings the copy holds.
fn copy_into(source: &Path, partial: &Path, pages: i32, mut between_steps: impl FnMut()) -> Result<u64, StoreError> {
    let from = open_connection(source, OpenMode::Existing)?;
    from.execute_batch("PRAGMA query_only = ON").map_err(backend)?;
    // The snapshot every step copies from: without it, each step would read the database as
    // it is then, and SQLite would start the copy over after every commit.
    from.execute_batch("BEGIN").map_err(backend)?;
    from.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())).map_err(backend)?;
    let mut to = Connection::open(partial).map_err(|e| cannot_write(partial, e))?;
    // Flushed once, whole, before it gets its name; a crash before that leaves only a
    // temporary file.
    to.execute_batch("PRAGMA synchronous = OFF").map_err(|e| cannot_write(partial, e))?;
    {
        let copy = Backup::new(&from, &mut to).map_err(|e| cannot_write(partial, e))?;
        let deadline = Instant::now() + BUSY_TIMEOUT;
        loop {
            match copy.step(pages).map_err(|e| cannot_write(partial, e))? {
                StepResult::Done => break,
                StepResult::More => between_steps(),
                // Nothing else uses either file; kept for SQLite's sake, bounded all the same.
                StepResult::Busy | StepResult::Locked if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                StepResult::Busy | StepResult::Locked => {
                    return Err(StoreError::Backend("the backup stayed locked out of the database; try again".into()));
                }
                other => {
                    return Err(StoreError::Backend(format!("the backup stopped: SQLite answered {other:?}").into()));
                }
            }
        }
    }
    from.execute_batch("COMMIT").map_err(backend)?;
    // The copy carries the source's WAL flag; a rollback journal makes it one self-contained
    // file, whichever way it is opened later (Tiketa switches it back to WAL when it opens it).
    to.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(())).map_err(|e| cannot_write(partial, e))?;
    let bookings: i64 =
        to.query_row("SELECT count(*) FROM bookings", [], |r| r.get(0)).map_err(|e| cannot_write(partial, e))?;
    to.close().map_err(|(_, e)| cannot_write(partial, e))?;
    Ok(bookings as u64)
}

fn exists(to: &Path) -> StoreError {
    StoreError::Backend(
        format!("{} already exists; a backup never replaces a file: give a new file name", to.display()).into(),
    )
}

fn cannot_write(to: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(
        format!(
            "cannot write the backup {}: {e}; check that its folder exists, can be written and has room",
            to.display()
        )
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    /// A Tiketa database with `n` bookings (and a few hundred pages of them).
    fn database_with_bookings(path: &Path, n: usize) {
        SqliteStore::open(path).unwrap();
        let conn = Connection::open(path).unwrap();
        conn.execute_batch("INSERT INTO showtimes VALUES ('s', 'film', 1, '2030-03-01', '10:00', 1, 2, 0, 0)").unwrap();
        for i in 0..n {
            book(&conn, i);
        }
    }

    fn book(conn: &Connection, i: usize) {
        conn.execute(
            "INSERT INTO bookings (reference, showtime_id, name, token_hash, created_at, check_in_code)
             VALUES (?1, 's', ?2, x'00', 0, ?1)",
            rusqlite::params![format!("ref-{i}"), "a name long enough to fill pages ".repeat(20)],
        )
        .unwrap();
    }

    #[test]
    fn a_copy_is_the_database_as_it_began_however_many_commits_come_between_its_steps() {
        let dir = tempfile::tempdir().unwrap();
        let (source, partial) = (dir.path().join("t.db"), dir.path().join("copy.partial"));
        database_with_bookings(&source, 500);
        let writer = Connection::open(&source).unwrap();
        let pages: i64 = writer.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        let (mut steps, mut written) = (0, 500);
        let bookings = copy_into(&source, &partial, 2, || {
            steps += 1;
            // A booking commits between every two steps of the copy's first twenty.
            if steps <= 20 {
                book(&writer, written);
                written += 1;
            }
        })
        .unwrap();
        assert_eq!(bookings, 500, "the copy holds what was committed when it began, nothing after");
        assert!(pages > 40, "{pages} pages: more steps than writes");
        assert!(steps <= pages / 2 + 1, "copied once, never started over: {steps} steps for {pages} pages");
        let copy = Connection::open(&partial).unwrap();
        let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let mode: String = copy.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "delete", "one self-contained file");
        let now: i64 = writer.query_row("SELECT count(*) FROM bookings", [], |r| r.get(0)).unwrap();
        assert_eq!(now, 520, "the writes went on during the copy");
    }

    #[test]
    fn a_backup_is_refused_where_a_file_exists_and_left_nowhere_when_it_fails() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("t.db");
        database_with_bookings(&source, 1);
        let taken = dir.path().join("taken.db");
        std::fs::write(&taken, "mine").unwrap();
        let err = backup(&source, &taken).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(std::fs::read_to_string(&taken).unwrap(), "mine", "left as it was");
        let nowhere = dir.path().join("missing-folder").join("copy.db");
        let err = backup(&source, &nowhere).unwrap_err();
        assert!(err.to_string().contains("check that its folder exists"), "{err}");
        let report = backup(&source, &dir.path().join("copy.db")).unwrap();
        assert_eq!(report.bookings, 1);
        let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["copy.db", "t.db", "taken.db"], "no temporary file left behind");
    }
}
