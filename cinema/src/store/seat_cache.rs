//! The taken and held seats of recently asked-for showtimes, kept in memory by a store.
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
//! Holds are kept as their rows are, ended or not, each seat with its expiry: a hold ends by the
//! clock, not by a write, so readers drop ended ones at their own `now` ([`ShowtimeSeats::at`])
//! and nothing here needs a timer.
//!
//! A `roll` archiving a started showtime is not seen here; that is harmless: the booking rules
//! refuse a started showtime by its start time whatever the flag says, and bookings themselves
//! are always decided in the database. A roll *retiring* a showtime that has not started (its
//! film or slot gone from the content) is seen: the rolling store evicts it at once and tells
//! every other reader through the change feed, so a retired showtime's seat map stops answering.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use std::sync::RwLock;

use chrono::{DateTime, Utc};

use crate::booking::HeldSeat;
use crate::booking::record::ShowtimeSeats;
use crate::schedule::Showtime;

/// What one committed command did to one seat of a showtime: taken (true) or freed (false).
/// A batch's changes are applied in commit order, so a seat freed and retaken in one batch
/// ends up taken.
pub(crate) type SeatChange = (String, String, bool);

/// What one committed command did to one seat's hold on a showtime: held until this moment
/// (`Some`), or its row deleted (`None`). A held seat has one row, so a later change replaces
/// an earlier one.
pub(crate) type HoldChange = (String, String, Option<DateTime<Utc>>);

/// Everything one commit did to seats, in commit order within each kind (bookings and holds
/// are kept apart, so their relative order does not matter).
#[derive(Debug, Default)]
pub(crate) struct SeatChanges {
    pub(crate) seats: Vec<SeatChange>,
    pub(crate) holds: Vec<HoldChange>,
}

impl SeatChanges {
    pub(crate) fn is_empty(&self) -> bool {
        self.seats.is_empty() && self.holds.is_empty()
    }

    pub(crate) fn append(&mut self, other: &mut SeatChanges) {
        self.seats.append(&mut other.seats);
        self.holds.append(&mut other.holds);
    }

    /// The showtimes changed, each once, sorted.
    pub(crate) fn showtimes(&self) -> Vec<&str> {
        let seats = self.seats.iter().map(|(showtime, _, _)| showtime.as_str());
        let holds = self.holds.iter().map(|(showtime, _, _)| showtime.as_str());
        let all: BTreeSet<&str> = seats.chain(holds).collect();
        all.into_iter().collect()
    }
}

/// The fewest entries an index sweeps at: below it, a sweep costs nothing worth saving.
const SWEEP_FLOOR: usize = 64;

#[derive(Default)]
pub(crate) struct SeatIndex {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every commit that changed seats.
    generation: u64,
    showtimes: HashMap<String, Entry>,
    /// How many entries there were after showtimes long over were last dropped: the next
    /// sweep waits until the index has doubled (see [`SeatIndex::fill`]).
    swept_at_len: usize,
}

struct Entry {
    showtime: Showtime,
    taken: BTreeSet<String>,
    /// Every hold row, ended or not: seat id to expiry.
    held: BTreeMap<String, DateTime<Utc>>,
}

