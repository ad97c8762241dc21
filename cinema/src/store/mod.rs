//! The store: where showtimes and bookings are kept.
//!
//! The rest of Tiketa talks to the store through [`Store`], never through SQL, and opens it
//! through [`open`] from one `DATABASE_URL`: a file path or `sqlite:` URL for the embedded
//! SQLite store (the default, one process or several on one machine), or a `postgres://` URL
//! for PostgreSQL (several service instances on several machines). Nothing outside this module
//! names SQLite or PostgreSQL types; the booking decisions themselves are plain functions in
//! [`crate::booking::decide`] that every store applies inside its own transaction.

pub mod changes;
pub mod database_url;
pub mod health;
pub mod observer;
pub mod postgres;
pub(crate) mod seat_cache;
pub mod showtime_page;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use self::changes::{ChangeFeed, ChangeStream, SeatsChanged};
pub use self::database_url::DatabaseUrl;
pub use self::health::Unavailable;
pub use self::observer::{CommitObserver, Commits};
pub use self::showtime_page::{ShowtimePage, ShowtimePosition};
use crate::booking::hold::{HoldOutcome, NewHold, ReleaseHold};
use crate::booking::record::{BookingRecord, CancelOutcome, NewBooking, PlaceOutcome, ShowtimeSeats};
use crate::booking::{BookingReference, ManageToken};
use crate::box_office::{BackupReport, BookingQuery, CheckIn, CheckInOutcome, KeptShowtime, Purged};
use crate::outbox::{MailClaim, MailResult, OutboxCounts, QueuedMail, Recovery};
use crate::schedule::{Showtime, ShowtimeId};

/// A store failure. The message says what the operator (or the client) can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {database}: {source}; check that it exists and can be reached and written")]
    Open { database: String, source: Box<dyn std::error::Error + Send + Sync> },
    #[error(
        "the database {database} was written by a newer Tiketa (schema version {found}, this build knows {known}); upgrade Tiketa"
    )]
    TooNew { database: String, found: i64, known: i64 },
    #[error("no database at {database}; `tiketa-gen roll` creates it")]
    Missing { database: String },
    #[error(
        "{database} is not a Tiketa database (no schema: an empty file or database, or another program's); `tiketa-gen roll` creates one"
    )]
    NotTiketa { database: String },
    /// Too many writes are waiting: refused at once rather than queued without limit.
    #[error("the booking store is busy; try again shortly")]
    Busy,
    /// The store was closed (the service is stopping); another instance can take the request.
    #[error("the booking store is closed; this instance is stopping")]
    Closed,
    /// Refused without trying, or failed because the database cannot be reached or written.
    #[error("{0}")]
    Unavailable(#[from] Unavailable),
    /// The store cannot do this at all (a SQLite backup asked of PostgreSQL); the message says
    /// what to use instead.
    #[error("{0}")]
    Unsupported(String),
    #[error("database error: {0}")]
    Backend(#[from] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Seconds a client should wait before retrying, when retrying can help (the reply is then
    /// a `503` with `Retry-After`); `None` for a failure that a retry would only repeat (a
    /// database that is missing or too new: an operator must act).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            StoreError::Busy | StoreError::Closed | StoreError::Backend(_) => Some(1),
            StoreError::Unavailable(_) => Some(5),
            StoreError::Open { .. }
            | StoreError::TooNew { .. }
            | StoreError::Missing { .. }
            | StoreError::NotTiketa { .. }
            | StoreError::Unsupported(_) => None,
        }
    }

    /// What a client may be told: never paths, SQL or the database's own words (those go to
    /// the operator's log).
    pub fn public_message(&self) -> String {
        match self {
            StoreError::Busy => "the booking store is busy; try again in a second".into(),
            StoreError::Closed => "this instance is stopping; try again (another instance will answer)".into(),
            StoreError::Unavailable(reason) => format!("bookings are unavailable now: {reason}"),
            _ => "the booking store is unavailable; try again shortly".into(),
        }
    }
}

