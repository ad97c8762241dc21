//! The booking decisions: plain functions from facts to a decision.
//!
//! A store gathers the facts inside its transaction (the showtime, the requested seats already
//! held, an earlier use of the idempotency key, the stored token hash), asks here what to do,
//! and applies the answer in the same transaction. So every store decides alike, the rules are
//! tested without a database, and a store holds only the "how" of reading and writing.
//! The database keeps the last word on races a decision cannot see (a unique index over the
//! active seats, a unique reference), and the store reports those as the same outcomes.

use chrono::{DateTime, Utc};

use super::hold::{HoldOutcome, MAX_HELD_SEATS, NewHold};
use super::record::{BookingRecord, NewBooking, PlaceOutcome};
use super::{Fingerprint, ManageToken, OwnerHashes};
use crate::box_office::{CheckIn, CheckInOutcome};
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
    /// The requested seats under an unexpired hold of another token (of any token, when the
    /// booking carries none), in request order.
    pub held: &'a [String],
    pub now: DateTime<Utc>,
}

impl<'a> PlaceFacts<'a> {
    /// The facts about `booking`: its key's earlier use (that request's fingerprint), its
    /// showtime, its requested seats already booked, and those held by other tokens.
    pub fn of(
        booking: &NewBooking,
        earlier: Option<Fingerprint>,
        showtime: Option<&'a Showtime>,
        taken: &'a [String],
        held: &'a [String],
    ) -> Self {
        PlaceFacts {
            fingerprint: booking.idempotency.map(|i| i.fingerprint),
            earlier: earlier.map(|fingerprint| EarlierUse { fingerprint }),
            showtime,
            taken,
            held,
            now: booking.now,
        }
    }
}

/// What to do with a booking request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceDecision {
    /// Write the booking, its seats and its key, and end the booking's hold on this showtime
    /// (all its seats: those booked are now taken, any others are free again).
    Insert,
    /// Answer with the booking the key made before; write nothing.
    Replay,
    KeyReused,
    ShowtimeNotFound,
    ShowtimeClosed,
    SeatsTaken(Vec<String>),
    SeatsHeld(Vec<String>),
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
            PlaceDecision::SeatsHeld(seats) => Some(PlaceOutcome::SeatsHeld(seats.clone())),
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
        Some(_) if !facts.held.is_empty() => PlaceDecision::SeatsHeld(facts.held.to_vec()),
        Some(_) => PlaceDecision::Insert,
    }
}

/// Whether a hold that ends at `expires_at` still holds at `now`: a hold is over from its
/// expiry on, whether or not its row has been deleted.
pub fn hold_is_live(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    expires_at > now
}

/// What a store knows, inside its transaction, when asked to add seats to a hold. Every list
/// counts only unexpired holds ([`hold_is_live`]).
#[derive(Debug, Clone, Copy)]
pub struct HoldFacts<'a> {
    /// The showtime, if it exists (archived or not).
    pub showtime: Option<&'a Showtime>,
    /// The seats asked for, as [`NewHold::seats`].
    pub requested: &'a [String],
    /// The requested seats held by active bookings.
    pub taken: &'a [String],
    /// The requested seats held by other tokens.
    pub held_by_others: &'a [String],
    /// Every seat this token holds on this showtime now, and when that hold ends.
    pub own: &'a [String],
    pub own_expires_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// What to do with a hold request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldDecision {
    /// Write these seats (the requested ones the token does not hold yet, in request order)
    /// with this expiry, the hold's own; an empty list writes nothing and answers the hold.
    Insert {
        seats: Vec<String>,
        expires_at: DateTime<Utc>,
    },
    Refuse(HoldOutcome),
}

/// Decides a hold request: the showtime must be open, the seats neither booked nor held by
/// another token, and the token may hold at most [`MAX_HELD_SEATS`] in all. A hold that
/// already has seats keeps its expiry; a new one ends at `new.expires_at`.
pub fn hold(facts: HoldFacts<'_>, new: &NewHold) -> HoldDecision {
    match facts.showtime {
        None => return HoldDecision::Refuse(HoldOutcome::ShowtimeNotFound),
        Some(s) if is_closed(s, facts.now) => return HoldDecision::Refuse(HoldOutcome::ShowtimeClosed),
        Some(_) => {}
    }
    if !facts.taken.is_empty() {
        return HoldDecision::Refuse(HoldOutcome::SeatsTaken(facts.taken.to_vec()));
    }
    if !facts.held_by_others.is_empty() {
        return HoldDecision::Refuse(HoldOutcome::SeatsHeld(facts.held_by_others.to_vec()));
    }
    let mut seats: Vec<String> = Vec::new();
    for seat in facts.requested {
        if !facts.own.contains(seat) && !seats.contains(seat) {
            seats.push(seat.clone());
        }
    }
    if facts.own.len() + seats.len() > MAX_HELD_SEATS {
        return HoldDecision::Refuse(HoldOutcome::TooManySeats { held: facts.own.len(), max: MAX_HELD_SEATS });
    }
    let expires_at = match (facts.own.is_empty(), facts.own_expires_at) {
        (false, Some(at)) => at,
        _ => new.expires_at,
    };
    HoldDecision::Insert { seats, expires_at }
}

