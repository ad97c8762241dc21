//! The SQLite booking store: a writer thread for every booking write, a pool for reads, and a
//! reader thread for seat maps the seat index misses ([`super::seat_misses`]).
//!
//! See [`super::bookings_writer`] for why writes are funnelled through one thread, and
//! [`super::bookings_wal`] for how the write-ahead log is kept small, and [`super::watcher`] for
//! how the seat index learns of other processes' commits on the same file. The queue
//! to it is bounded, so an overloaded service refuses new bookings quickly ("store busy")
//! instead of queueing without limit; closing the store lets the writer finish what was
//! queued, commit it, and close its connection before `close` returns.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};

use super::bookings_checkpoint::checkpointer;
use super::bookings_health::{WriteStatus, check_free_space};
use super::bookings_read::{self, ReadPool};
use super::bookings_wal::{CheckpointLock, ReadGate, Wal, WalLimits};
use super::bookings_writer::{Command, Writer};
use super::commit_watch::CommitWatch;
use super::database_file::DatabaseFile;
use super::open_connection;
use super::pending::{Pending, Reply};
use super::seat_changes::Origin;
use super::seat_misses::SeatMisses;
use super::watcher::Watcher;
use crate::booking::hold::{HoldOutcome, NewHold, ReleaseHold};
use crate::booking::record::{BookingRecord, CancelOutcome, NewBooking, PlaceOutcome, ShowtimeSeats};
use crate::booking::{BookingReference, ManageToken};
use crate::box_office::{BookingQuery, CheckIn, CheckInOutcome};
use crate::outbox::{MailClaim, MailResult, OutboxCounts, QueuedMail, Recovery};
use crate::schedule::{Showtime, ShowtimeId};
use crate::store::seat_cache::SeatIndex;
use crate::store::{ChangeFeed, OpenMode, StoreError, Unavailable};

/// How many writes may wait for the writer before new ones are refused.
pub const WRITE_QUEUE: usize = 8192;

/// Bookings in a SQLite file.
pub struct SqliteBookingStore {
    path: PathBuf,
    writes: Mutex<Option<SyncSender<Command>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    stop_checkpoints: Mutex<Option<SyncSender<()>>>,
    checkpointer: Mutex<Option<JoinHandle<()>>>,
    stop_watching: Mutex<Option<SyncSender<()>>>,
    watcher: Mutex<Option<JoinHandle<()>>>,
    /// False once the watcher thread has ended, however it ended: other processes' commits
    /// then go unseen, so seat maps are read from the database instead of the cache.
    watching: Arc<AtomicBool>,
    reads: Arc<ReadPool>,
    seats: Arc<SeatIndex>,
    /// Seat-map misses, read in batches by a thread of their own.
    misses: SeatMisses,
    file: Arc<DatabaseFile>,
    status: Arc<WriteStatus>,
}

