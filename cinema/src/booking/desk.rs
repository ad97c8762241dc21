//! The booking desk: the one place the booking rules are applied, in order.
//!
//! The desk checks what it can without the database (the request, the key, the reference's
//! shape), then leaves to the store what only a transaction can decide (is the showtime open,
//! are the seats free) and turns the store's outcomes into answers or [`BookingError`]s. Writes
//! and reads are all awaited: the store runs any blocking work on threads of its own.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::check_in::CheckInCode;
use super::decide::is_closed;
use super::error::BookingError;
use super::hold::{Hold, HoldOutcome, HoldToken, NewHold, ReleaseHold};
use super::idempotency::{Fingerprint, IdempotencyKey};
use super::record::{BookingRecord, CancelOutcome, IdempotencyRecord, NewBooking, PlaceOutcome, ShowtimeSeats};
use super::reference::BookingReference;
use super::request::{BookingRequest, check_email, check_hold_seats};
use super::token::ManageToken;
use crate::outbox::{NewMail, Recovery};
use crate::schedule::{Showtime, ShowtimeId};
use crate::seat_map::SeatMap;
use crate::store::{ShowtimePage, Store, StoreError};

/// How many fresh references to try if one is taken (with 30^8 of them, one retry is a lot).
const REFERENCE_ATTEMPTS: usize = 4;

/// A booking made (or, for a retried idempotency key, the one made before).
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub booking: BookingRecord,
    /// Shown once, to whoever made the booking.
    pub token: ManageToken,
    /// True when this answers a retry of an earlier request.
    pub replayed: bool,
}

/// The booking rules over a store and a room.
pub struct Desk {
    store: Arc<dyn Store>,
    seat_map: Arc<SeatMap>,
    /// How long a new hold lasts (`hold_minutes` in `site.toml`).
    hold_for: chrono::Duration,
}

impl Desk {
    /// A desk whose holds last ten minutes, the default of `hold_minutes`.
    pub fn new(store: Arc<dyn Store>, seat_map: Arc<SeatMap>) -> Self {
        Desk { store, seat_map, hold_for: chrono::Duration::minutes(10) }
    }

    /// The same desk with holds that last `hold_for`.
    pub fn with_hold_duration(self, hold_for: chrono::Duration) -> Self {
        Desk { hold_for, ..self }
    }

