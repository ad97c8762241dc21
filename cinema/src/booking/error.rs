//! Why a booking action was refused, with a stable [`ErrorCode`] for each reason.

use super::error_code::ErrorCode;
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
    #[error("seats held by another visitor for a few minutes: {}; choose other seats", .0.join(", "))]
    SeatsHeld(Vec<String>),
    #[error("this hold has {held} seats already; one hold keeps at most {max}, as one booking does")]
    TooManySeatsHeld { held: usize, max: usize },
    #[error("a hold token is 32 lowercase hex digits, as given by POST /api/showtimes/{{id}}/holds")]
    InvalidHoldToken,
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
    #[error(
        "Idempotency-Key must be 1 to {} visible ASCII characters (no spaces), such as a UUID",
        super::IdempotencyKey::MAX_LEN
    )]
    InvalidIdempotencyKey,
    #[error("the booking store failed: {0}")]
    Store(#[from] StoreError),
}

impl BookingError {
    /// The stable, machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            BookingError::ShowtimeNotFound(_) => ErrorCode::ShowtimeNotFound,
            BookingError::ShowtimeClosed(_) => ErrorCode::ShowtimeClosed,
            BookingError::SeatsTaken(_) => ErrorCode::SeatsTaken,
            BookingError::SeatsHeld(_) => ErrorCode::SeatsHeld,
            BookingError::TooManySeatsHeld { .. } => ErrorCode::TooManySeats,
            BookingError::InvalidHoldToken => ErrorCode::InvalidHoldToken,
            BookingError::UnknownSeats(_) => ErrorCode::UnknownSeats,
            BookingError::DuplicateSeats(_) => ErrorCode::DuplicateSeats,
            BookingError::NoSeats { .. } => ErrorCode::NoSeats,
            BookingError::TooManySeats { .. } => ErrorCode::TooManySeats,
            BookingError::InvalidName(_) => ErrorCode::InvalidName,
            BookingError::InvalidEmail(_) => ErrorCode::InvalidEmail,
            BookingError::BookingNotFound => ErrorCode::BookingNotFound,
            BookingError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            BookingError::InvalidIdempotencyKey => ErrorCode::InvalidIdempotencyKey,
            BookingError::Store(_) => ErrorCode::StoreUnavailable,
        }
    }

    /// The seats the error is about, for clients that highlight them.
    pub fn seats(&self) -> Option<&[String]> {
        match self {
            BookingError::SeatsTaken(s)
            | BookingError::SeatsHeld(s)
            | BookingError::UnknownSeats(s)
            | BookingError::DuplicateSeats(s) => Some(s),
            _ => None,
        }
    }
}