impl SqliteBookingStore {
    /// Opens (and migrates) an existing database and starts the writer thread. Never creates
    /// the database: a missing file is [`StoreError::Missing`].
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, WalLimits::default(), ChangeFeed::default())
    }

    /// [`SqliteBookingStore::open`] with other limits for the write-ahead log, publishing the
    /// showtimes whose seats its commits change to `feed`.
    pub fn open_with(path: &Path, wal_limits: WalLimits, feed: ChangeFeed) -> Result<Self, StoreError> {
        Self::open_observed(path, wal_limits, feed, Arc::default())
    }

    /// [`SqliteBookingStore::open_with`], telling `commits` of every commit.
    pub(crate) fn open_observed(
        path: &Path,
        wal_limits: WalLimits,
        feed: ChangeFeed,
        commits: Arc<CommitWatch>,
    ) -> Result<Self, StoreError> {
        let conn = open_connection(path, OpenMode::Existing)?;
        let file = Arc::new(DatabaseFile::identify(path)?);
        // Checkpoints are the checkpointer thread's and the writer's job between batches,
        // never a booking commit's.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0").map_err(super::backend)?;
        let checkpoint_lock = CheckpointLock::default();
        let read_gate = ReadGate::default();
        let mut wal = Wal::new(path, wal_limits, checkpoint_lock.clone(), read_gate.clone());
        // A log left by a crash is folded in before the first booking, not during one.
        wal.truncate(&conn);
        let (stop_checkpoints, stop) = sync_channel(1);
        let checkpoints = checkpointer(path, stop, checkpoint_lock)?;
        let checkpointer = std::thread::Builder::new()
            .name("tiketa-checkpointer".into())
            .spawn(checkpoints)
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let (tx, rx) = sync_channel(WRITE_QUEUE);
        // Sized for every showtime not yet started: a service's first pass fills it to about that.
        let live: i64 = conn
            .query_row("SELECT count(*) FROM showtimes WHERE archived = 0", [], |r| r.get(0))
            .map_err(super::backend)?;
        let seats = Arc::new(SeatIndex::with_capacity(usize::try_from(live).unwrap_or(0)));
        let origin = Origin::random();
        let watcher = Watcher::open(path, origin, seats.clone(), feed.clone(), read_gate.clone())?;
        let (stop_watching, stop) = sync_channel(1);
        let watching = Arc::new(AtomicBool::new(true));
        let alive = Watching(watching.clone());
        let watcher = std::thread::Builder::new()
            .name("tiketa-seat-watcher".into())
            .spawn(move || {
                let _alive = alive;
                watcher.run(stop)
            })
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let status = Arc::new(WriteStatus::default());
        let writer = Writer {
            conn,
            file: file.clone(),
            status: status.clone(),
            wal,
            seats: seats.clone(),
            feed,
            path: path.to_path_buf(),
            origin,
            batches: 0,
            commits,
        };
        let writer = std::thread::Builder::new()
            .name("tiketa-booking-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let reads = Arc::new(ReadPool::new(path, read_gate));
        let misses = SeatMisses::start(reads.clone(), seats.clone(), watching.clone())?;
        Ok(SqliteBookingStore {
            path: path.to_path_buf(),
            writes: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            stop_checkpoints: Mutex::new(Some(stop_checkpoints)),
            checkpointer: Mutex::new(Some(checkpointer)),
            stop_watching: Mutex::new(Some(stop_watching)),
            watcher: Mutex::new(Some(watcher)),
            watching,
            reads,
            seats,
            misses,
            file,
            status,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops taking writes, waits for the queued ones to commit and closes the writer's
    /// connection, and stops the seat-map reader (queued misses are answered
    /// [`StoreError::Closed`]). Other reads still work after; later writes and seat-map misses
    /// are refused.
    pub fn close(&self) {
        self.misses.close();
        drop(lock(&self.writes).take());
        // Taken out first, so a health check during the join sees "stopped" without waiting.
        let writer = lock(&self.writer).take();
        if let Some(writer) = writer {
            // A panicked writer has already dropped its connection; nothing more to do.
            let _ = writer.join();
        }
        drop(lock(&self.stop_checkpoints).take());
        if let Some(checkpointer) = lock(&self.checkpointer).take() {
            let _ = checkpointer.join();
        }
        drop(lock(&self.stop_watching).take());
        if let Some(watcher) = lock(&self.watcher).take() {
            let _ = watcher.join();
        }
    }

    fn submit<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Pending<T> {
        let (reply, pending) = Pending::channel();
        let sender = lock(&self.writes).clone();
        let Some(sender) = sender else {
            return Pending::ready(Err(StoreError::Closed));
        };
        match sender.try_send(make(reply)) {
            Ok(()) => pending,
            Err(TrySendError::Full(_)) => Pending::ready(Err(StoreError::Busy)),
            Err(TrySendError::Disconnected(_)) => Pending::ready(Err(Unavailable::WriterStopped.into())),
        }
    }
}

/// Held by the watcher thread: dropped when it ends, by return or by panic.
struct Watching(Arc<AtomicBool>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for SqliteBookingStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// The booking side of [`crate::store::Store`], blocking; [`super::SqliteDatabase`] runs the
/// reads on blocking threads.
impl SqliteBookingStore {
    /// Submits a booking to the writer thread.
    pub fn place(&self, booking: NewBooking) -> Pending<PlaceOutcome> {
        self.submit(|reply| Command::Place(Box::new(booking), reply))
    }

    /// Submits seats to hold to the writer thread.
    pub fn hold(&self, hold: NewHold) -> Pending<HoldOutcome> {
        self.submit(|reply| Command::Hold(Box::new(hold), reply))
    }

    /// Answers a hold as it is (a [`NewHold`] with no seats) from a read connection: a
    /// reloaded page asks this, and it needs no turn at the writer. The connection is
    /// read-only, so a look cannot write even by mistake.
    pub fn look(&self, hold: &NewHold) -> Result<HoldOutcome, StoreError> {
        debug_assert!(hold.seats.is_empty(), "a look asks for no seats");
        self.reads.with(|c| super::holds::hold(c, hold).map(|(outcome, _)| outcome))
    }

    /// Submits seats to give back to the writer thread.
    pub fn release(&self, release: ReleaseHold) -> Pending<HoldOutcome> {
        self.submit(|reply| Command::Release(Box::new(release), reply))
    }

    pub fn cancel(
        &self,
        reference: BookingReference,
        token: ManageToken,
        now: DateTime<Utc>,
    ) -> Pending<CancelOutcome> {
        self.submit(|reply| Command::Cancel { reference, token, now, reply })
    }

    /// Submits a box-office cancellation to the writer thread.
    pub fn cancel_by_operator(&self, reference: BookingReference, now: DateTime<Utc>) -> Pending<CancelOutcome> {
        self.submit(|reply| Command::CancelByOperator { reference, now, reply })
    }

    /// Submits a door's scan to the writer thread.
    pub fn check_in(&self, check_in: CheckIn) -> Pending<CheckInOutcome> {
        self.submit(|reply| Command::CheckIn(Box::new(check_in), reply))
    }

    pub fn bookings(&self, query: &BookingQuery) -> Result<Vec<BookingRecord>, StoreError> {
        self.reads.with(|c| bookings_read::bookings(c, query))
    }

    pub fn showtimes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Showtime>, StoreError> {
        self.reads.with(|c| super::schedule::showtimes_between(c, from, to))
    }

    /// Forgets what the seat index holds of `showtimes` (a roll retired them), so that the
    /// next read asks the database, which no longer has them open.
    pub(crate) fn forget(&self, showtimes: &[ShowtimeId]) {
        self.seats.evict(showtimes.iter().map(ShowtimeId::as_str));
    }

    pub fn booking(
        &self,
        reference: &BookingReference,
        token: &ManageToken,
    ) -> Result<Option<BookingRecord>, StoreError> {
        self.reads.with(|c| bookings_read::booking_of_owner(c, reference, token).map(|o| o.map(|(_, r)| r)))
    }

    pub fn recover(&self, recovery: Recovery) -> Pending<usize> {
        self.submit(|reply| Command::Recover(Box::new(recovery), reply))
    }

    pub fn claim_mail(&self, claim: MailClaim) -> Pending<Vec<QueuedMail>> {
        self.submit(|reply| Command::ClaimMail(Box::new(claim), reply))
    }

    /// Whether any mail is due for a claim at `now`, from a read connection.
    pub fn any_mail_due(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.reads.with(|c| super::outbox::any_due(c, now))
    }

    pub fn finish_mail(&self, result: MailResult) -> Pending<bool> {
        self.submit(|reply| Command::FinishMail(Box::new(result), reply))
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        self.reads.with(super::outbox::counts)
    }

    pub fn booking_by_reference(&self, reference: &BookingReference) -> Result<Option<BookingRecord>, StoreError> {
        self.reads.with(|c| bookings_read::booking_by_reference(c, reference))
    }

    /// A showtime's seats, blocking until read on a miss. Not for async code: see
    /// [`SqliteBookingStore::seat_map`].
    pub fn showtime_seats(&self, id: &ShowtimeId) -> Result<Option<ShowtimeSeats>, StoreError> {
        self.seat_map(id.clone()).wait()
    }

    /// A showtime's seats: from the index at once, else queued to the seat-map reader (see
    /// [`super::seat_misses`]), which fills the index. Nothing of the index is locked while
    /// the database is read: readers of cached showtimes go on meanwhile (issue 13).
    pub fn seat_map(&self, id: ShowtimeId) -> Pending<Option<ShowtimeSeats>> {
        match self.showtime_seats_in_memory(&id) {
            Some(seats) => Pending::ready(Ok(Some(seats))),
            None => self.misses.read(id),
        }
    }

    #[cfg(test)]
    pub(super) fn misses(&self) -> &SeatMisses {
        &self.misses
    }

    /// From the cache, while the watcher keeps it right.
    pub fn showtime_seats_in_memory(&self, id: &ShowtimeId) -> Option<ShowtimeSeats> {
        if !self.watching.load(Ordering::Relaxed) {
            return None;
        }
        self.seats.get(id.as_str())
    }

    pub fn live_showtimes_taken(&self, now: DateTime<Utc>) -> Result<Vec<(Showtime, usize)>, StoreError> {
        self.reads.with(|c| bookings_read::live_showtimes_taken(c, now))
    }

    /// One page of the live showtimes with their taken seats: see [`crate::store::showtime_page`].
    pub fn live_showtimes_page(
        &self,
        page: &crate::store::showtime_page::ShowtimePage,
    ) -> Result<Vec<(Showtime, usize)>, StoreError> {
        self.reads.with(|c| super::showtime_page::live_showtimes_page(c, page))
    }

    /// Whether bookings would succeed. No disk flush: a few `stat`s, the writer's latest
    /// outcome and one read query.
    pub fn check(&self) -> Result<(), Unavailable> {
        let writer_running = lock(&self.writer).as_ref().is_some_and(|w| !w.is_finished());
        if !writer_running {
            return Err(Unavailable::WriterStopped);
        }
        self.file.check()?;
        self.status.check()?;
        check_free_space(&self.path)?;
        self.reads.with(|c| c.query_row("SELECT count(*) FROM showtimes", [], |_| Ok(()))).map_err(|e| {
            tracing::error!(db = %self.path.display(), "health: the database does not answer: {e}");
            Unavailable::Unreadable
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, sync_channel};
    use std::time::Duration;

    use chrono::DateTime;

    use super::{SqliteBookingStore, Watching};
    use crate::catalog::tests::catalog_of;
    use crate::schedule::{ShowtimeId, plan_horizon};
    use crate::store::sqlite::SqliteStore;

    /// A cache miss held in the middle of its database read blocks no reader of a cached
    /// showtime, whichever part of the index it falls in. (Another miss may wait: the writer's
    /// idle log truncation closes the read gate behind the held read, see `bookings_wal.rs`.)
    #[test]
    fn a_miss_held_in_its_database_read_blocks_no_other_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let now = DateTime::parse_from_rfc3339("2026-11-24T00:00:00+07:00").unwrap().to_utc();
        SqliteStore::open(&path).unwrap().roll(&plan_horizon(&catalog_of(8, ""), now), now).unwrap();
        let store = Arc::new(SqliteBookingStore::open(&path).unwrap());
        let ids: Vec<ShowtimeId> =
            store.showtimes_between(now, now + chrono::Duration::days(30)).unwrap().into_iter().map(|s| s.id).collect();
        assert!(ids.len() > 33, "{} showtimes", ids.len());
        let (cached, rest) = ids.split_at(32);
        for id in cached {
            store.showtime_seats(id).unwrap().unwrap();
            assert!(store.showtime_seats_in_memory(id).is_some());
        }
        // The first miss from here on stops inside its read until told to go on.
        let (reading, in_read) = sync_channel(1);
        let (go, wait) = sync_channel::<()>(1);
        let wait = std::sync::Mutex::new(Some(wait));
        store.misses.set_after_read(Arc::new(move |_: &[ShowtimeId]| {
            if let Some(wait) = wait.lock().unwrap().take() {
                reading.send(()).unwrap();
                wait.recv().unwrap();
            }
        }));
        let held = rest[0].clone();
        let missing = {
            let store = store.clone();
            std::thread::spawn(move || store.showtime_seats(&held).unwrap().unwrap())
        };
        in_read.recv().unwrap();
        // Meanwhile, on another thread: every cached showtime.
        let (done, answers) = channel();
        let others = {
            let (store, cached) = (store.clone(), cached.to_vec());
            std::thread::spawn(move || {
                for id in &cached {
                    assert!(store.showtime_seats(id).unwrap().is_some());
                }
                done.send(()).unwrap();
            })
        };
        // A deadline for the failure message, not a wait for an event: the readers answer at
        // once, or they are waiting for the held miss, which never goes on before this.
        let answered = answers.recv_timeout(Duration::from_secs(60));
        go.send(()).unwrap();
        others.join().unwrap();
        assert_eq!(answered, Ok(()), "readers waited for a miss held in its database read");
        assert_eq!(missing.join().unwrap().showtime.id, rest[0]);
        assert!(store.showtime_seats_in_memory(&rest[0]).is_some(), "the held miss filled the index after");
        assert!(store.showtime_seats(&rest[1]).unwrap().is_some(), "and misses go on");
    }

    #[test]
    fn a_watcher_thread_that_panics_stops_the_cache_being_trusted() {
        let watching = Arc::new(AtomicBool::new(true));
        let alive = Watching(watching.clone());
        let ended = std::thread::spawn(move || {
            let _alive = alive;
            panic!("the watcher failed");
        })
        .join();
        assert!(ended.is_err());
        assert!(!watching.load(Ordering::Relaxed), "the flag falls with the thread");
    }
}
