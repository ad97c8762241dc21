//! Why a booking action was refused, with a stable code for each reason.
//!
//! The codes are part of the API: clients branch on `code`, never on the message, so a code
//! never changes meaning once released. The HTTP status each maps to is the web layer's choice.

use crate::store::StoreError;

/// A refused booking action.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("there is no showtime {0}")]
    ShowtimeNotFound(String),
    #[error("showtime {0} has started or is archived; it can no longer be booked or changed")]
    ShowtimeClosed(String),
    #[error("seats already taken: {}", .0.join(", "))]
    SeatsTaken(Vec<String>),
    #[error("not seats of this auditorium: {}", .0.join(", "))]
    UnknownSeats(Vec<String>),
    #[error("seats named more than once: {}", .0.join(", "))]
    DuplicateSeats(Vec<String>),
    #[error("no seats requested; name 1 to {max} seats")]
    NoSeats { max: usize },
    #[error("{count} seats requested; one booking holds at most {max}")]
    TooManySeats { count: usize, max: usize },
    #[error("name {0}")]
    InvalidName(String),
    #[error("email {0}")]
    InvalidEmail(String),
    #[error("there is no booking with this reference and manage token")]
    BookingNotFound,
    #[error("this Idempotency-Key was already used for a different request; use a new key for a new booking")]
    IdempotencyKeyReused,
    #[error("Idempotency-Key must be 1 to 255 visible ASCII characters")]
    InvalidIdempotencyKey,
    #[error("the booking store failed: {0}")]
    Store(#[from] StoreError),
}

impl BookingError {
    /// The stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BookingError::ShowtimeNotFound(_) => "showtime_not_found",
            BookingError::ShowtimeClosed(_) => "showtime_closed",
            BookingError::SeatsTaken(_) => "seats_taken",
            BookingError::UnknownSeats(_) => "unknown_seats",
            BookingError::DuplicateSeats(_) => "duplicate_seats",
            BookingError::NoSeats { .. } => "no_seats",
            BookingError::TooManySeats { .. } => "too_many_seats",
            BookingError::InvalidName(_) => "invalid_name",
            BookingError::InvalidEmail(_) => "invalid_email",
            BookingError::BookingNotFound => "booking_not_found",
            BookingError::IdempotencyKeyReused => "idempotency_key_reused",
            BookingError::InvalidIdempotencyKey => "invalid_idempotency_key",
            BookingError::Store(_) => "store_unavailable",
        }
    }

    /// The seats the error is about, for clients that highlight them.
    pub fn seats(&self) -> Option<&[String]> {
        match self {
            BookingError::SeatsTaken(s) | BookingError::UnknownSeats(s) | BookingError::DuplicateSeats(s) => Some(s),
            _ => None,
        }
    }
}
