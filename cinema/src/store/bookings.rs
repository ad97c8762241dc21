//! The booking side of the store.
//!
//! Writes are submitted, not performed: `place` and `cancel` hand a command to the store and
//! return a [`Pending`] answer at once. That lets a store commit many bookings in one
//! transaction (one disk flush for a whole batch) and lets an async caller await the answer
//! without parking a thread, while a plain caller simply blocks on it. Reads are ordinary
//! blocking calls; an async caller runs them on a blocking thread.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::{StoreError, Unavailable};
use crate::booking::{BookingReference, Fingerprint, ManageToken, SealedToken, TokenHash};
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
    pub idempotency: Option<IdempotencyRecord>,
    /// The showtime must not have started by this moment.
    pub now: DateTime<Utc>,
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
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
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

/// A showtime with the seats its active bookings hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowtimeSeats {
    pub showtime: Showtime,
    pub taken: Vec<String>,
}

/// The answer to a submitted write, awaited (`.await`) or blocked on ([`Pending::wait`]).
#[must_use = "a submitted write's outcome is only known by waiting for it"]
pub struct Pending<T>(PendingInner<T>);

enum PendingInner<T> {
    Waiting(oneshot::Receiver<Result<T, StoreError>>),
    Ready(Option<Result<T, StoreError>>),
}

/// The store side of a [`Pending`]: send the outcome exactly once.
pub struct Reply<T>(oneshot::Sender<Result<T, StoreError>>);

impl<T> Pending<T> {
    /// A pending answer and the handle that answers it.
    pub fn channel() -> (Reply<T>, Pending<T>) {
        let (tx, rx) = oneshot::channel();
        (Reply(tx), Pending(PendingInner::Waiting(rx)))
    }

    /// An answer known at once (a refusal before anything was queued).
    pub fn ready(result: Result<T, StoreError>) -> Self {
        Pending(PendingInner::Ready(Some(result)))
    }

    /// Blocks the calling thread until the answer comes. Not for async code: await instead.
    pub fn wait(self) -> Result<T, StoreError> {
        match self.0 {
            PendingInner::Waiting(rx) => rx.blocking_recv().unwrap_or_else(|_| Err(gone())),
            PendingInner::Ready(r) => r.expect("a Pending is waited on once"),
        }
    }
}

impl<T> Reply<T> {
    pub fn send(self, result: Result<T, StoreError>) {
        // The waiter may have gone (a client that hung up); the write stands regardless.
        let _ = self.0.send(result);
    }
}

fn gone() -> StoreError {
    StoreError::Backend("the store stopped before answering".into())
}

// Nothing inside is ever pinned in place: the value is moved out when ready.
impl<T> Unpin for Pending<T> {}

impl<T> Future for Pending<T> {
    type Output = Result<T, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            PendingInner::Waiting(rx) => Pin::new(rx).poll(cx).map(|r| r.unwrap_or_else(|_| Err(gone()))),
            PendingInner::Ready(r) => Poll::Ready(r.take().expect("polled after completion")),
        }
    }
}

/// Bookings, as the booking rules need them. No SQL in sight, so another store (PostgreSQL for
/// several service instances) can take the embedded one's place.
pub trait BookingStore: Send + Sync {
    /// Submits a booking: all its seats or none, decided atomically with the checks that the
    /// showtime exists and is open and that no seat is held. Answered once it is durable.
    fn place(&self, booking: NewBooking) -> Pending<PlaceOutcome>;

    /// Submits a cancellation: frees the seats at once if `token` is the booking's token and its
    /// showtime has not started by `now`.
    fn cancel(&self, reference: BookingReference, token: ManageToken, now: DateTime<Utc>) -> Pending<CancelOutcome>;

    /// One booking by reference, if `token` is its manage token. An unknown reference and a
    /// wrong token must take the same work (look the reference up, then
    /// [`ManageToken::verify`], then read the rest only if it matched), so that references
    /// cannot be probed by timing.
    fn booking(&self, reference: &BookingReference, token: &ManageToken) -> Result<Option<BookingRecord>, StoreError>;

    /// A showtime (archived or not) and its taken seats.
    fn showtime_seats(&self, id: &ShowtimeId) -> Result<Option<ShowtimeSeats>, StoreError>;

    /// The same from memory, if the store holds it there: never blocks, so an async caller
    /// may call it directly. `None` means "ask [`BookingStore::showtime_seats`]".
    fn showtime_seats_in_memory(&self, _id: &ShowtimeId) -> Option<ShowtimeSeats> {
        None
    }

    /// The live showtimes at `now` (as [`super::ScheduleStore::live_showtimes`]), each with its
    /// number of taken seats.
    fn live_showtimes_taken(&self, now: DateTime<Utc>) -> Result<Vec<(Showtime, usize)>, StoreError>;

    /// Whether the store can take bookings now: fails with the reason when a booking would
    /// fail (or is about to). Cheap enough for a health check every second: never flushes.
    fn check(&self) -> Result<(), Unavailable>;
}
