//! The schedule in SQLite: the `showtimes` table.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{SqliteStore, backend};
use crate::schedule::{Showtime, ShowtimeId};
use crate::store::{RollReport, StoreError};

const COLUMNS: &str = "id, film_slug, studio, local_date, slot, starts_at, ends_at, archived";

/// Reads a row selected with [`COLUMNS`].
pub(crate) fn showtime_from_row(row: &Row<'_>) -> rusqlite::Result<Showtime> {
    let bad = |i: usize, e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into());
    let date: String = row.get(3)?;
    let slot: String = row.get(4)?;
    let instant = |i: usize| -> rusqlite::Result<DateTime<Utc>> {
        let secs: i64 = row.get(i)?;
        DateTime::from_timestamp(secs, 0).ok_or_else(|| bad(i, format!("timestamp {secs} out of range")))
    };
    Ok(Showtime {
        id: ShowtimeId(row.get(0)?),
        film_slug: row.get(1)?,
        studio: row.get(2)?,
        local_date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|e| bad(3, e.to_string()))?,
        slot: NaiveTime::parse_from_str(&slot, "%H:%M").map_err(|e| bad(4, e.to_string()))?,
        starts_at: instant(5)?,
        ends_at: instant(6)?,
        archived: row.get(7)?,
    })
}

/// The live showtimes on a connection (shared with the booking store's readers).
pub(crate) fn live_showtimes(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Vec<Showtime>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM showtimes WHERE archived = 0 AND starts_at > ?1 ORDER BY starts_at, studio"
    ))?;
    stmt.query_map([now.timestamp()], showtime_from_row)?.collect()
}

/// One showtime on a connection.
pub(crate) fn showtime(conn: &Connection, id: &ShowtimeId) -> rusqlite::Result<Option<Showtime>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM showtimes WHERE id = ?1"))?;
    stmt.query_row([id.as_str()], showtime_from_row).optional()
}

impl SqliteStore {
    /// See [`crate::store::Store::roll`]: one `BEGIN IMMEDIATE` transaction, so two rolls
    /// from any processes serialise on SQLite's write lock.
    pub fn roll(&self, plan: &[Showtime], now: DateTime<Utc>) -> Result<RollReport, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let archived = tx
            .execute("UPDATE showtimes SET archived = 1 WHERE archived = 0 AND starts_at <= ?1", [now.timestamp()])
            .map_err(backend)?;
        // Ended holds hold nothing (see `holds.rs`); holds clear their own showtime's as they
        // go, and this clears the rest (showtimes nobody held a seat of since), so the table
        // stays the size of the holds in play. No log row: nothing anyone sees changed.
        tx.execute("DELETE FROM seat_holds WHERE expires_at <= ?1", [now.timestamp_millis()]).map_err(backend)?;
        let mut created = 0;
        {
            // Most rolls find the whole horizon already there: one scan for the ids that
            // exist is far cheaper than one refused insert per showtime.
            let from = plan.iter().map(|s| s.starts_at.timestamp()).min().unwrap_or(i64::MAX);
            let existing: std::collections::HashSet<String> = tx
                .prepare("SELECT id FROM showtimes WHERE starts_at >= ?1")
                .and_then(|mut q| q.query_map([from], |r| r.get(0))?.collect())
                .map_err(backend)?;
            let mut insert = tx
                .prepare(
                    "INSERT INTO showtimes (id, film_slug, studio, local_date, slot, starts_at, ends_at, archived, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8) ON CONFLICT (id) DO NOTHING",
                )
                .map_err(backend)?;
            for s in plan.iter().filter(|s| !s.has_started(now) && !existing.contains(s.id.as_str())) {
                created += insert
                    .execute(params![
                        s.id.as_str(),
                        s.film_slug,
                        s.studio,
                        s.local_date.format("%Y-%m-%d").to_string(),
                        s.slot.format("%H:%M").to_string(),
                        s.starts_at.timestamp(),
                        s.ends_at.timestamp(),
                        now.timestamp(),
                    ])
                    .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)?;
        Ok(RollReport { archived, created, ..RollReport::default() })
    }