    pub fn hold_duration(&self) -> chrono::Duration {
        self.hold_for
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn seat_map(&self) -> &SeatMap {
        &self.seat_map
    }

    /// Books the requested seats of a showtime, all or none.
    pub async fn book(
        &self,
        showtime: &str,
        request: &BookingRequest,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Confirmation, BookingError> {
        let showtime = showtime_id(showtime)?;
        let key = idempotency_key.map(IdempotencyKey::parse).transpose()?;
        let valid = request.validate(&self.seat_map)?;
        let hold = request.hold_token.as_deref().map(hold_token).transpose()?.map(|t| t.hash());
        let fingerprint = Fingerprint::of(&showtime, &valid);
        for _ in 0..REFERENCE_ATTEMPTS {
            let (reference, token, check_in_code) = {
                // ThreadRng is a CSPRNG seeded from the OS; scoped so it is not held across await.
                let mut rng = rand::rng();
                (BookingReference::generate(&mut rng), ManageToken::generate(&mut rng), CheckInCode::generate(&mut rng))
            };
            let mail = NewMail::confirmation(valid.email.as_deref(), &reference, &token, now);
            let booking = NewBooking {
                showtime: showtime.clone(),
                seats: valid.seats.clone(),
                name: valid.name.clone(),
                email: valid.email.clone(),
                reference,
                token_hash: token.hash(),
                check_in_code,
                mail,
                idempotency: key.as_ref().map(|k| IdempotencyRecord {
                    key_id: k.id(),
                    fingerprint,
                    sealed_token: k.seal(&token),
                }),
                hold,
                now,
            };
            match self.store.place(booking).await? {
                PlaceOutcome::Placed(booking) => {
                    return Ok(Confirmation { booking, token, replayed: false });
                }
                PlaceOutcome::Replayed { booking, sealed_token } => {
                    let key = key.as_ref().expect("only a keyed request is replayed");
                    return Ok(Confirmation { booking, token: key.unseal(&sealed_token), replayed: true });
                }
                PlaceOutcome::KeyReused => return Err(BookingError::IdempotencyKeyReused),
                PlaceOutcome::SeatsTaken(seats) => return Err(BookingError::SeatsTaken(seats)),
                PlaceOutcome::SeatsHeld(seats) => return Err(BookingError::SeatsHeld(seats)),
                PlaceOutcome::ShowtimeNotFound => {
                    return Err(BookingError::ShowtimeNotFound(showtime.0));
                }
                PlaceOutcome::ShowtimeClosed => {
                    return Err(BookingError::ShowtimeClosed(showtime.0));
                }
                PlaceOutcome::ReferenceTaken => continue,
            }
        }
        Err(BookingError::Store(StoreError::Backend("could not draw an unused booking reference".into())))
    }

    /// Holds seats of a showtime for the holder of `token` (a new token when `None`), all or
    /// none; with no seats, answers the hold as it is. The token comes back with the hold: a
    /// new one is shown to its holder only here.
    pub async fn hold(
        &self,
        showtime: &str,
        token: Option<&str>,
        seats: &[String],
        now: DateTime<Utc>,
    ) -> Result<(HoldToken, Hold), BookingError> {
        let showtime = showtime_id(showtime)?;
        let token = match token {
            Some(text) => hold_token(text)?,
            None => HoldToken::generate(&mut rand::rng()),
        };
        let seats = check_hold_seats(seats, &self.seat_map)?;
        let new = NewHold {
            showtime: showtime.clone(),
            token_hash: token.hash(),
            seats,
            now,
            expires_at: now + self.hold_for,
        };
        let hold = held(self.store.hold(new).await?, &showtime)?;
        Ok((token, hold))
    }

    /// Gives back seats held with `token` (all of them when `seats` is `None`); answers what
    /// the token still holds. Seats it does not hold are ignored, so a retry answers the same.
    pub async fn release(
        &self,
        showtime: &str,
        token: &str,
        seats: Option<&[String]>,
        now: DateTime<Utc>,
    ) -> Result<Hold, BookingError> {
        let showtime = showtime_id(showtime)?;
        let token = hold_token(token)?;
        let seats = seats.map(|s| check_hold_seats(s, &self.seat_map)).transpose()?;
        let release = ReleaseHold { showtime: showtime.clone(), token_hash: token.hash(), seats, now };
        held(self.store.release(release).await?, &showtime)
    }

    /// Cancels a booking whose token matches; its seats are free once this returns.
    pub async fn cancel(
        &self,
        reference: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<BookingRecord, BookingError> {
        let (reference, token) = credentials(reference, token)?;
        match self.store.cancel(reference, token, now).await? {
            CancelOutcome::Cancelled(record) => Ok(*record),
            CancelOutcome::NotFound => Err(BookingError::BookingNotFound),
            CancelOutcome::ShowtimeClosed => Err(BookingError::ShowtimeClosed(String::from("of this booking"))),
        }
    }

    /// Sends the manage links of an address's live bookings to it again (see
    /// [`Store::recover`]); answers how many bookings the message carries. Callers must not
    /// tell the requester that number: it would tell a stranger whether the address booked.
    pub async fn recover(&self, email: &str, now: DateTime<Utc>) -> Result<usize, BookingError> {
        let email = check_email(email)?;
        Ok(self.store.recover(Recovery { email, now }).await?)
    }

    /// A booking, for whoever holds its token. The store answers an unknown reference and a
    /// wrong token alike, in the same time (see [`super::decide::owns`]).
    pub async fn booking(&self, reference: &str, token: &str) -> Result<BookingRecord, BookingError> {
        let (reference, token) = credentials(reference, token)?;
        self.store.booking(reference, token).await?.ok_or(BookingError::BookingNotFound)
    }

    /// A showtime that can still be booked, with its taken seats: from the store's memory when
    /// it has them (no await point then), from the database otherwise.
    pub async fn seats(&self, showtime: &str, now: DateTime<Utc>) -> Result<ShowtimeSeats, BookingError> {
        let id = showtime_id(showtime)?;
        let seats = match self.store.cached_showtime_seats(&id) {
            Some(seats) => seats,
            None => self
                .store
                .showtime_seats(id.clone())
                .await?
                .ok_or_else(|| BookingError::ShowtimeNotFound(id.0.clone()))?,
        };
        if is_closed(&seats.showtime, now) {
            return Err(BookingError::ShowtimeClosed(id.0));
        }
        Ok(seats.at(now))
    }

    /// One page of the live showtimes with their free seats (see [`crate::store::showtime_page`]).
    pub async fn showtimes_page(&self, page: ShowtimePage) -> Result<Vec<(Showtime, usize)>, BookingError> {
        let total = self.seat_map.seat_count;
        Ok(self
            .store
            .live_showtimes_page(page)
            .await?
            .into_iter()
            .map(|(s, taken)| (s, total.saturating_sub(taken)))
            .collect())
    }

    /// The live showtimes with their free seats.
    pub async fn showtimes(&self, now: DateTime<Utc>) -> Result<Vec<(Showtime, usize)>, BookingError> {
        let total = self.seat_map.seat_count;
        Ok(self
            .store
            .live_showtimes_taken(now)
            .await?
            .into_iter()
            .map(|(s, taken)| (s, total.saturating_sub(taken)))
            .collect())
    }
}

fn showtime_id(text: &str) -> Result<ShowtimeId, BookingError> {
    if ShowtimeId::is_well_formed(text) && !text.is_empty() {
        Ok(ShowtimeId(text.to_string()))
    } else {
        Err(BookingError::ShowtimeNotFound(text.chars().take(160).collect()))
    }
}

fn hold_token(text: &str) -> Result<HoldToken, BookingError> {
    HoldToken::parse(text).ok_or(BookingError::InvalidHoldToken)
}

/// A store's answer to a hold or a release, as the desk's.
fn held(outcome: HoldOutcome, showtime: &ShowtimeId) -> Result<Hold, BookingError> {
    match outcome {
        HoldOutcome::Held(hold) => Ok(hold),
        HoldOutcome::ShowtimeNotFound => Err(BookingError::ShowtimeNotFound(showtime.0.clone())),
        HoldOutcome::ShowtimeClosed => Err(BookingError::ShowtimeClosed(showtime.0.clone())),
        HoldOutcome::SeatsTaken(seats) => Err(BookingError::SeatsTaken(seats)),
        HoldOutcome::SeatsHeld(seats) => Err(BookingError::SeatsHeld(seats)),
        HoldOutcome::TooManySeats { held, max } => Err(BookingError::TooManySeatsHeld { held, max }),
    }
}

/// A malformed reference or token is answered like a wrong one, so nothing can be probed.
fn credentials(reference: &str, token: &str) -> Result<(BookingReference, ManageToken), BookingError> {
    match (BookingReference::parse(reference), ManageToken::parse(token)) {
        (Some(r), Some(t)) => Ok((r, t)),
        _ => Err(BookingError::BookingNotFound),
    }
}

#[cfg(test)]
#[path = "desk_tests.rs"]
mod tests;
