//! The schedule in SQLite: the `showtimes` table, and the roll that keeps it in step with the
//! content (creating, archiving, retiring) and purges what can no longer matter.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::seat_changes::{self, Origin};
use super::{SqliteStore, backend};
use crate::booking::BookingReference;
use crate::box_office::{IDEMPOTENCY_KEPT_FOR, KeptShowtime, Purged, SENT_MAIL_KEPT_FOR};
use crate::schedule::{Showtime, ShowtimeId};
use crate::store::{RollReport, StoreError};

pub(crate) const COLUMNS: &str = "id, film_slug, studio, local_date, slot, starts_at, ends_at, archived";

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
    live_showtimes_that(conn, now, |_| true)
}

/// [`live_showtimes`] whose id `wanted` accepts: the others are skipped by their id alone,
/// never made into a [`Showtime`], so a caller that wants few holds only those.
fn live_showtimes_that(
    conn: &Connection,
    now: DateTime<Utc>,
    wanted: impl Fn(&str) -> bool,
) -> rusqlite::Result<Vec<Showtime>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM showtimes WHERE archived = 0 AND starts_at > ?1 ORDER BY starts_at, studio"
    ))?;
    let mut rows = stmt.query([now.timestamp()])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        if wanted(row.get_ref(0)?.as_str()?) {
            found.push(showtime_from_row(row)?);
        }
    }
    Ok(found)
}

/// One showtime on a connection.
pub(crate) fn showtime(conn: &Connection, id: &ShowtimeId) -> rusqlite::Result<Option<Showtime>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM showtimes WHERE id = ?1"))?;
    stmt.query_row([id.as_str()], showtime_from_row).optional()
}

/// The first whole second at or after `at`: showtimes start on whole seconds, so one starts at
/// or after `at` exactly when it starts at or after this.
pub(crate) fn first_whole_second(at: DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

/// Every showtime starting in `[from, to)`, archived ones included, by start then studio.
pub(crate) fn showtimes_between(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> rusqlite::Result<Vec<Showtime>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM showtimes WHERE starts_at >= ?1 AND starts_at < ?2 ORDER BY starts_at, studio"
    ))?;
    stmt.query_map([first_whole_second(from), first_whole_second(to)], showtime_from_row)?.collect()
}

/// What a roll did: its report, and the showtimes it retired (whose seats a cache may still
/// hold).
pub(crate) struct Rolled {
    pub(crate) report: RollReport,
    pub(crate) retired: Vec<ShowtimeId>,
}

impl SqliteStore {
    /// See [`crate::store::Store::roll`]: one `BEGIN IMMEDIATE` transaction, so two rolls
    /// from any processes serialise on SQLite's write lock.
    pub fn roll(&self, plan: &[Showtime], now: DateTime<Utc>) -> Result<RollReport, StoreError> {
        self.roll_retiring(plan, now).map(|rolled| rolled.report)
    }

    /// [`SqliteStore::roll`], also answering which showtimes it retired.
    ///
    /// A booking racing the roll cannot strand a booking on a deleted showtime: the roll looks
    /// for bookings and deletes in one `BEGIN IMMEDIATE` transaction, and the booking writer
    /// checks the showtime and inserts in one too. SQLite lets one write transaction run at a
    /// time on a file, whatever the process, so either the booking commits first (the roll then
    /// sees it and keeps the showtime) or the roll does (the booking then finds no showtime).
    pub(crate) fn roll_retiring(&self, plan: &[Showtime], now: DateTime<Utc>) -> Result<Rolled, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let archived = tx
            .execute("UPDATE showtimes SET archived = 1 WHERE archived = 0 AND starts_at <= ?1", [now.timestamp()])
            .map_err(backend)?;
        let created = create_planned(&tx, plan, now).map_err(backend)?;
        let retiring = retire_unplanned(&tx, plan, now).map_err(backend)?;
        let purged = purge(&tx, now).map_err(backend)?;
        // Told to other processes' seat caches (through their watchers) in the same
        // transaction, as a booking batch tells of its seats; this process's cache is told by
        // the caller once this returns. Stamped with the clock, like every row of the log,
        // which is pruned by the clock.
        seat_changes::record(&tx, &retiring.retired, Origin::random(), Utc::now().timestamp()).map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(Rolled {
            report: RollReport { archived, created, retired: retiring.retired.len(), kept: retiring.kept, purged },
            retired: retiring.retired,
        })
    }

    pub fn live_showtimes(&self, now: DateTime<Utc>) -> Result<Vec<Showtime>, StoreError> {
        live_showtimes(&self.conn(), now).map_err(backend)
    }

    pub fn showtime(&self, id: &ShowtimeId) -> Result<Option<Showtime>, StoreError> {
        showtime(&self.conn(), id).map_err(backend)
    }
}