/// What a roll changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollReport {
    /// Showtimes that had started and are now archived.
    pub archived: usize,
    /// Showtimes of the horizon that did not exist and were created.
    pub created: usize,
    /// Live showtimes the plan no longer has and no active booking holds: retired (deleted, or
    /// archived if cancelled bookings name them), so they stop being bookable at once.
    pub retired: usize,
    /// Live showtimes the plan no longer has but bookings hold: kept and honoured, listed by
    /// every roll until they start. By start time, then studio.
    pub kept: Vec<KeptShowtime>,
    /// What the roll deleted because it can no longer matter.
    pub purged: Purged,
}

/// Whether opening may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the database (a SQLite file and its folder) and its schema if missing: what
    /// `tiketa-gen roll` does.
    Create,
    /// The database must exist and hold Tiketa's schema: what the booking service does, so a
    /// mistyped `DATABASE_URL` fails at start instead of serving an empty schedule.
    Existing,
}

/// An answer from the store, awaited by async callers and blocked on (see [`Blocking`]) by
/// the generator and the tools.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Showtimes and bookings, whatever keeps them. Every method may be awaited on an async
/// runtime's thread: a store that does blocking I/O does it on threads of its own.
pub trait Store: Send + Sync {
    /// In one transaction: archives every showtime that has started by `now`; creates the
    /// showtimes of `plan` that start after `now` and do not exist yet (archived ones included,
    /// so a past slot is never re-created); retires every live showtime whose id `plan` does
    /// not have and that has no active booking (deleted when it has no booking at all, so the
    /// content can bring it back; archived when only cancelled bookings name it, since their
    /// records keep their showtime), and keeps and reports those with active bookings
    /// ([`RollReport::kept`]); purges ended holds, idempotency records older than
    /// [`crate::box_office::IDEMPOTENCY_KEPT_FOR`] and mail sent before
    /// [`crate::box_office::SENT_MAIL_KEPT_FOR`]. A booking racing the roll either commits
    /// first (and its showtime is kept) or finds no showtime. Two rolls at once, from any
    /// processes or machines, serialise in the database, never interleave.
    fn roll(&self, plan: Vec<Showtime>, now: DateTime<Utc>) -> StoreFuture<'_, RollReport>;

    /// The showtimes that are neither archived nor started by `now`, by start time then studio.
    fn live_showtimes(&self, now: DateTime<Utc>) -> StoreFuture<'_, Vec<Showtime>>;

    /// One showtime, archived or not.
    fn showtime(&self, id: ShowtimeId) -> StoreFuture<'_, Option<Showtime>>;

    /// Places a booking: all its seats or none, decided by [`crate::booking::decide::place`]
    /// inside one transaction, with its check-in code and, if `booking.mail` is given, its
    /// confirmation queued in the outbox in the same transaction. Answered once the booking is
    /// durable.
    fn place(&self, booking: NewBooking) -> StoreFuture<'_, PlaceOutcome>;

    /// Adds seats to a token's hold as [`crate::booking::decide::hold`] decides, inside one
    /// transaction: all the requested seats or none. With no seats, changes nothing and answers
    /// the hold as it is. Other readers see the seats as held from the moment this answers, and
    /// the change feed tells of it like a booking.
    fn hold(&self, hold: NewHold) -> StoreFuture<'_, HoldOutcome>;

    /// Gives back seats of a token's hold (all of them when `release.seats` is `None`); seats
    /// the token does not hold are ignored. Answers the hold as it is after the change
    /// ([`HoldOutcome::Held`]) or [`HoldOutcome::ShowtimeNotFound`].
    fn release(&self, release: ReleaseHold) -> StoreFuture<'_, HoldOutcome>;

    /// Cancels a booking as [`crate::booking::decide::cancel`] decides; its seats are free
    /// once this answers. When it decides `Cancel`, the notice of
    /// [`crate::outbox::NewMail::cancellation`] is queued in the same transaction.
    fn cancel(
        &self,
        reference: BookingReference,
        token: ManageToken,
        now: DateTime<Utc>,
    ) -> StoreFuture<'_, CancelOutcome>;