    pub fn live_showtimes(&self, now: DateTime<Utc>) -> Result<Vec<Showtime>, StoreError> {
        live_showtimes(&self.conn(), now).map_err(backend)
    }

    pub fn showtime(&self, id: &ShowtimeId) -> Result<Option<Showtime>, StoreError> {
        showtime(&self.conn(), id).map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::catalog_of;
    use crate::schedule::plan_horizon;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
    }

    fn roll_at(store: &SqliteStore, now: &str) -> RollReport {
        let catalog = catalog_of(21, "");
        let now = at(now);
        store.roll(&plan_horizon(&catalog, now), now).unwrap()
    }

    #[test]
    fn a_roll_creates_the_horizon_and_a_second_roll_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let first = roll_at(&store, "2026-11-24T00:00:00+07:00");
        assert_eq!(first, RollReport { archived: 0, created: 345, ..RollReport::default() });
        let second = roll_at(&store, "2026-11-24T00:00:00+07:00");
        assert_eq!(second, RollReport { archived: 0, created: 0, ..RollReport::default() });
        assert_eq!(store.live_showtimes(at("2026-11-24T00:00:00+07:00")).unwrap().len(), 345);
    }

    #[test]
    fn a_later_roll_archives_started_showtimes_and_never_resurrects_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        roll_at(&store, "2026-11-24T00:00:00+07:00");
        // By 12:30 the 06:00, 09:00/10:00 and 12:00 slots of the first day have started:
        // 21 at 06:00, 10 at 09:00, 11 at 10:00, 10 at 12:00.
        let report = roll_at(&store, "2026-11-24T12:30:00+07:00");
        assert_eq!(report.archived, 52);
        assert_eq!(report.created, 0, "the horizon's days are the same; nothing new");
        let id = ShowtimeId("film-1-20261124-0600".into());
        let archived = store.showtime(&id).unwrap().unwrap();
        assert!(archived.archived);
        // Rolling again at the same moment neither archives nor re-creates anything.
        assert_eq!(roll_at(&store, "2026-11-24T12:30:00+07:00"), RollReport::default());
        // The next day brings a new third day and archives the rest of the first.
        let next = roll_at(&store, "2026-11-25T00:00:00+07:00");
        assert_eq!(next, RollReport { archived: 115 - 52, created: 115, ..RollReport::default() });
        assert!(store.showtime(&id).unwrap().unwrap().archived);
    }

    #[test]
    fn a_roll_deletes_ended_holds_and_keeps_live_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let now = "2026-11-24T00:00:00+07:00";
        roll_at(&store, now);
        let ms = at(now).timestamp_millis();
        let hold = "INSERT INTO seat_holds VALUES ('s', ?1, x'01', ?2, 0)";
        for (seat, expires_at) in [("ended", ms - 1), ("at-expiry", ms), ("live", ms + 1)] {
            store.conn().execute(hold, params![seat, expires_at]).unwrap();
        }
        roll_at(&store, now);
        let left: Vec<String> = store
            .conn()
            .prepare("SELECT seat FROM seat_holds")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left, ["live"]);
    }

    #[test]
    fn two_rolls_at_once_from_two_threads_create_each_showtime_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let reports: Vec<RollReport> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| roll_at(&SqliteStore::open(&path).unwrap(), "2026-11-24T00:00:00+07:00")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(reports.iter().map(|r| r.created).sum::<usize>(), 345);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.live_showtimes(at("2026-11-24T00:00:00+07:00")).unwrap().len(), 345);
    }

    #[test]
    fn a_database_from_a_newer_tiketa_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 999").unwrap();
        let err = SqliteStore::open(&path).err().unwrap();
        assert!(err.to_string().contains("newer Tiketa"), "{err}");
    }
}
