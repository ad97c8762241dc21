//! What a booking is once it is kept, what a store is asked to keep, and how its answers end.
//!
//! These belong to the booking rules, not to any store: every store (SQLite, PostgreSQL) takes
//! and returns these types, and [`super::decide`] decides over them.

use chrono::{DateTime, Utc};

use super::hold::HeldSeat;
use super::{BookingReference, CheckInCode, Fingerprint, SealedToken, TokenHash};
use crate::box_office::CancelledBy;
use crate::outbox::NewMail;
use crate::schedule::{Showtime, ShowtimeId};

/// A booking to make, already checked against the rules that need no database.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub showtime: ShowtimeId,
    pub seats: Vec<String>,
    pub name: String,
    pub email: Option<String>,
    pub reference: BookingReference,
    pub token_hash: TokenHash,
    /// What the ticket's QR code carries to the door (never the manage token).
    pub check_in_code: CheckInCode,
    pub idempotency: Option<IdempotencyRecord>,
    /// The confirmation to queue in the booking's transaction, if the booker gave an email
    /// ([`NewMail::confirmation`]); queued only if the booking is placed.
    pub mail: Option<NewMail>,
    /// The hash of the hold token the booker's seats are held with, if any: its holds do not
    /// block this booking, and the booking ends them.
    pub hold: Option<TokenHash>,
    /// The showtime must not have started by this moment.
    pub now: DateTime<Utc>,
}

impl NewBooking {
    /// The record this booking becomes once placed in `showtime`, as a later read gives it:
    /// stores keep times in whole seconds.
    pub fn placed(&self, showtime: Showtime) -> BookingRecord {
        BookingRecord {
            reference: self.reference.clone(),
            showtime,
            seats: self.seats.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            token_hash: self.token_hash,
            check_in_code: self.check_in_code.clone(),
            created_at: DateTime::from_timestamp(self.now.timestamp(), 0).unwrap_or(self.now),
            cancelled_at: None,
            cancelled_by: None,
            checked_in_at: None,
        }
    }
}

/// What the store keeps about an idempotency key (never the key itself).
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyRecord {
    pub key_id: [u8; 32],
    pub fingerprint: Fingerprint,
    pub sealed_token: SealedToken,
}

/// A booking as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRecord {
    pub reference: BookingReference,
    pub showtime: Showtime,
    /// In the order they were requested.
    pub seats: Vec<String>,
    pub name: String,
    pub email: Option<String>,
    pub token_hash: TokenHash,
    pub check_in_code: CheckInCode,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Who cancelled it, when it is cancelled.
    pub cancelled_by: Option<CancelledBy>,
    /// When it was checked in at the door, if it was.
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// How a `place` ended. Everything but `Placed` left the store unchanged.
#[derive(Debug, Clone)]
pub enum PlaceOutcome {
    Placed(BookingRecord),
    /// The idempotency key was used before with the same request: the original booking.
    Replayed {
        booking: BookingRecord,
        sealed_token: SealedToken,
    },
    /// The idempotency key was used before with a different request.
    KeyReused,
    /// These requested seats are held by active bookings.
    SeatsTaken(Vec<String>),
    /// These requested seats are held (not expired) by another hold token.
    SeatsHeld(Vec<String>),
    ShowtimeNotFound,
    /// Started by `now`, or archived.
    ShowtimeClosed,
    /// Another booking already has this reference; draw a new one and try again.
    ReferenceTaken,
}

/// How a `cancel` ended.
#[derive(Debug, Clone)]
pub enum CancelOutcome {
    /// Cancelled now, or already cancelled before (cancelling twice is not an error).
    Cancelled(Box<BookingRecord>),
    /// No booking with this reference, or the token does not match: the same answer for both.
    NotFound,
    ShowtimeClosed,
}

/// A showtime with the seats its active bookings hold, and the seats under hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowtimeSeats {
    pub showtime: Showtime,
    pub taken: Vec<String>,
    /// Held seats with their expiry, by seat id, as the store keeps them: a store may hand
    /// back holds that have ended (it does not know the caller's clock, and a copy kept in a
    /// cache goes on expiring), so every reader goes through [`ShowtimeSeats::at`].
    pub held: Vec<HeldSeat>,
}

impl ShowtimeSeats {
    /// These seats as they stand at `now`: holds that ended by then are dropped, and a seat
    /// both taken and held (a hold written as a booking committed) counts as taken.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        let taken = &self.taken;
        self.held.retain(|h| super::decide::hold_is_live(h.expires_at, now) && !taken.contains(&h.seat));
        self
    }

    /// When the next hold still live at `now` ends, if any: when a live seat map must be looked
    /// at again even if nothing is written.
    pub fn next_expiry(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.held.iter().map(|h| h.expires_at).filter(|&at| super::decide::hold_is_live(at, now)).min()
    }
}
