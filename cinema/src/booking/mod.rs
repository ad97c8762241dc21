//! The booking rules: what makes a booking request acceptable, how bookings are named and how
//! their owners prove they own them.
//!
//! Everything here is plain Rust with no HTTP in sight, so the rules are tested without a server
//! and the web layer only parses, calls [`Desk`] and turns its answers into replies. The rules
//! that need the database (is the seat free, is the showtime still open, was the key used) are
//! plain functions in [`decide`] over facts that a store gathers and applies inside one
//! transaction, because checking them outside it would race.

pub mod check_in;
pub mod decide;
pub(crate) mod desk;
mod error;
mod error_code;
pub mod hold;
mod idempotency;
pub mod record;
mod reference;
mod request;
mod token;
pub mod visible_text;

pub use check_in::CheckInCode;
pub use desk::{Confirmation, Desk};
pub use error::BookingError;
pub use error_code::ErrorCode;
pub use hold::{HeldSeat, Hold, HoldOutcome, HoldToken, MAX_HELD_SEATS, NewHold, ReleaseHold};
pub use idempotency::{Fingerprint, IdempotencyKey, SealedToken};
pub use record::{BookingRecord, CancelOutcome, IdempotencyRecord, NewBooking, PlaceOutcome, ShowtimeSeats};
pub use reference::BookingReference;
pub use request::{
    BookingRequest, MAX_EMAIL_CHARS, MAX_EMAIL_LOCAL_CHARS, MAX_NAME_CHARS, MAX_NAME_CODE_POINTS, MAX_SEATS,
    ValidRequest, check_email, check_hold_seats,
};
pub use token::{ManageToken, OwnerHashes, TokenHash};
