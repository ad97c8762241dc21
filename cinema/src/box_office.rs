//! What the operator's side asks of the store: door lists, exports, check-in at the door,
//! box-office cancellations, occupancy, and what a roll tells about showtimes the content no
//! longer has.
//!
//! These are plain types, shared by the store (which answers them inside its transactions), the
//! operator's command line (`tiketa-ops`) and the service's door routes, so that all three agree
//! on what a door list or a check-in is without any of them naming SQL.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::booking::check_in::PresentedTicket;
use crate::booking::{BookingRecord, BookingReference, CheckInCode};
use crate::schedule::{Showtime, ShowtimeId};

/// Which bookings to read: those of showtimes starting in `[from, to)` (archived ones
/// included), optionally of one film or one showtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Only this film's (by slug).
    pub film: Option<String>,
    /// Only this showtime's (its start must still fall in `[from, to)`).
    pub showtime: Option<ShowtimeId>,
    /// Cancelled bookings too (an export); a door list leaves them out.
    pub include_cancelled: bool,
}

impl CheckIn {
    /// A check-in of what was shown at a door letting in `showtime` (any, when `None`).
    pub fn of(ticket: PresentedTicket, showtime: Option<ShowtimeId>, now: DateTime<Utc>) -> Self {
        CheckIn { code: ticket.code, reference: ticket.reference, showtime, now }
    }
}

impl BookingQuery {
    /// Every active booking of one showtime, whenever it starts: a door list.
    pub fn door_list(showtime: ShowtimeId) -> Self {
        BookingQuery {
            from: DateTime::<Utc>::MIN_UTC,
            to: DateTime::<Utc>::MAX_UTC,
            film: None,
            showtime: Some(showtime),
            include_cancelled: false,
        }
    }
}

/// Who cancelled a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    /// The booker, with the manage token.
    Booker,
    /// An operator at the box office (`tiketa-ops cancel`), without the token.
    Operator,
}

impl CancelledBy {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelledBy::Booker => "booker",
            CancelledBy::Operator => "operator",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "booker" => Some(CancelledBy::Booker),
            "operator" => Some(CancelledBy::Operator),
            _ => None,
        }
    }
}

/// A ticket shown at the door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIn {
    pub code: CheckInCode,
    /// The booking a scanned ticket names beside its code (`None` for a typed code): a ticket
    /// whose reference is not its code's booking (forged or garbled) is no ticket at all.
    pub reference: Option<BookingReference>,
    /// The showtime the door is letting in, if the door says (the door page always does; the
    /// command line may not): a ticket for any other showtime is refused.
    pub showtime: Option<ShowtimeId>,
    pub now: DateTime<Utc>,
}

/// How a check-in ended. Only `CheckedIn` changed anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckInOutcome {
    /// Checked in now: the record's `checked_in_at` is `now`.
    CheckedIn(BookingRecord),
    /// Checked in before: the record's `checked_in_at` says when.
    AlreadyCheckedIn(BookingRecord),
    /// The booking was cancelled: refused.
    Cancelled(BookingRecord),
    /// The ticket is for another showtime than the one the door asked about: refused.
    OtherShowtime(BookingRecord),
    /// No booking has this code, or a scanned ticket names another booking than its code's.
    Unknown,
}

/// A live showtime the content no longer has (its film removed, its slot changed) that a roll
/// kept because it has bookings: still honoured, and listed by every roll until it starts so
/// that an operator can tell its bookers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptShowtime {
    pub showtime: Showtime,
    /// Its active bookings, oldest first.
    pub bookings: Vec<BookingReference>,
}

/// What a roll deleted because it can no longer matter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Idempotency records older than [`IDEMPOTENCY_KEPT_FOR`]: a retry comes within seconds
    /// or minutes, never a day later.
    pub idempotency_keys: usize,
    /// Seat holds that had ended.
    pub holds: usize,
    /// Outbox messages sent more than [`SENT_MAIL_KEPT_FOR`] ago (their tokens were wiped when
    /// sent; the row was kept for the operator's counts).
    pub sent_mail: usize,
}

/// How long a booking's idempotency record is kept.
pub const IDEMPOTENCY_KEPT_FOR: chrono::TimeDelta = chrono::TimeDelta::days(1);
/// How long a sent message's outbox row is kept.
pub const SENT_MAIL_KEPT_FOR: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// What `backup` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Bytes in the copy.
    pub bytes: u64,
    /// Bookings in the copy (cancelled ones included).
    pub bookings: u64,
}
