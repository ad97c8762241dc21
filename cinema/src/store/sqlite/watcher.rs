//! The watcher: keeps a store's seat index true when other processes write the same file.
//!
//! A thread with a connection of its own asks SQLite every [`POLL`] whether anyone else
//! committed (`PRAGMA data_version` changes only when another connection did, and costs no
//! disk I/O while nothing changed). When something was, it reads the change log past its
//! cursor ([`super::seat_changes`]): showtimes changed by other origins are evicted from the
//! [`SeatIndex`] (the next read loads them again) and then published on the store's
//! [`ChangeFeed`], so a subscriber that reads after the message sees the new seats. The store's
//! own commits are skipped: its writer applied and published them before answering. Holds and
//! releases are logged like bookings, so other processes learn of them the same way; a hold
//! that simply expires writes nothing and needs no telling (readers drop it by the clock).
//!
//! Its reads hold the store's [`ReadGate`] like the read pool's do, and each is one short
//! statement, so the writer's log truncation is never kept waiting by it. It stops when
//! `stop`'s sender is dropped (the store's `close`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;

use super::bookings_wal::ReadGate;
use super::seat_changes::{self, Origin};
use super::{OpenMode, backend, open_connection};
use crate::store::seat_cache::SeatIndex;
use crate::store::{ChangeFeed, StoreError};

/// How often the watcher asks whether another connection committed: well under the second
/// within which a seat taken elsewhere must show, and cheap enough to do forever.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// How many log rows one read takes at most (a burst is read in several).
const PAGE: i64 = 1024;

/// What the watcher keeps true, and where it tells.
pub(crate) struct Watcher {
    conn: Connection,
    origin: Origin,
    seats: Arc<SeatIndex>,
    feed: ChangeFeed,
    gate: ReadGate,
    /// The last log row read.
    cursor: i64,
    /// `PRAGMA data_version` when the log was last read.
    version: i64,
}

impl Watcher {
    /// Opens the watcher's connection and starts its cursor at the log's end (the index holds
    /// nothing yet, so nothing before now can make it stale).
    pub(crate) fn open(
        path: &Path,
        origin: Origin,
        seats: Arc<SeatIndex>,
        feed: ChangeFeed,
        gate: ReadGate,
    ) -> Result<Self, StoreError> {
        let conn = open_connection(path, OpenMode::Existing)?;
        conn.execute_batch("PRAGMA query_only = ON").map_err(backend)?;
        let version = data_version(&conn).map_err(backend)?;
        let cursor = seat_changes::last_seq(&conn).map_err(backend)?;
        Ok(Watcher { conn, origin, seats, feed, gate, cursor, version })
    }

    /// Polls until `stop`'s sender is dropped.
    pub(crate) fn run(mut self, stop: Receiver<()>) {
        let mut failing = false;
        loop {
            match stop.recv_timeout(POLL) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            match self.poll() {
                Ok(()) if failing => {
                    tracing::info!("the seat change log reads again; the seat cache is in use again");
                    failing = false;
                }
                Ok(()) => {}
                Err(e) => {
                    // The index may now lie about other writers' seats: forget it rather than
                    // serve it (reads go to the database meanwhile), and try again next round.
                    if !failing {
                        tracing::warn!(
                            "cannot read the seat change log: {e}; seat maps are read from the database until it reads again"
                        );
                    }
                    if !failing {
                        self.feed.missed();
                    }
                    failing = true;
                    self.seats.clear();
                }
            }
        }
    }

    /// One round: reads the log if another connection committed since the last round.
    fn poll(&mut self) -> rusqlite::Result<()> {
        let version = {
            let _reading = self.gate.read().unwrap_or_else(|p| p.into_inner());
            data_version(&self.conn)?
        };
        if version == self.version {
            return Ok(());
        }
        self.read_log()?;
        // Only once the log was read: after a failed read the next round reads it again.
        self.version = version;
        Ok(())
    }