    /// One booking, if `token` is one of its manage tokens (the one it was made with, or the
    /// latest a recovery mail carried: see [`crate::booking::OwnerHashes`]). An unknown reference and a wrong token
    /// take the same work (look up the token hash only, then [`crate::booking::decide::owns`],
    /// then read the rest only for the owner), so that references cannot be probed by timing.
    fn booking(&self, reference: BookingReference, token: ManageToken) -> StoreFuture<'_, Option<BookingRecord>>;

    /// One booking by its reference, whoever asks: for the mail sender, which renders a message
    /// from the booking as it is when sent, and for the operator's tools. Never answers a
    /// visitor's request.
    fn booking_by_reference(&self, reference: BookingReference) -> StoreFuture<'_, Option<BookingRecord>>;

    /// Sends the manage links of an address's bookings again. In one transaction: for every
    /// booking whose email equals `recovery.email` (ignoring ASCII case) and that
    /// [`crate::booking::decide::recoverable`] accepts at `recovery.now`, draws a fresh
    /// [`ManageToken`] and keeps its hash as the booking's recovered hash (replacing an earlier
    /// one; the booking's own token keeps working), then queues one
    /// [`crate::outbox::MailKind::Recovery`] message to the address carrying those bookings and
    /// tokens. Queues nothing when no booking qualifies. Answers how many bookings the message
    /// carries (0: none queued).
    fn recover(&self, recovery: Recovery) -> StoreFuture<'_, usize>;

    /// Claims due outbox messages for a sender (see [`MailClaim`]): in one transaction, marks
    /// them claimed by `claim.sender` until `claim.lease_until` and answers them, oldest first.
    /// Two senders (in any processes, on any instances) never get the same message while a
    /// claim holds; a message whose claim ran out is due again.
    fn claim_mail(&self, claim: MailClaim) -> StoreFuture<'_, Vec<QueuedMail>>;

    /// Records how a claimed message's send went (see [`MailResult`]); answers whether it was
    /// applied (`false`: the sender no longer held the claim, and nothing changed).
    fn finish_mail(&self, result: MailResult) -> StoreFuture<'_, bool>;

    /// How many outbox messages are pending, failing and sent.
    fn outbox_counts(&self) -> StoreFuture<'_, OutboxCounts>;

    /// The bookings `query` asks for, for the operator's tools (never a visitor's request): by
    /// showtime start, then studio, then when each was made.
    fn bookings(&self, query: BookingQuery) -> StoreFuture<'_, Vec<BookingRecord>>;

    /// Every showtime starting in `[from, to)`, archived ones included, by start then studio.
    fn showtimes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreFuture<'_, Vec<Showtime>>;

    /// Cancels a booking at the box office, without its token: as [`Store::cancel`] (the same
    /// rules, the seats free once this answers, the notice queued), recorded as cancelled by
    /// the operator. `NotFound` for an unknown reference.
    fn cancel_by_operator(&self, reference: BookingReference, now: DateTime<Utc>) -> StoreFuture<'_, CancelOutcome>;

    /// Checks a ticket in at the door, in one transaction: the first check-in of an active
    /// booking for the right showtime records `now`; every other answer changes nothing. Two
    /// doors scanning one ticket at once: one `CheckedIn`, one `AlreadyCheckedIn`.
    fn check_in(&self, check_in: CheckIn) -> StoreFuture<'_, CheckInOutcome>;

    /// Writes a consistent copy of the database to `to` (a new file; an existing one is
    /// refused) while writers go on, holding every booking committed before it began. A store
    /// that cannot (PostgreSQL) answers [`StoreError::Unsupported`] naming the tool to use.
    fn backup(&self, to: std::path::PathBuf) -> StoreFuture<'_, BackupReport>;

    /// Tells `observer` of every commit of booking writes from now on (how many writes the
    /// commit carried, how long it took), for the service's metrics.
    fn observe_commits(&self, observer: Arc<dyn CommitObserver>);