/// Whether a release may go ahead: the showtime must exist. Releasing on a closed showtime is
/// allowed (it frees nothing anyone could book) and releasing seats not held is not an error,
/// so a retried release answers the same.
pub fn release(showtime: Option<&Showtime>) -> Result<(), HoldOutcome> {
    showtime.map(|_| ()).ok_or(HoldOutcome::ShowtimeNotFound)
}

/// Whether `token` proves ownership of a booking whose stored hash is `stored` (`None`: no
/// such reference). Always does the same work, so an unknown reference and a wrong token
/// cannot be told apart by timing; a store must look up only the hash before calling this.
pub fn owns(token: &ManageToken, stored: Option<&OwnerHashes>) -> bool {
    token.verify_owner(stored)
}

/// Whether a recovery mail carries a booking's link: a booking still in force for a showtime
/// still ahead. Links to past or cancelled bookings would only be noise in the mail.
pub fn recoverable(cancelled: bool, showtime: &Showtime, now: DateTime<Utc>) -> bool {
    !cancelled && !is_closed(showtime, now)
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

/// Why the door of `check` refuses `record` (the booking its code names, read inside the
/// check-in's transaction after locking it), as the outcome to answer with it; `None`: check
/// it in. A scanned ticket naming another booking than its code's (forged or garbled) is no
/// ticket at all, so nothing about the booking is told; then a cancelled booking is refused
/// before anything else (a cancelled ticket never gets in, whichever showtime it names, and
/// that is what door staff must act on), then a ticket for another showtime than the door's
/// (the holder is at the wrong door, checked in there or not), then one checked in before.
pub fn check_in_refusal(record: &BookingRecord, check: &CheckIn) -> Option<fn(BookingRecord) -> CheckInOutcome> {
    if check.reference.as_ref().is_some_and(|named| *named != record.reference) {
        Some(|_| CheckInOutcome::Unknown)
    } else if record.cancelled_at.is_some() {
        Some(CheckInOutcome::Cancelled)
    } else if check.showtime.as_ref().is_some_and(|door| *door != record.showtime.id) {
        Some(CheckInOutcome::OtherShowtime)
    } else if record.checked_in_at.is_some() {
        Some(CheckInOutcome::AlreadyCheckedIn)
    } else {
        None
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
                held: none,
                now: *now,
            });
            assert_eq!(&got, want, "{what}");
        }
    }

    #[test]
    fn a_seat_held_by_another_token_is_refused_after_a_booked_one() {
        let open = show(10, false);
        let a1 = ["A1".to_string()];
        let b2 = ["B2".to_string()];
        let facts = |taken, held| PlaceFacts {
            fingerprint: None,
            earlier: None,
            showtime: Some(&open),
            taken,
            held,
            now: at(9, 0),
        };
        assert_eq!(place(facts(&[], &b2)), PlaceDecision::SeatsHeld(b2.to_vec()));
        assert_eq!(place(facts(&a1, &b2)), PlaceDecision::SeatsTaken(a1.to_vec()), "booked wins over held");
        assert_eq!(place(facts(&[], &[])), PlaceDecision::Insert);
    }

    fn seats(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hold_decisions() {
        let open = show(10, false);
        let archived = show(10, true);
        let new_expiry = at(9, 10);
        let kept_expiry = at(9, 4);
        let new = |requested: &[&str]| NewHold {
            showtime: open.id.clone(),
            token_hash: crate::booking::TokenHash([7; 32]),
            seats: seats(requested),
            now: at(9, 0),
            expires_at: new_expiry,
        };
        let decide = |showtime, requested: &[&str], taken: &[&str], others: &[&str], own: &[&str], now| {
            let request = new(requested);
            let (taken, others, own) = (seats(taken), seats(others), seats(own));
            hold(
                HoldFacts {
                    showtime,
                    requested: &request.seats,
                    taken: &taken,
                    held_by_others: &others,
                    own: &own,
                    own_expires_at: (!own.is_empty()).then_some(kept_expiry),
                    now,
                },
                &request,
            )
        };
        let insert = |ids: &[&str], expires_at| HoldDecision::Insert { seats: seats(ids), expires_at };
        let refuse = HoldDecision::Refuse;
        let eight = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"];
        assert_eq!(decide(Some(&open), &["A1"], &[], &[], &[], at(9, 0)), insert(&["A1"], new_expiry), "a new hold");
        assert_eq!(
            decide(Some(&open), &["A1", "A2"], &[], &[], &["A1"], at(9, 0)),
            insert(&["A2"], kept_expiry),
            "adding to a hold keeps its expiry and skips seats it holds"
        );
        assert_eq!(decide(Some(&open), &[], &[], &[], &["A1"], at(9, 0)), insert(&[], kept_expiry), "a look");
        assert_eq!(decide(None, &["A1"], &[], &[], &[], at(9, 0)), refuse(HoldOutcome::ShowtimeNotFound));
        assert_eq!(decide(Some(&archived), &["A1"], &[], &[], &[], at(9, 0)), refuse(HoldOutcome::ShowtimeClosed));
        assert_eq!(decide(Some(&open), &["A1"], &[], &[], &[], at(10, 0)), refuse(HoldOutcome::ShowtimeClosed));
        assert_eq!(
            decide(Some(&open), &["A1", "A2"], &["A2"], &["A1"], &[], at(9, 0)),
            refuse(HoldOutcome::SeatsTaken(seats(&["A2"]))),
            "booked wins over held"
        );
        assert_eq!(
            decide(Some(&open), &["A1"], &[], &["A1"], &[], at(9, 0)),
            refuse(HoldOutcome::SeatsHeld(seats(&["A1"])))
        );
        assert_eq!(
            decide(Some(&open), &["B1"], &[], &[], &eight, at(9, 0)),
            refuse(HoldOutcome::TooManySeats { held: 8, max: MAX_HELD_SEATS })
        );
        assert_eq!(decide(Some(&open), &["A8"], &[], &[], &eight, at(9, 0)), insert(&[], kept_expiry), "held already");
        assert!(hold_is_live(at(9, 1), at(9, 0)) && !hold_is_live(at(9, 0), at(9, 0)), "over at its expiry");
        assert_eq!(release(None), Err(HoldOutcome::ShowtimeNotFound));
        assert_eq!(release(Some(&archived)), Ok(()));
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
        let stored = OwnerHashes { issued: token.hash(), recovered: None };
        assert!(owns(&token, Some(&stored)));
        assert!(!owns(&other, Some(&stored)));
        assert!(!owns(&token, None), "an unknown reference is owned by nobody");
    }

    fn booking(showtime: Showtime) -> BookingRecord {
        BookingRecord {
            reference: crate::booking::BookingReference::parse("TK-2222-2222").unwrap(),
            created_at: showtime.starts_at - chrono::Duration::days(1),
            showtime,
            seats: vec!["A1".into()],
            name: "Ana".into(),
            email: None,
            token_hash: crate::booking::TokenHash([0; 32]),
            check_in_code: crate::booking::CheckInCode::parse("2222-2222-2222-2222").unwrap(),
            cancelled_at: None,
            cancelled_by: None,
            checked_in_at: None,
        }
    }

    #[test]
    fn a_door_admits_an_active_booking_of_its_showtime_once_and_refuses_the_rest() {
        use crate::box_office::CancelledBy;
        use crate::schedule::ShowtimeId;
        let scanned = |record: &BookingRecord, door: Option<&ShowtimeId>, reference| {
            let check =
                CheckIn { code: record.check_in_code.clone(), reference, showtime: door.cloned(), now: at(18, 55) };
            match check_in_refusal(record, &check) {
                Some(refuse) => refuse(record.clone()),
                None => CheckInOutcome::CheckedIn(record.clone()),
            }
        };
        let answer = |record: &BookingRecord, door: Option<&ShowtimeId>| scanned(record, door, None);
        let fresh = booking(show(19, false));
        let (here, elsewhere) = (fresh.showtime.id.clone(), ShowtimeId("t".into()));
        assert_eq!(answer(&fresh, Some(&here)), CheckInOutcome::CheckedIn(fresh.clone()));
        assert_eq!(
            answer(&fresh, None),
            CheckInOutcome::CheckedIn(fresh.clone()),
            "a door naming no showtime admits any"
        );
        assert_eq!(answer(&fresh, Some(&elsewhere)), CheckInOutcome::OtherShowtime(fresh.clone()));
        let checked = BookingRecord { checked_in_at: Some(at(18, 50)), ..fresh.clone() };
        assert_eq!(answer(&checked, Some(&here)), CheckInOutcome::AlreadyCheckedIn(checked.clone()));
        assert_eq!(answer(&checked, Some(&elsewhere)), CheckInOutcome::OtherShowtime(checked.clone()));
        let cancelled =
            BookingRecord { cancelled_at: Some(at(12, 0)), cancelled_by: Some(CancelledBy::Operator), ..checked };
        for door in [Some(&here), Some(&elsewhere), None] {
            assert_eq!(answer(&cancelled, door), CheckInOutcome::Cancelled(cancelled.clone()), "{door:?}");
        }
        // A scanned ticket: its own reference admits as a typed code does; another booking's
        // is no ticket, whatever the booking's state.
        assert_eq!(
            scanned(&fresh, Some(&here), Some(fresh.reference.clone())),
            CheckInOutcome::CheckedIn(fresh.clone())
        );
        let forged = Some(crate::booking::BookingReference::parse("TK-3333-3333").unwrap());
        for record in [&fresh, &cancelled] {
            assert_eq!(scanned(record, Some(&here), forged.clone()), CheckInOutcome::Unknown);
        }
    }
}