/// Creates the showtimes of `plan` that start after `now` and do not exist yet, archived ones
/// included (so a past slot is never re-created). Answers how many.
fn create_planned(tx: &Connection, plan: &[Showtime], now: DateTime<Utc>) -> rusqlite::Result<usize> {
    // Most rolls find the whole horizon already there: one scan for the ids that exist is far
    // cheaper than one refused insert per showtime.
    let from = plan.iter().map(|s| s.starts_at.timestamp()).min().unwrap_or(i64::MAX);
    let existing: HashSet<String> = tx
        .prepare("SELECT id FROM showtimes WHERE starts_at >= ?1")?
        .query_map([from], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut insert = tx.prepare(
        "INSERT INTO showtimes (id, film_slug, studio, local_date, slot, starts_at, ends_at, archived, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8) ON CONFLICT (id) DO NOTHING",
    )?;
    let mut created = 0;
    for s in plan.iter().filter(|s| !s.has_started(now) && !existing.contains(s.id.as_str())) {
        created += insert.execute(params![
            s.id.as_str(),
            s.film_slug,
            s.studio,
            s.local_date.format("%Y-%m-%d").to_string(),
            s.slot.format("%H:%M").to_string(),
            s.starts_at.timestamp(),
            s.ends_at.timestamp(),
            now.timestamp(),
        ])?;
    }
    Ok(created)
}

/// What became of the live showtimes the plan no longer has.
struct Retiring {
    /// Deleted (no booking at all) or archived (only cancelled ones).
    retired: Vec<ShowtimeId>,
    /// Active bookings hold them: left as they are.
    kept: Vec<KeptShowtime>,
}

/// Retires the live showtimes `plan` lacks that no active booking holds, and lists the ones
/// that are kept (see [`crate::store::Store::roll`]). Their hold rows go with them: a hold on a
/// showtime that takes no bookings holds nothing.
fn retire_unplanned(tx: &Connection, plan: &[Showtime], now: DateTime<Utc>) -> rusqlite::Result<Retiring> {
    let planned: HashSet<&str> = plan.iter().map(|s| s.id.as_str()).collect();
    // Only the unplanned rows are kept (usually none): the live ones, all read at once, would
    // hold a second copy of the horizon (tens of megabytes at 10,000 films) beside the plan.
    let unplanned = live_showtimes_that(tx, now, |id| !planned.contains(id))?;
    let mut retiring = Retiring { retired: Vec::new(), kept: Vec::new() };
    for showtime in unplanned {
        let id = showtime.id.as_str();
        let (bookings, active): (i64, i64) = tx
            .prepare_cached(
                "SELECT count(*), count(*) FILTER (WHERE cancelled_at IS NULL) FROM bookings WHERE showtime_id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if active > 0 {
            let bookings = tx
                .prepare_cached(
                    "SELECT reference FROM bookings WHERE showtime_id = ?1 AND cancelled_at IS NULL
                     ORDER BY created_at, id",
                )?
                .query_map([id], |r| {
                    let text: String = r.get(0)?;
                    BookingReference::parse(&text).ok_or_else(|| {
                        rusqlite::Error::FromSqlConversionFailure(
                            0,
                            rusqlite::types::Type::Text,
                            format!("stored reference {text:?} is malformed").into(),
                        )
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            retiring.kept.push(KeptShowtime { showtime, bookings });
            continue;
        }
        tx.prepare_cached("DELETE FROM seat_holds WHERE showtime_id = ?1")?.execute([id])?;
        if bookings == 0 {
            tx.prepare_cached("DELETE FROM showtimes WHERE id = ?1")?.execute([id])?;
        } else {
            tx.prepare_cached("UPDATE showtimes SET archived = 1 WHERE id = ?1")?.execute([id])?;
        }
        retiring.retired.push(showtime.id);
    }
    Ok(retiring)
}

/// Deletes what can no longer matter at `now`: ended holds, day-old idempotency records and
/// month-old sent mail. Pending mail is never deleted, however old.
fn purge(tx: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Purged> {
    // Ended holds hold nothing (see `holds.rs`); holds clear their own showtime's as they go,
    // and this clears the rest (showtimes nobody held a seat of since), so the table stays the
    // size of the holds in play. No log row: nothing anyone sees changed.
    let holds = tx.execute("DELETE FROM seat_holds WHERE expires_at <= ?1", [now.timestamp_millis()])?;
    // A record kept exactly as long as promised, not a second less: older ones only.
    let idempotency_keys =
        tx.execute("DELETE FROM idempotency_keys WHERE created_at < ?1", [(now - IDEMPOTENCY_KEPT_FOR).timestamp()])?;
    let sent_mail = tx.execute(
        "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?1",
        [(now - SENT_MAIL_KEPT_FOR).timestamp_millis()],
    )?;
    Ok(Purged { idempotency_keys, holds, sent_mail })
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
    fn showtimes_between_takes_a_start_on_its_from_and_before_its_to_to_the_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        roll_at(&store, "2026-11-24T00:00:00+07:00");
        let six = at("2026-11-24T06:00:00+07:00");
        let ms = chrono::Duration::milliseconds(1);
        let between = |from, to| showtimes_between(&store.conn(), from, to).unwrap().len();
        assert_eq!(between(six, six + ms), 21, "the 06:00 showtimes start at `from`");
        assert_eq!(between(six + ms, six + chrono::Duration::hours(3)), 0, "and a millisecond before this `from`");
        assert_eq!(between(six - ms, six), 0, "`to` is left out");
        assert_eq!(between(six - ms, six + ms), 21, "but not a millisecond before it");
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