    /// A showtime (archived or not), its taken seats and its hold rows, ended ones possibly
    /// included (the caller applies [`ShowtimeSeats::at`] with its own clock), from the store's
    /// cache when it holds the showtime. A cache learns of every writer's commits through the
    /// change feed, so a seat taken or held through any instance shows here within a second.
    fn showtime_seats(&self, id: ShowtimeId) -> StoreFuture<'_, Option<ShowtimeSeats>>;

    /// The same from memory only, if the store holds it there: never blocks, so a handler may
    /// try it before paying for a future. `None` means "ask [`Store::showtime_seats`]".
    fn cached_showtime_seats(&self, _id: &ShowtimeId) -> Option<ShowtimeSeats> {
        None
    }

    /// The live showtimes at `now` (as [`Store::live_showtimes`]), each with its number of
    /// taken seats.
    fn live_showtimes_taken(&self, now: DateTime<Utc>) -> StoreFuture<'_, Vec<(Showtime, usize)>>;

    /// One page of [`Store::live_showtimes_taken`]: the live showtimes `page` selects, by start
    /// time then id, at most `page.limit` of them, each with its number of taken seats. Reads
    /// only the page's rows, whatever the size of the schedule (see [`showtime_page`]).
    fn live_showtimes_page(&self, page: ShowtimePage) -> StoreFuture<'_, Vec<(Showtime, usize)>>;

    /// Whether the store can take bookings now; `Err(StoreError::Unavailable(reason))` when a
    /// booking would fail. Cheap enough for a health check every second: never flushes.
    fn check(&self) -> StoreFuture<'_, ()>;

    /// Every change to seats (taken, freed, held, released) from now on, by any writer (this process, another process on the
    /// same SQLite file, another instance on the same PostgreSQL).
    fn changes(&self) -> ChangeStream;

    /// Stops taking writes, waits until the ones already taken are committed and answered,
    /// and releases the database. Later writes fail with [`StoreError::Closed`].
    fn close(&self) -> StoreFuture<'_, ()>;

    /// What this store is, for logs: the kind and the database without any password.
    fn describe(&self) -> String;
}

/// Opens the store `url` names: the one way every binary opens one.
pub async fn open(url: &DatabaseUrl, mode: OpenMode) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || sqlite::SqliteDatabase::open(&path, mode))
                .await
                .map_err(|e| StoreError::Backend(Box::new(e)))??;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(_) => Ok(Arc::new(postgres::PostgresDatabase::open(url, mode).await?)),
    }
}

/// A store for code that is not async (the generator, the tools): a small runtime of its own
/// that drives the store's futures.
pub struct Blocking {
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    store: Arc<dyn Store>,
}

impl Blocking {
    /// Opens the store `url` names on a runtime of its own.
    pub fn open(url: &DatabaseUrl, mode: OpenMode) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tiketa-store")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Open { database: url.to_string(), source: Box::new(e) })?;
        let store = block_on(&runtime, open(url, mode))?;
        Ok(Blocking { runtime: Some(runtime), store })
    }

    /// Runs one of the store's futures to its end.
    pub fn run<'a, T: Send>(&'a self, work: impl FnOnce(&'a dyn Store) -> StoreFuture<'a, T>) -> Result<T, StoreError> {
        block_on(self.runtime.as_ref().expect("a live Blocking has its runtime"), work(&*self.store))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

impl Drop for Blocking {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else { return };
        let _ = block_on(&runtime, self.store.close());
        if tokio::runtime::Handle::try_current().is_ok() {
            // Dropping a runtime blocks until its threads stop, which tokio forbids here.
            runtime.shutdown_background();
        }
    }
}

/// Runs `work` on `runtime`; from a thread that already drives an async runtime (a test
/// fixture called from an async test), on a thread of its own, since tokio refuses to nest.
fn block_on<F: Future + Send>(runtime: &tokio::runtime::Runtime, work: F) -> F::Output
where
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(work);
    }
    std::thread::scope(|scope| {
        scope.spawn(|| runtime.block_on(work)).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
