//! A showtime's seats as a live stream shows them: which are taken, which are held, and a
//! version that names exactly that state.
//!
//! The version is a hash of the two sets, not a counter: two instances that read the same seats
//! give the same version, so a page whose stream moves to another instance (the first one
//! stopped) resumes there without a needless snapshot, and a counter kept in one process's
//! memory could not mean anything to another. Who holds or took a seat is never part of it.

use std::collections::BTreeSet;

use cinema::booking::ShowtimeSeats;
use serde::Serialize;

/// The seats of one open showtime at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatState {
    taken: BTreeSet<String>,
    /// Held and not taken.
    held: BTreeSet<String>,
    seats_free: usize,
    version: String,
}

/// The first event of a stream: the whole state.
#[derive(Debug, Serialize)]
pub struct Snapshot<'a> {
    pub taken: &'a BTreeSet<String>,
    pub held: &'a BTreeSet<String>,
    pub seats_free: usize,
}

/// What changed between two states: every list is always present, empty or not.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Newly taken (free or held before).
    pub taken: Vec<String>,
    /// Newly held (free before).
    pub held: Vec<String>,
    /// Newly free (taken or held before).
    pub freed: Vec<String>,
}

impl SeatState {
    /// The state of `seats` (already filtered to a moment, see [`ShowtimeSeats::at`]) in a room
    /// of `seat_count` seats.
    pub fn of(seats: &ShowtimeSeats, seat_count: usize) -> Self {
        let taken: BTreeSet<String> = seats.taken.iter().cloned().collect();
        let held: BTreeSet<String> =
            seats.held.iter().map(|h| h.seat.clone()).filter(|seat| !taken.contains(seat)).collect();
        let version = version(&taken, &held);
        SeatState { seats_free: seat_count.saturating_sub(taken.len()), taken, held, version }
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot { taken: &self.taken, held: &self.held, seats_free: self.seats_free }
    }

    /// What a page that shows `self` must change to show `newer`; `None` when nothing.
    pub fn change_to(&self, newer: &SeatState) -> Option<Change> {
        let taken: Vec<String> = newer.taken.difference(&self.taken).cloned().collect();
        let held: Vec<String> = newer.held.difference(&self.held).cloned().collect();
        let freed: Vec<String> = self
            .taken
            .iter()
            .chain(&self.held)
            .filter(|seat| !newer.taken.contains(*seat) && !newer.held.contains(*seat))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let change = Change { taken, held, freed };
        (change != Change::default()).then_some(change)
    }
}

/// 16 hex digits of a BLAKE3 hash of both sets (seat ids never contain `,` or `;`).
fn version(taken: &BTreeSet<String>, held: &BTreeSet<String>) -> String {
    let mut hasher = blake3::Hasher::new();
    for seat in taken {
        hasher.update(seat.as_bytes());
        hasher.update(b",");
    }
    hasher.update(b";");
    for seat in held {
        hasher.update(seat.as_bytes());
        hasher.update(b",");
    }
    hasher.finalize().to_hex()[..16].to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use cinema::booking::HeldSeat;
    use cinema::schedule::{Showtime, ShowtimeId};

    use super::*;

    fn seats(taken: &[&str], held: &[&str]) -> SeatState {
        let expires_at = Utc::now() + Duration::minutes(5);
        let seats = ShowtimeSeats {
            showtime: Showtime {
                id: ShowtimeId("x".into()),
                film_slug: "f".into(),
                studio: 1,
                local_date: expires_at.date_naive(),
                slot: expires_at.time(),
                starts_at: expires_at,
                ends_at: expires_at,
                archived: false,
            },
            taken: taken.iter().map(|s| s.to_string()).collect(),
            held: held.iter().map(|s| HeldSeat { seat: s.to_string(), expires_at }).collect(),
        };
        SeatState::of(&seats, 100)
    }

    fn list(seats: &[&str]) -> Vec<String> {
        seats.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_change_names_newly_taken_newly_held_and_newly_free_seats() {
        let before = seats(&["A1", "A2"], &["B1", "B2"]);
        let after = seats(&["A1", "B1", "C1"], &["B2", "D1"]);
        let change = before.change_to(&after).unwrap();
        assert_eq!(change, Change { taken: list(&["B1", "C1"]), held: list(&["D1"]), freed: list(&["A2"]) });
        assert_eq!(after.change_to(&after), None, "the same state changes nothing");
        assert_eq!(after.snapshot().seats_free, 97);
    }

    #[test]
    fn the_version_names_the_sets_whatever_their_order_and_a_taken_seat_is_not_held() {
        assert_eq!(seats(&["A2", "A1"], &["B1"]).version(), seats(&["A1", "A2"], &["B1"]).version());
        assert_ne!(seats(&["A1"], &["B1"]).version(), seats(&["A1", "B1"], &[]).version());
        assert_ne!(seats(&["A1"], &[]).version(), seats(&[], &["A1"]).version());
        let both = seats(&["A1"], &["A1"]);
        assert!(both.snapshot().held.is_empty());
        assert_eq!(both.version(), seats(&["A1"], &[]).version());
    }
}
