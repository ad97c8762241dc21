//! The taken seats of recently asked-for showtimes, kept in memory by a store.
//!
//! Seat maps are the busiest read by far, and each one read from the database costs a thread
//! hand-off or a round trip that dwarfs the query. A store keeps this index right two ways:
//! its own commits are applied here after COMMIT and before it answers anyone ([`SeatIndex::apply`]),
//! and every other writer's commits evict the showtimes they touched ([`SeatIndex::evict`]), to
//! be read again on the next miss. Who tells of those: for SQLite, the store's watcher thread
//! (`sqlite/watcher.rs`), which notices other connections' commits through `PRAGMA
//! data_version` and reads which showtimes they changed from the `seat_changes` log that every
//! booking batch writes in its own transaction; for PostgreSQL, its `LISTEN` connection. A reader that misses
//! loads the showtime from the database and may add it only if nothing was applied or evicted
//! since it started reading (the generation check), so a fill never overwrites a newer commit.
//!
//! A `roll` archiving a showtime is not seen here; that is harmless: a roll archives only
//! showtimes that have started, and the booking rules refuse a started showtime by its start
//! time whatever the flag says; bookings themselves are always decided in the database.

use std::collections::{BTreeSet, HashMap};

use std::sync::RwLock;

use crate::booking::record::ShowtimeSeats;
use crate::schedule::Showtime;

/// What one committed command did to one seat of a showtime: taken (true) or freed (false).
/// A batch's changes are applied in commit order, so a seat freed and retaken in one batch
/// ends up taken.
pub(crate) type SeatChange = (String, String, bool);

#[derive(Default)]
pub(crate) struct SeatIndex {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every commit that changed seats.
    generation: u64,
    showtimes: HashMap<String, Entry>,
}

struct Entry {
    showtime: Showtime,
    taken: BTreeSet<String>,
}

impl SeatIndex {
    pub(crate) fn get(&self, id: &str) -> Option<ShowtimeSeats> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.showtimes.get(id).map(|e| ShowtimeSeats {
            showtime: e.showtime.clone(),
            taken: e.taken.iter().cloned().collect(),
            held: Vec::new(),
        })
    }

    pub(crate) fn generation(&self) -> u64 {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).generation
    }

    /// Adds a showtime read from the database when the read began at `generation`, unless a
    /// commit has happened since (the read may then be older than the index).
    pub(crate) fn fill(&self, generation: u64, seats: &ShowtimeSeats) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        // Entries for showtimes long over are dropped here, so the index stays the size of the
        // horizon on a service that runs for months.
        let stale = chrono::Utc::now() - chrono::Duration::days(1);
        inner.showtimes.retain(|_, e| e.showtime.ends_at > stale);
        if inner.generation == generation {
            inner.showtimes.entry(seats.showtime.id.0.clone()).or_insert_with(|| Entry {
                showtime: seats.showtime.clone(),
                taken: seats.taken.iter().cloned().collect(),
            });
        }
    }

    /// Forgets these showtimes (another writer changed their seats); the next read reloads them.
    pub(crate) fn evict<'a>(&self, showtimes: impl IntoIterator<Item = &'a str>) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.generation += 1;
        for id in showtimes {
            inner.showtimes.remove(id);
        }
    }

    /// Forgets everything (changes were missed).
    pub(crate) fn clear(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.generation += 1;
        inner.showtimes.clear();
    }

    /// Applies a committed batch. Called by the writer after COMMIT, before it answers.
    pub(crate) fn apply(&self, changes: Vec<SeatChange>) {
        if changes.is_empty() {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.generation += 1;
        for (showtime, seat, taken) in changes {
            if let Some(entry) = inner.showtimes.get_mut(&showtime) {
                if taken {
                    entry.taken.insert(seat);
                } else {
                    entry.taken.remove(&seat);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn seats(taken: &[&str]) -> ShowtimeSeats {
        let starts = Utc.with_ymd_and_hms(2999, 1, 1, 10, 0, 0).unwrap();
        ShowtimeSeats {
            showtime: Showtime::for_test("s", starts),
            taken: taken.iter().map(|s| s.to_string()).collect(),
            held: Vec::new(),
        }
    }

    #[test]
    fn a_fill_older_than_a_commit_is_dropped_and_commits_apply_in_order() {
        let index = SeatIndex::default();
        let before = index.generation();
        index.apply(vec![("s".into(), "A1".into(), true)]);
        index.fill(before, &seats(&[]));
        assert!(index.get("s").is_none(), "the read may predate the commit");
        index.fill(index.generation(), &seats(&["A1"]));
        index.apply(vec![
            ("s".into(), "A1".into(), false),
            ("s".into(), "A1".into(), true),
            ("s".into(), "A2".into(), true),
            ("s".into(), "A2".into(), false),
        ]);
        assert_eq!(index.get("s").unwrap().taken, ["A1"]);
        let before = index.generation();
        index.evict(["s"]);
        assert!(index.get("s").is_none(), "evicted");
        index.fill(before, &seats(&["A1", "A2"]));
        assert!(index.get("s").is_none(), "a read from before the eviction may be stale");
    }
}
