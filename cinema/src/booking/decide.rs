//! The booking decisions: plain functions from facts to a decision.
//!
//! A store gathers the facts inside its transaction (the showtime, the requested seats already
//! held, an earlier use of the idempotency key, the stored token hash), asks here what to do,
//! and applies the answer in the same transaction. So every store decides alike, the rules are
//! tested without a database, and a store holds only the "how" of reading and writing.
//! The database keeps the last word on races a decision cannot see (a unique index over the
//! active seats, a unique reference), and the store reports those as the same outcomes.

use chrono::{DateTime, Utc};

use super::record::{NewBooking, PlaceOutcome};
use super::{Fingerprint, ManageToken, TokenHash};
use crate::schedule::Showtime;

/// Whether a showtime can no longer be booked or changed: archived, or started by `now`.
pub fn is_closed(showtime: &Showtime, now: DateTime<Utc>) -> bool {
    showtime.archived || showtime.has_started(now)
}

/// An earlier request that used the same idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlierUse {
    pub fingerprint: Fingerprint,
}

/// What a store knows, inside its transaction, when asked to place a booking.
#[derive(Debug, Clone, Copy)]
pub struct PlaceFacts<'a> {
    /// This request's fingerprint, if it carries an idempotency key.
    pub fingerprint: Option<Fingerprint>,
    /// The earlier use of the key, if any (only looked up for a keyed request).
    pub earlier: Option<EarlierUse>,
    /// The showtime, if it exists (archived or not).
    pub showtime: Option<&'a Showtime>,
    /// The requested seats already held by active bookings, in request order.
    pub taken: &'a [String],
    pub now: DateTime<Utc>,
}

impl<'a> PlaceFacts<'a> {
    /// The facts about `booking`: its key's earlier use (that request's fingerprint), its
    /// showtime, and its requested seats already held.
    pub fn of(
        booking: &NewBooking,
        earlier: Option<Fingerprint>,
        showtime: Option<&'a Showtime>,
        taken: &'a [String],
    ) -> Self {
        PlaceFacts {
            fingerprint: booking.idempotency.map(|i| i.fingerprint),
            earlier: earlier.map(|fingerprint| EarlierUse { fingerprint }),
            showtime,
            taken,
            now: booking.now,
        }
    }
}

/// What to do with a booking request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceDecision {
    /// Write the booking, its seats and its key.
    Insert,
    /// Answer with the booking the key made before; write nothing.
    Replay,
    KeyReused,
    ShowtimeNotFound,
    ShowtimeClosed,
    SeatsTaken(Vec<String>),
}

impl PlaceDecision {
    /// The answer to a refusal, which writes nothing; `None` for `Insert` and `Replay`, which
    /// need the store's own work.
    pub fn refusal(&self) -> Option<PlaceOutcome> {
        match self {
            PlaceDecision::Insert | PlaceDecision::Replay => None,
            PlaceDecision::KeyReused => Some(PlaceOutcome::KeyReused),
            PlaceDecision::ShowtimeNotFound => Some(PlaceOutcome::ShowtimeNotFound),
            PlaceDecision::ShowtimeClosed => Some(PlaceOutcome::ShowtimeClosed),
            PlaceDecision::SeatsTaken(seats) => Some(PlaceOutcome::SeatsTaken(seats.clone())),
        }
    }
}

/// Decides a booking request. The key comes first: a retry gets its booking back even after
/// the showtime has started or its seats have changed hands.
pub fn place(facts: PlaceFacts<'_>) -> PlaceDecision {
    if let (Some(earlier), Some(fingerprint)) = (facts.earlier, facts.fingerprint) {
        return if earlier.fingerprint == fingerprint { PlaceDecision::Replay } else { PlaceDecision::KeyReused };
    }
    match facts.showtime {
        None => PlaceDecision::ShowtimeNotFound,
        Some(s) if is_closed(s, facts.now) => PlaceDecision::ShowtimeClosed,
        Some(_) if !facts.taken.is_empty() => PlaceDecision::SeatsTaken(facts.taken.to_vec()),
        Some(_) => PlaceDecision::Insert,
    }
}

/// Whether `token` proves ownership of a booking whose stored hash is `stored` (`None`: no
/// such reference). Always does the same work, so an unknown reference and a wrong token
/// cannot be told apart by timing; a store must look up only the hash before calling this.
pub fn owns(token: &ManageToken, stored: Option<&TokenHash>) -> bool {
    token.verify(stored)
}

/// What a store knows about a booking to cancel, once [`owns`] said the token is its owner's.
#[derive(Debug, Clone, Copy)]
pub struct CancelFacts<'a> {
    pub cancelled: bool,
    /// The booking's showtime as it is now.
    pub showtime: &'a Showtime,
    pub now: DateTime<Utc>,
}

