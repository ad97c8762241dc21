//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each migration runs once, in order, inside one transaction with the version bump, so a
//! crash mid-migration leaves the previous version intact. Append; never edit a released step.

use std::path::Path;

use rusqlite::Connection;

use super::backend;
use crate::store::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: the schedule.
    "CREATE TABLE showtimes (
        id         TEXT PRIMARY KEY,
        film_slug  TEXT NOT NULL,
        studio     INTEGER NOT NULL,
        local_date TEXT NOT NULL,
        slot       TEXT NOT NULL,
        starts_at  INTEGER NOT NULL,
        ends_at    INTEGER NOT NULL,
        archived   INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX showtimes_live ON showtimes (archived, starts_at);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.display().to_string(),
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    // IMMEDIATE: two processes opening a fresh database at once must not both migrate.
    conn.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
    let result = (|| {
        let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            conn.execute_batch(sql)?;
            conn.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(backend),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(backend(e))
        }
    }
}
