//! The store: where showtimes and bookings are kept.
//!
//! The rest of Tiketa talks to the store through the traits here, never through SQL, so a
//! PostgreSQL store for several service instances can sit beside the embedded SQLite one
//! without the schedule rules, the booking rules or the HTTP layer changing.

pub mod bookings;
pub mod health;
pub mod sqlite;

use chrono::{DateTime, Utc};

pub use self::bookings::BookingStore;
pub use self::health::Unavailable;
use crate::schedule::{Showtime, ShowtimeId};

/// A store failure. The message says what the operator can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}; check that the folder exists and is writable")]
    Open { path: String, source: Box<dyn std::error::Error + Send + Sync> },
    #[error(
        "the database {path} was written by a newer Tiketa (schema version {found}, this build knows {known}); upgrade Tiketa"
    )]
    TooNew { path: String, found: i64, known: i64 },
    #[error("no database at {path}; `tiketa-gen roll` creates it")]
    Missing { path: String },
    #[error(
        "{path} is not a Tiketa database (no schema: an empty file, or another program's); `tiketa-gen roll` creates one"
    )]
    NotTiketa { path: String },
    /// Refused without trying: the store knows the write cannot be kept.
    #[error("{0}")]
    Unavailable(#[from] Unavailable),
    #[error("database error: {0}")]
    Backend(#[from] Box<dyn std::error::Error + Send + Sync>),
}

/// What a roll changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollReport {
    /// Showtimes that had started and are now archived.
    pub archived: usize,
    /// Showtimes of the horizon that did not exist and were created.
    pub created: usize,
}

/// The schedule side of the store: what `roll` writes and what pages and the service read.
pub trait ScheduleStore {
    /// Archives every showtime that has started by `now` and creates the showtimes of `plan`
    /// that start after `now` and do not exist yet (archived ones included, so a past slot is
    /// never re-created). One transaction: two rolls at once serialise, never interleave.
    fn roll(&self, plan: &[Showtime], now: DateTime<Utc>) -> Result<RollReport, StoreError>;

    /// The showtimes that are neither archived nor started by `now`, by start time then studio.
    fn live_showtimes(&self, now: DateTime<Utc>) -> Result<Vec<Showtime>, StoreError>;

    /// One showtime, archived or not.
    fn showtime(&self, id: &ShowtimeId) -> Result<Option<Showtime>, StoreError>;
}