/// What to do with a cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelDecision {
    /// Mark the booking cancelled and free its seats.
    Cancel,
    /// Cancelled before: answer with the booking as it is (cancelling twice is not an error).
    AlreadyCancelled,
    /// No booking, or not the owner's token: the same answer for both.
    NotFound,
    ShowtimeClosed,
}

/// Decides a cancellation. `facts` is `None` when [`owns`] refused (or the reference is unknown).
pub fn cancel(facts: Option<CancelFacts<'_>>) -> CancelDecision {
    match facts {
        None => CancelDecision::NotFound,
        Some(f) if f.cancelled => CancelDecision::AlreadyCancelled,
        Some(f) if is_closed(f.showtime, f.now) => CancelDecision::ShowtimeClosed,
        Some(_) => CancelDecision::Cancel,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn show(starts_hour: u32, archived: bool) -> Showtime {
        let starts = Utc.with_ymd_and_hms(2026, 11, 24, starts_hour, 0, 0).unwrap();
        Showtime { archived, ..Showtime::for_test("s", starts) }
    }

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, hour, minute, 0).unwrap()
    }

    const A: Fingerprint = Fingerprint([1; 32]);
    const B: Fingerprint = Fingerprint([2; 32]);

    #[test]
    // The table's row type is long because it is the table's header.
    #[allow(clippy::type_complexity)]
    fn place_decisions() {
        let open = show(10, false);
        let archived = show(10, true);
        let none: &[String] = &[];
        let a1 = ["A1".to_string()];
        let earlier = |f| Some(EarlierUse { fingerprint: f });
        use PlaceDecision::*;
        /// What the case is, the request's fingerprint, the earlier use, the showtime, the
        /// requested seats already taken, the time, and the decision wanted.
        type Case<'a> = (
            &'a str,
            Option<Fingerprint>,
            Option<EarlierUse>,
            Option<&'a Showtime>,
            &'a [String],
            DateTime<Utc>,
            PlaceDecision,
        );
        #[rustfmt::skip]
        let table: &[Case<'_>] = &[
            ("a free seat of an open showtime",     None,    None,      Some(&open),     none, at(9, 0),  Insert),
            ("a new key",                           Some(A), None,      Some(&open),     none, at(9, 0),  Insert),
            ("the same key, the same request",      Some(A), earlier(A), Some(&open),    none, at(9, 0),  Replay),
            ("a replay after the showtime started", Some(A), earlier(A), Some(&open),    &a1,  at(11, 0), Replay),
            ("the same key, another request",       Some(A), earlier(B), Some(&open),    none, at(9, 0),  KeyReused),
            ("no such showtime",                    None,    None,      None,            none, at(9, 0),  ShowtimeNotFound),
            ("one minute after the start",          None,    None,      Some(&open),     none, at(10, 1), ShowtimeClosed),
            ("exactly at the start",                None,    None,      Some(&open),     none, at(10, 0), ShowtimeClosed),
            ("archived, whatever the clock says",   None,    None,      Some(&archived), none, at(9, 0),  ShowtimeClosed),
            ("a seat held by another booking",      None,    None,      Some(&open),     &a1,  at(9, 0),  SeatsTaken(a1.to_vec())),
            ("closed wins over taken",              None,    None,      Some(&open),     &a1,  at(10, 30), ShowtimeClosed),
        ];
        for (what, fingerprint, earlier, showtime, taken, now, want) in table {
            let got = place(PlaceFacts {
                fingerprint: *fingerprint,
                earlier: *earlier,
                showtime: *showtime,
                taken,
                now: *now,
            });
            assert_eq!(&got, want, "{what}");
        }
    }

    #[test]
    fn cancel_decisions() {
        let open = show(10, false);
        let archived = show(10, true);
        use CancelDecision::*;
        let facts = |cancelled, showtime, now| Some(CancelFacts { cancelled, showtime, now });
        #[rustfmt::skip]
        let table: &[(&str, Option<CancelFacts<'_>>, CancelDecision)] = &[
            ("the owner, before the start",        facts(false, &open, at(9, 59)),     Cancel),
            ("cancelling twice",                   facts(true, &open, at(9, 0)),       AlreadyCancelled),
            ("cancelled, after the start",         facts(true, &open, at(11, 0)),      AlreadyCancelled),
            ("after the start",                    facts(false, &open, at(10, 0)),     ShowtimeClosed),
            ("archived",                           facts(false, &archived, at(9, 0)),  ShowtimeClosed),
            ("a wrong token or an unknown reference", None,                             NotFound),
        ];
        for (what, facts, want) in table {
            assert_eq!(cancel(*facts), *want, "{what}");
        }
    }

    #[test]
    fn only_the_owners_token_owns_a_booking() {
        let mut rng = rand::rng();
        let token = ManageToken::generate(&mut rng);
        let other = ManageToken::generate(&mut rng);
        assert!(owns(&token, Some(&token.hash())));
        assert!(!owns(&other, Some(&token.hash())));
        assert!(!owns(&token, None), "an unknown reference is owned by nobody");
    }
}
