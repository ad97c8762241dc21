//! The seat change log: how one SQLite store learns of another's commits.
//!
//! Several service processes may share one SQLite file, each with its own in-memory seat
//! index ([`crate::store::seat_cache::SeatIndex`]). A commit through one process is invisible
//! to the others' indexes, so every batch that takes, frees, holds or releases seats also writes, in
//! the same transaction, one row per showtime it changed into `seat_changes`, tagged with the
//! writing store's [`Origin`]. Each store's watcher ([`super::watcher`]) reads the rows past
//! its cursor and evicts the showtimes other origins changed. The row commits with the seats or
//! not at all, so no change goes untold, and a reader never learns of one that did not happen.
//!
//! The log only has to outlive the watchers' polling (a fraction of a second), so the writer
//! prunes it now and then inside a batch it commits anyway ([`prune`]): rows older than
//! [`KEEP_FOR`] or beyond the newest [`KEEP_ROWS`] go. A watcher that fell further behind than
//! that (a process stopped in a debugger) finds a gap and forgets its whole index instead.

use rusqlite::{Connection, OptionalExtension, params};

use crate::schedule::ShowtimeId;

/// How long a change is kept for watchers that poll late.
pub(crate) const KEEP_FOR: chrono::Duration = chrono::Duration::hours(1);

/// How many changes are kept at most, whatever their age.
pub(crate) const KEEP_ROWS: i64 = 100_000;

/// Which store instance wrote a change: random per opened store, so a store can tell its own
/// commits (already applied to its index by its writer) from every other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin(pub(crate) i64);

impl Origin {
    pub(crate) fn random() -> Self {
        Origin(rand::random())
    }
}

/// One row of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeatChangeRow {
    pub(crate) seq: i64,
    pub(crate) showtime: ShowtimeId,
    pub(crate) origin: Origin,
}

/// Logs that `origin` changed the seats of `showtimes`, inside the caller's transaction.
pub(crate) fn record(conn: &Connection, showtimes: &[ShowtimeId], origin: Origin, at: i64) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached("INSERT INTO seat_changes (showtime_id, origin, at) VALUES (?1, ?2, ?3)")?;
    for showtime in showtimes {
        insert.execute(params![showtime.as_str(), origin.0, at])?;
    }
    Ok(())
}

/// The newest change's number ever given (0 before the first): where a new watcher starts.
/// Read from SQLite's AUTOINCREMENT counter, so it holds after pruning emptied the log; the
/// counter also makes the numbers dense (a rolled-back batch rolls its numbers back too), which
/// is how a watcher tells a gap (rows pruned before it read them) from a quiet spell.
pub(crate) fn last_seq(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'seat_changes'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Up to `limit` changes after `after`, oldest first.
pub(crate) fn since(conn: &Connection, after: i64, limit: i64) -> rusqlite::Result<Vec<SeatChangeRow>> {
    conn.prepare_cached("SELECT seq, showtime_id, origin FROM seat_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2")?
        .query_map(params![after, limit], |r| {
            Ok(SeatChangeRow { seq: r.get(0)?, showtime: ShowtimeId(r.get(1)?), origin: Origin(r.get(2)?) })
        })?
        .collect()
}

/// Deletes the changes older than [`KEEP_FOR`] at `now` or beyond the newest [`KEEP_ROWS`],
/// inside the caller's transaction. Looks at the oldest row first (one index step) and deletes
/// only when it is due, so calling it often is cheap. Returns how many rows went.
pub(crate) fn prune(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    let old = now - KEEP_FOR.num_seconds();
    let oldest: Option<(i64, i64)> = conn
        .prepare_cached("SELECT seq, at FROM seat_changes ORDER BY seq LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((first, first_at)) = oldest else { return Ok(0) };
    let keep_from = last_seq(conn)? - KEEP_ROWS;
    if first_at >= old && first > keep_from {
        return Ok(0);
    }
    // Rows are appended with the clock's time, so age follows the sequence: delete a prefix.
    let old_until: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM seat_changes WHERE at < ?1")?
        .query_row([old], |r| r.get(0))?;
    conn.prepare_cached("DELETE FROM seat_changes WHERE seq <= ?1")?.execute([old_until.max(keep_from)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE seat_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, showtime_id TEXT NOT NULL,
             origin INTEGER NOT NULL, at INTEGER NOT NULL) STRICT;",
        )
        .unwrap();
        conn
    }

    #[test]
    fn changes_read_back_in_order_and_pruning_keeps_the_recent_ones() {
        let conn = log();
        let (a, b) = (Origin(1), Origin(2));
        let hour = KEEP_FOR.num_seconds();
        record(&conn, &[ShowtimeId("s1".into()), ShowtimeId("s2".into())], a, 1000).unwrap();
        record(&conn, &[ShowtimeId("s3".into())], b, 1000 + hour).unwrap();
        assert_eq!(last_seq(&conn).unwrap(), 3);
        let rows = since(&conn, 1, 10).unwrap();
        assert_eq!(rows.iter().map(|r| (r.seq, r.origin)).collect::<Vec<_>>(), [(2, a), (3, b)]);
        assert_eq!(rows[1].showtime.as_str(), "s3");
        assert_eq!(prune(&conn, 1000 + hour).unwrap(), 0, "nothing is an hour old yet");
        assert_eq!(prune(&conn, 1001 + hour).unwrap(), 2, "the first two are");
        assert_eq!(since(&conn, 0, 10).unwrap().iter().map(|r| r.seq).collect::<Vec<_>>(), [3]);
        assert_eq!(prune(&conn, 1001 + 2 * hour).unwrap(), 1);
        assert_eq!(last_seq(&conn).unwrap(), 3, "numbers go on after the log was emptied");
        record(&conn, &[ShowtimeId("s4".into())], a, 1001 + 2 * hour).unwrap();
        assert_eq!(since(&conn, 3, 10).unwrap()[0].seq, 4);
    }

    #[test]
    fn pruning_bounds_the_rows_whatever_their_age() {
        let conn = log();
        let showtimes: Vec<_> = (0..KEEP_ROWS + 10).map(|i| ShowtimeId(format!("s{i}"))).collect();
        record(&conn, &showtimes, Origin(1), 5000).unwrap();
        assert_eq!(prune(&conn, 5000).unwrap(), 10);
        assert_eq!(since(&conn, 0, 1).unwrap()[0].seq, 11);
        assert_eq!(prune(&conn, 5000).unwrap(), 0);
    }
}