    /// Reads the log past the cursor, evicting and telling what other origins changed.
    fn read_log(&mut self) -> rusqlite::Result<()> {
        loop {
            let rows = {
                let _reading = self.gate.read().unwrap_or_else(|p| p.into_inner());
                seat_changes::since(&self.conn, self.cursor, PAGE)?
            };
            let Some(last) = rows.last() else { return Ok(()) };
            if rows[0].seq > self.cursor + 1 {
                // Rows this watcher never read were pruned: any showtime may be stale.
                tracing::warn!(
                    "the seat change log was pruned past this store's cursor ({} < {}); the seat cache was cleared",
                    self.cursor,
                    rows[0].seq
                );
                self.seats.clear();
                self.feed.missed();
            }
            self.cursor = last.seq;
            let others: BTreeSet<_> = rows.iter().filter(|r| r.origin != self.origin).map(|r| &r.showtime).collect();
            if !others.is_empty() {
                self.seats.evict(others.iter().map(|s| s.as_str()));
                others.into_iter().for_each(|showtime| self.feed.publish(showtime.clone()));
            }
            if (rows.len() as i64) < PAGE {
                return Ok(());
            }
        }
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::booking::record::ShowtimeSeats;
    use crate::schedule::{Showtime, ShowtimeId};
    use crate::store::changes::{Received, SeatsChanged};

    fn seats(id: &str) -> ShowtimeSeats {
        let starts = Utc.with_ymd_and_hms(2999, 1, 1, 3, 0, 0).unwrap();
        ShowtimeSeats { showtime: Showtime::for_test(id, starts), taken: vec!["A1".into()], held: Vec::new() }
    }

    fn log(conn: &Connection, showtime: &str, origin: Origin) {
        seat_changes::record(conn, &[ShowtimeId(showtime.into())], origin, Utc::now().timestamp()).unwrap();
    }

    #[tokio::test]
    async fn other_origins_changes_evict_and_are_told_once_and_own_ones_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = open_connection(&path, OpenMode::Create).unwrap();
        let (own, other) = (Origin(1), Origin(2));
        let (index, feed) = (Arc::new(SeatIndex::default()), ChangeFeed::default());
        let mut watcher = Watcher::open(&path, own, index.clone(), feed.clone(), ReadGate::default()).unwrap();
        let mut told = feed.subscribe();
        for id in ["mine", "theirs", "untouched"] {
            index.fill(index.generation(), &seats(id));
        }

        log(&writer, "mine", own);
        log(&writer, "theirs", other);
        log(&writer, "theirs", other);
        watcher.poll().unwrap();
        assert!(index.get("theirs").is_none(), "another writer's change evicts");
        assert!(index.get("mine").is_some() && index.get("untouched").is_some(), "nothing else is evicted");
        feed.publish(ShowtimeId("end".into()));
        let changed = |id: &str| Received::Changed(SeatsChanged { showtime: ShowtimeId(id.into()) });
        assert_eq!(told.recv().await, changed("theirs"), "told once per showtime per read");
        assert_eq!(told.recv().await, changed("end"), "own changes are not told again");

        // Nothing committed since: nothing is read or told.
        index.fill(index.generation(), &seats("theirs"));
        watcher.poll().unwrap();
        assert!(index.get("theirs").is_some());

        // Rows this watcher never read were pruned: it forgets everything.
        log(&writer, "theirs", other);
        log(&writer, "theirs", other);
        writer.execute("DELETE FROM seat_changes WHERE seq = (SELECT max(seq) - 1 FROM seat_changes)", []).unwrap();
        watcher.poll().unwrap();
        assert!(index.get("mine").is_none() && index.get("untouched").is_none(), "a gap clears the index");

        // A log that cannot be read is read again next round, not skipped as seen.
        writer.execute_batch("ALTER TABLE seat_changes RENAME TO moved").unwrap();
        assert!(watcher.poll().is_err());
        assert!(watcher.poll().is_err(), "retried");
        writer.execute_batch("ALTER TABLE moved RENAME TO seat_changes").unwrap();
        log(&writer, "theirs", other);
        index.fill(index.generation(), &seats("theirs"));
        watcher.poll().unwrap();
        assert!(index.get("theirs").is_none(), "read again once it could be");
    }
}
