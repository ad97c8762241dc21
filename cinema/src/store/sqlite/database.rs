//! [`SqliteDatabase`]: the SQLite store behind [`crate::store::Store`].
//!
//! It joins the schedule side (one connection: `roll` and schedule reads) and the booking side
//! ([`SqliteBookingStore`]: the writer thread, the read pool, the seat index). Blocking SQLite
//! calls run on tokio's blocking threads, at most [`READ_CONCURRENCY`] at once, so an async
//! handler simply awaits them; seat-map misses, the busiest read, go to the booking side's
//! seat-map reader instead (see `seat_misses.rs`). Opened to create (what `roll` does), the booking side starts on
//! first use, so the generator never runs a booking writer it does not need.

use crate::booking::hold::{HoldOutcome, NewHold, ReleaseHold};
use crate::outbox::{MailClaim, MailResult, OutboxCounts, QueuedMail, Recovery};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

use super::bookings::SqliteBookingStore;
use super::bookings_wal::WalLimits;
use super::commit_watch::CommitWatch;
use super::{SqliteStore, open_connection};
use crate::booking::record::{BookingRecord, CancelOutcome, NewBooking, PlaceOutcome, ShowtimeSeats};
use crate::booking::{BookingReference, ManageToken};
use crate::box_office::{BackupReport, BookingQuery, CheckIn, CheckInOutcome};
use crate::schedule::{Showtime, ShowtimeId};
use crate::store::{
    ChangeFeed, ChangeStream, CommitObserver, OpenMode, RollReport, ShowtimePage, Store, StoreError, StoreFuture,
};

/// How many blocking database calls run at once: enough to keep two cores busy while some
/// wait on the disk, few enough that the read pool stays small.
pub const READ_CONCURRENCY: usize = 8;

/// A SQLite file as a [`Store`].
pub struct SqliteDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    schedule: SqliteStore,
    bookings: OnceLock<SqliteBookingStore>,
    /// Held while the booking side starts, so it starts once; `true` once the store is
    /// closed, so a write after `close` is refused instead of starting the booking side anew.
    starting: Mutex<bool>,
    feed: ChangeFeed,
    /// Who the booking writer tells of its commits (kept here, since an observer may come
    /// before the booking side starts).
    commits: Arc<CommitWatch>,
    calls: Semaphore,
}

impl SqliteDatabase {
    /// Opens the file; [`OpenMode::Create`] creates it (and its folder) and its schema.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Self, StoreError> {
        // The service's mode checks that the file exists and is Tiketa's before anything writes.
        if mode == OpenMode::Existing {
            drop(open_connection(path, OpenMode::Existing)?);
        }
        let inner = Arc::new(Inner {
            path: path.to_path_buf(),
            schedule: SqliteStore::open(path)?,
            bookings: OnceLock::new(),
            starting: Mutex::new(false),
            feed: ChangeFeed::default(),
            commits: Arc::default(),
            calls: Semaphore::new(READ_CONCURRENCY),
        });
        if mode == OpenMode::Existing {
            inner.bookings()?;
        }
        Ok(SqliteDatabase { inner })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs a blocking call on a blocking thread, after waiting for a turn.
    fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let _turn = inner.calls.acquire().await.map_err(|_| StoreError::Closed)?;
            let worker = inner.clone();
            tokio::task::spawn_blocking(move || call(&worker))
                .await
                .map_err(|e| StoreError::Backend(format!("a database call panicked: {e}").into()))?
        })
    }
}

impl Inner {
    /// The booking side, started on first use.
    fn bookings(&self) -> Result<&SqliteBookingStore, StoreError> {
        if let Some(b) = self.bookings.get() {
            return Ok(b);
        }
        let closed = self.starting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = self.bookings.get() {
            return Ok(b);
        }
        if *closed {
            return Err(StoreError::Closed);
        }
        let store = SqliteBookingStore::open_observed(
            &self.path,
            WalLimits::default(),
            self.feed.clone(),
            self.commits.clone(),
        )?;
        Ok(self.bookings.get_or_init(|| store))
    }
}