impl SeatIndex {
    pub(crate) fn get(&self, id: &str) -> Option<ShowtimeSeats> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.showtimes.get(id).map(|e| ShowtimeSeats {
            showtime: e.showtime.clone(),
            taken: e.taken.iter().cloned().collect(),
            held: e.held.iter().map(|(seat, &expires_at)| HeldSeat { seat: seat.clone(), expires_at }).collect(),
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
        // horizon on a service that runs for months. Only when the index has doubled since the
        // last sweep: a sweep visits every entry under the write lock, and sweeping on every
        // miss made warming a 165,000-showtime index quadratic and every miss stall all
        // readers (issue 13). Doubling keeps the sweeps' cost linear in the fills overall.
        if inner.showtimes.len() >= (2 * inner.swept_at_len).max(SWEEP_FLOOR) {
            let stale = chrono::Utc::now() - chrono::Duration::days(1);
            inner.showtimes.retain(|_, e| e.showtime.ends_at > stale);
            inner.swept_at_len = inner.showtimes.len();
        }
        if inner.generation == generation {
            inner.showtimes.entry(seats.showtime.id.0.clone()).or_insert_with(|| Entry {
                showtime: seats.showtime.clone(),
                taken: seats.taken.iter().cloned().collect(),
                held: seats.held.iter().map(|h| (h.seat.clone(), h.expires_at)).collect(),
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

    /// Applies a committed batch's bookings and cancels. Called by the writer after COMMIT,
    /// before it answers.
    pub(crate) fn apply(&self, changes: Vec<SeatChange>) {
        self.apply_all(SeatChanges { seats: changes, holds: Vec::new() });
    }

    /// Applies a committed batch: bookings, cancels and holds. Called by the writer after
    /// COMMIT, before it answers.
    pub(crate) fn apply_all(&self, changes: SeatChanges) {
        if changes.is_empty() {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.generation += 1;
        for (showtime, seat, taken) in changes.seats {
            if let Some(entry) = inner.showtimes.get_mut(&showtime) {
                if taken {
                    entry.taken.insert(seat);
                } else {
                    entry.taken.remove(&seat);
                }
            }
        }
        for (showtime, seat, until) in changes.holds {
            if let Some(entry) = inner.showtimes.get_mut(&showtime) {
                match until {
                    Some(expires_at) => entry.held.insert(seat, expires_at),
                    None => entry.held.remove(&seat),
                };
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

    fn show(id: &str, starts: DateTime<Utc>) -> ShowtimeSeats {
        ShowtimeSeats { showtime: Showtime::for_test(id, starts), taken: Vec::new(), held: Vec::new() }
    }

    #[test]
    fn showtimes_long_over_are_swept_when_the_index_doubles_not_on_every_fill() {
        let index = SeatIndex::default();
        let over = Utc::now() - chrono::Duration::days(30);
        let ahead = Utc::now() + chrono::Duration::days(1);
        for i in 0..SWEEP_FLOOR - 1 {
            index.fill(index.generation(), &show(&format!("old-{i}"), over));
        }
        assert!(index.get("old-0").is_some(), "no sweep below the floor");
        index.fill(index.generation(), &show("new-0", ahead));
        // The 64th fill swept before adding: the old ones are gone, the new one kept.
        index.fill(index.generation(), &show("new-1", ahead));
        assert!(index.get("old-0").is_none() && index.get("old-62").is_none(), "swept at the floor");
        assert!(index.get("new-0").is_some() && index.get("new-1").is_some());
        // Now holding 2 entries, the next sweep waits for the floor again, then for doubling.
        for i in 0..200 {
            index.fill(index.generation(), &show(&format!("live-{i}"), ahead));
        }
        let len = index.inner.read().unwrap().showtimes.len();
        assert_eq!(len, 202, "live showtimes are never swept");
        let swept_at = index.inner.read().unwrap().swept_at_len;
        assert!((64..202).contains(&swept_at), "the last sweep was at {swept_at} entries, not at every fill");
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

    #[test]
    fn holds_are_filled_and_applied_by_seat_and_kept_until_deleted() {
        let index = SeatIndex::default();
        let (early, late) =
            (Utc.with_ymd_and_hms(2999, 1, 1, 9, 0, 0).unwrap(), Utc.with_ymd_and_hms(2999, 1, 1, 9, 10, 0).unwrap());
        let mut filled = seats(&["A1"]);
        filled.held = vec![HeldSeat { seat: "B2".into(), expires_at: early }];
        index.fill(index.generation(), &filled);
        assert_eq!(index.get("s").unwrap(), filled, "as read");
        let hold = |seat: &str, until| ("s".to_string(), seat.to_string(), until);
        let before = index.generation();
        index.apply_all(SeatChanges {
            seats: vec![("s".into(), "C3".into(), true)],
            holds: vec![
                hold("B1", Some(late)),
                hold("B2", None),
                hold("B3", Some(late)),
                hold("B2", Some(late)),
                hold("B3", None),
            ],
        });
        assert!(index.generation() > before, "a hold is a commit a fill must not overwrite");
        let got = index.get("s").unwrap();
        assert_eq!(got.taken, ["A1", "C3"]);
        let held: Vec<_> = got.held.iter().map(|h| (h.seat.as_str(), h.expires_at)).collect();
        assert_eq!(held, [("B1", late), ("B2", late)], "by seat id, the last change of each seat wins");
        assert_eq!(got.clone().at(late).held, [], "ended holds stay in the index; readers drop them");
    }
}
