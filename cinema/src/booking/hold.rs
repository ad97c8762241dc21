//! Seat holds: a seat a visitor has chosen in the picker is theirs for a few minutes while they
//! type their name.
//!
//! A hold belongs to a hold token, a secret the picker keeps in the page's session storage
//! (so a reload keeps the seats) and sends with each change and with the booking. The store
//! keeps only the token's hash, next to each held seat and the moment the hold ends. A hold
//! ends by itself: a seat whose hold has expired is simply free, to every reader, whether or
//! not its row is still there, so no sweeper is needed for correctness. All the seats of one
//! token on one showtime share one expiry, set when the first seat is held, so the picker can
//! show one countdown; releasing every seat ends the hold.
//!
//! The decisions over holds are plain functions in [`super::decide`], applied by every store
//! inside its own transaction, like bookings'.

use std::fmt;

use chrono::{DateTime, Utc};

use super::token::{ManageToken, TokenHash};
use crate::schedule::ShowtimeId;

/// The most seats one token may hold on one showtime: as many as one booking takes.
pub const MAX_HELD_SEATS: usize = super::MAX_SEATS;

/// The secret that owns a hold: 128 random bits as 32 lowercase hex digits, like a manage
/// token (and made, parsed and hashed by the same code), but never interchangeable with one.
#[derive(Clone, PartialEq, Eq)]
pub struct HoldToken(ManageToken);

impl HoldToken {
    pub fn generate(rng: &mut impl rand::RngCore) -> Self {
        HoldToken(ManageToken::generate(rng))
    }

    /// Reads a token as given by a client; `None` if it cannot be one.
    pub fn parse(text: &str) -> Option<Self> {
        ManageToken::parse(text).map(HoldToken)
    }

    /// What the store keeps instead of the token.
    pub fn hash(&self) -> TokenHash {
        self.0.hash()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Never print a secret by accident.
impl fmt::Debug for HoldToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HoldToken(..)")
    }
}

/// Seats to add to a token's hold, already checked against the room.
#[derive(Debug, Clone)]
pub struct NewHold {
    pub showtime: ShowtimeId,
    pub token_hash: TokenHash,
    /// Seats to add; those the token holds already are kept as they are. Empty: change
    /// nothing, answer the hold as it is (how a reloaded page learns its seats).
    pub seats: Vec<String>,
    pub now: DateTime<Utc>,
    /// When the hold ends if it starts now (the token holds no seat of this showtime yet).
    /// A hold that has seats keeps its expiry.
    pub expires_at: DateTime<Utc>,
}

/// Seats to give back.
#[derive(Debug, Clone)]
pub struct ReleaseHold {
    pub showtime: ShowtimeId,
    pub token_hash: TokenHash,
    /// `None`: every seat the token holds on this showtime.
    pub seats: Option<Vec<String>>,
    pub now: DateTime<Utc>,
}

/// A token's hold on one showtime as it stands after a change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hold {
    /// The seats held, in the order they were held (ties by seat id).
    pub seats: Vec<String>,
    /// When the hold ends; `None` when it holds no seat.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A held seat as other visitors see it: who holds it is never told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSeat {
    pub seat: String,
    pub expires_at: DateTime<Utc>,
}

/// How a `hold` or `release` ended. Everything but `Held` left the store unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldOutcome {
    /// The token's hold after the change (empty after releasing everything).
    Held(Hold),
    ShowtimeNotFound,
    /// Started, or archived.
    ShowtimeClosed,
    /// These requested seats are booked.
    SeatsTaken(Vec<String>),
    /// These requested seats are held by another token.
    SeatsHeld(Vec<String>),
    /// The token would hold more than [`MAX_HELD_SEATS`]: `held` is how many it holds now.
    TooManySeats {
        held: usize,
        max: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_token_is_a_secret_of_its_own() {
        let mut rng = rand::rng();
        let token = HoldToken::generate(&mut rng);
        assert_eq!(HoldToken::parse(token.as_str()), Some(token.clone()));
        assert_ne!(token.hash(), HoldToken::generate(&mut rng).hash());
        assert!(!format!("{token:?}").contains(token.as_str()));
        assert!(HoldToken::parse("not a token").is_none());
    }
}