impl Store for SqliteDatabase {
    fn hold(&self, hold: NewHold) -> StoreFuture<'_, HoldOutcome> {
        if hold.seats.is_empty() {
            return self.blocking(move |db| db.bookings()?.look(&hold));
        }
        let pending = self.inner.bookings().map(|b| b.hold(hold));
        Box::pin(async move { pending?.await })
    }

    fn release(&self, release: ReleaseHold) -> StoreFuture<'_, HoldOutcome> {
        let pending = self.inner.bookings().map(|b| b.release(release));
        Box::pin(async move { pending?.await })
    }

    fn roll(&self, plan: Vec<Showtime>, now: DateTime<Utc>) -> StoreFuture<'_, RollReport> {
        self.blocking(move |db| {
            let rolled = db.schedule.roll_retiring(&plan, now)?;
            // This process's seat cache, at once; other processes' learn through the log the
            // roll wrote (and so does this one's watcher, which also tells the change feed).
            if let Some(bookings) = db.bookings.get() {
                bookings.forget(&rolled.retired);
            }
            Ok(rolled.report)
        })
    }

    fn live_showtimes(&self, now: DateTime<Utc>) -> StoreFuture<'_, Vec<Showtime>> {
        self.blocking(move |db| db.schedule.live_showtimes(now))
    }

    fn showtime(&self, id: ShowtimeId) -> StoreFuture<'_, Option<Showtime>> {
        self.blocking(move |db| db.schedule.showtime(&id))
    }

    fn place(&self, booking: NewBooking) -> StoreFuture<'_, PlaceOutcome> {
        let pending = self.inner.bookings().map(|b| b.place(booking));
        Box::pin(async move { pending?.await })
    }

    fn cancel(
        &self,
        reference: BookingReference,
        token: ManageToken,
        now: DateTime<Utc>,
    ) -> StoreFuture<'_, CancelOutcome> {
        let pending = self.inner.bookings().map(|b| b.cancel(reference, token, now));
        Box::pin(async move { pending?.await })
    }

    fn cancel_by_operator(&self, reference: BookingReference, now: DateTime<Utc>) -> StoreFuture<'_, CancelOutcome> {
        let pending = self.inner.bookings().map(|b| b.cancel_by_operator(reference, now));
        Box::pin(async move { pending?.await })
    }

    fn check_in(&self, check_in: CheckIn) -> StoreFuture<'_, CheckInOutcome> {
        let pending = self.inner.bookings().map(|b| b.check_in(check_in));
        Box::pin(async move { pending?.await })
    }

    fn bookings(&self, query: BookingQuery) -> StoreFuture<'_, Vec<BookingRecord>> {
        self.blocking(move |db| db.bookings()?.bookings(&query))
    }

    fn showtimes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreFuture<'_, Vec<Showtime>> {
        self.blocking(move |db| db.bookings()?.showtimes_between(from, to))
    }

    /// On a connection of its own (see [`super::backup`]), not the booking side's.
    fn backup(&self, to: PathBuf) -> StoreFuture<'_, BackupReport> {
        self.blocking(move |db| super::backup::backup(&db.path, &to))
    }

    fn observe_commits(&self, observer: Arc<dyn CommitObserver>) {
        self.inner.commits.set(observer);
    }

    fn booking(&self, reference: BookingReference, token: ManageToken) -> StoreFuture<'_, Option<BookingRecord>> {
        self.blocking(move |db| db.bookings()?.booking(&reference, &token))
    }

    fn booking_by_reference(&self, reference: BookingReference) -> StoreFuture<'_, Option<BookingRecord>> {
        self.blocking(move |db| db.bookings()?.booking_by_reference(&reference))
    }

    fn recover(&self, recovery: Recovery) -> StoreFuture<'_, usize> {
        let pending = self.inner.bookings().map(|b| b.recover(recovery));
        Box::pin(async move { pending?.await })
    }

    /// Looks on a read connection first: an idle sender polls every second on every instance,
    /// and a poll that finds nothing due must not take the write lock bookings wait for.
    fn claim_mail(&self, claim: MailClaim) -> StoreFuture<'_, Vec<QueuedMail>> {
        Box::pin(async move {
            let now = claim.now;
            if !self.blocking(move |db| db.bookings()?.any_mail_due(now)).await? {
                return Ok(Vec::new());
            }
            let pending = self.inner.bookings().map(|b| b.claim_mail(claim));
            pending?.await
        })
    }

    fn finish_mail(&self, result: MailResult) -> StoreFuture<'_, bool> {
        let pending = self.inner.bookings().map(|b| b.finish_mail(result));
        Box::pin(async move { pending?.await })
    }

    fn outbox_counts(&self) -> StoreFuture<'_, OutboxCounts> {
        self.blocking(|db| db.bookings()?.outbox_counts())
    }

    fn showtime_seats(&self, id: ShowtimeId) -> StoreFuture<'_, Option<ShowtimeSeats>> {
        if let Some(seats) = self.cached_showtime_seats(&id) {
            return Box::pin(std::future::ready(Ok(Some(seats))));
        }
        // No turn at the blocking pool: the seat-map reader batches misses (`seat_misses.rs`).
        let pending = self.inner.bookings().map(|b| b.seat_map(id));
        Box::pin(async move { pending?.await })
    }

    fn cached_showtime_seats(&self, id: &ShowtimeId) -> Option<ShowtimeSeats> {
        self.inner.bookings.get()?.showtime_seats_in_memory(id)
    }

    fn live_showtimes_taken(&self, now: DateTime<Utc>) -> StoreFuture<'_, Vec<(Showtime, usize)>> {
        self.blocking(move |db| db.bookings()?.live_showtimes_taken(now))
    }

    fn live_showtimes_page(&self, page: ShowtimePage) -> StoreFuture<'_, Vec<(Showtime, usize)>> {
        self.blocking(move |db| db.bookings()?.live_showtimes_page(&page))
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        self.blocking(|db| Ok(db.bookings()?.check()?))
    }

    fn changes(&self) -> ChangeStream {
        self.inner.feed.subscribe()
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        self.inner.calls.close();
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // Under the start lock: a booking side starting now finishes first and is
                // closed below; none starts after.
                *inner.starting.lock().unwrap_or_else(|p| p.into_inner()) = true;
                if let Some(b) = inner.bookings.get() {
                    b.close();
                }
            })
            .await
            .map_err(|e| StoreError::Backend(format!("closing the database panicked: {e}").into()))
        })
    }

    fn describe(&self) -> String {
        format!("SQLite {}", self.inner.path.display())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::catalog::tests::catalog_of;
    use crate::schedule::plan_horizon;
    use crate::store::SeatsChanged;
    use crate::store::changes::Received;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_service_learns_of_showtimes_another_process_retired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let now = DateTime::parse_from_rfc3339("2026-11-24T00:00:00+07:00").unwrap().to_utc();
        let plan = plan_horizon(&catalog_of(2, ""), now);
        SqliteStore::open(&path).unwrap().roll(&plan, now).unwrap();
        // The service, with the showtime in its seat cache.
        let service = SqliteDatabase::open(&path, OpenMode::Existing).unwrap();
        let gone = plan.iter().find(|s| s.film_slug == "film-2").unwrap().id.clone();
        assert!(service.showtime_seats(gone.clone()).await.unwrap().is_some());
        assert!(service.cached_showtime_seats(&gone).is_some(), "cached");
        let mut changes = service.changes();
        // `tiketa-gen roll` in another process, after film 2 left the content.
        let without: Vec<_> = plan.into_iter().filter(|s| s.film_slug != "film-2").collect();
        let report = SqliteStore::open(&path).unwrap().roll(&without, now).unwrap();
        assert!(report.retired > 0);
        let told = tokio::time::timeout(Duration::from_secs(1), async {
            loop {
                match changes.recv().await {
                    Received::Changed(SeatsChanged { showtime }) if showtime == gone => return,
                    Received::Closed => panic!("the store closed"),
                    _ => {}
                }
            }
        })
        .await;
        assert!(told.is_ok(), "the service was told of the retirement within a second");
        assert_eq!(service.cached_showtime_seats(&gone), None, "and forgot the showtime");
        assert_eq!(service.showtime_seats(gone).await.unwrap(), None);
        service.close().await.unwrap();
    }
}
