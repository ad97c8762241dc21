//! Seat-map cache misses, read from the database in batches by one thread: [`SeatMisses`].
//!
//! A seat map not in the seat index has to be read from the database, and a read must not run
//! on a tokio worker (it may wait on the disk). Handing each miss to tokio's blocking pool cost
//! far more than the read itself: at 10,000 films, with every request of a cold pass a miss,
//! about 30 % of the service's time went to futex waits and wakes and context switches, the
//! three small queries to a few % (issue 13). So misses are queued here instead, each with a
//! one-shot reply, to one long-lived reader thread that, while there is work, takes everything
//! queued at once and:
//!
//! - reads each showtime once, however many callers missed it (a cold page asked for by many
//!   visitors at once costs one read and one fill);
//! - reads the whole batch on one pooled connection inside one read transaction: one turn at
//!   the read gate, one snapshot, instead of an implicit transaction per query;
//! - takes the index's generation before the read, as a single miss did, so a batch read
//!   before a commit that it may not show is answered but not kept (see
//!   [`SeatIndex::fill`]).
//!
//! Under load the reader never sleeps: a miss costs a queue push (and a wake only when the
//! reader had nothing to do) instead of a thread hand-off of its own. Readers of cached
//! showtimes never come here and never wait for a batch: the index is not locked while the
//! database is read.
//!
//! Closing stops the thread: what is being read is answered, what is still queued is answered
//! [`StoreError::Closed`], later misses too. A reader that panics answers everything queued,
//! and every later miss, with an error saying so, rather than leaving callers waiting forever.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use super::bookings_read::{self, ReadPool};
use super::pending::{Pending, Reply};
use crate::booking::record::ShowtimeSeats;
use crate::schedule::ShowtimeId;
use crate::store::StoreError;
use crate::store::seat_cache::SeatIndex;

/// The reader thread's name, as `top -H` and a debugger show it.
pub(crate) const READER_THREAD: &str = "tiketa-seat-reader";

type Waiters = Vec<Reply<Option<ShowtimeSeats>>>;

/// The queue of seat-map misses and the thread that reads them.
pub(crate) struct SeatMisses {
    shared: Arc<Shared>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a miss is queued into an empty queue, and on close.
    work: Condvar,
    /// Called on the reader thread inside each batch's read transaction, after the reads and
    /// before the fill, with the showtimes read from the database: lets a test hold a batch
    /// mid-read and see what was read.
    #[cfg(test)]
    after_read: Mutex<Option<ReadHook>>,
}

#[cfg(test)]
pub(crate) type ReadHook = Arc<dyn Fn(&[ShowtimeId]) + Send + Sync>;

#[derive(Default)]
struct Queue {
    /// Each showtime missed since the reader last took the queue, with everyone waiting for it.
    waiting: HashMap<ShowtimeId, Waiters>,
    state: State,
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    #[default]
    Open,
    Closed,
    /// The reader thread ended without being closed: it panicked.
    Stopped,
}

impl State {
    /// The refusal a miss gets in this state, `None` when it is queued.
    fn refusal(self) -> Option<StoreError> {
        match self {
            State::Open => None,
            State::Closed => Some(StoreError::Closed),
            State::Stopped => Some(StoreError::Backend(
                "the seat-map reader thread stopped after an internal error; restart the service".into(),
            )),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SeatMisses {
    /// Starts the reader thread. It fills `seats` with what it reads while `watching` says the
    /// index is kept right (see the watcher in `bookings.rs`), and only reads otherwise.
    pub(crate) fn start(
        reads: Arc<ReadPool>,
        seats: Arc<SeatIndex>,
        watching: Arc<AtomicBool>,
    ) -> Result<Self, StoreError> {
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            work: Condvar::new(),
            #[cfg(test)]
            after_read: Mutex::new(None),
        });
        let reader = Reader { shared: shared.clone(), reads, seats, watching };
        let reader = std::thread::Builder::new()
            .name(READER_THREAD.into())
            .spawn(move || reader.run())
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(SeatMisses { shared, reader: Mutex::new(Some(reader)) })
    }

    /// Queues a miss of showtime `id`: answered once the reader has read it (`None` when there
    /// is no such showtime).
    pub(crate) fn read(&self, id: ShowtimeId) -> Pending<Option<ShowtimeSeats>> {
        let (reply, pending) = Pending::channel();
        let mut queue = lock(&self.shared.queue);
        if let Some(refused) = queue.state.refusal() {
            return Pending::ready(Err(refused));
        }
        // A reader with work queued is awake or about to look again: only a miss into an
        // empty queue needs to wake it.
        let wake = queue.waiting.is_empty();
        queue.waiting.entry(id).or_default().push(reply);
        drop(queue);
        if wake {
            self.shared.work.notify_one();
        }
        pending
    }

    /// Stops the reader: the batch being read is answered, queued misses and later ones get
    /// [`StoreError::Closed`]. Returns once the thread has ended.
    pub(crate) fn close(&self) {
        {
            let mut queue = lock(&self.shared.queue);
            if queue.state == State::Open {
                queue.state = State::Closed;
            }
        }
        self.shared.work.notify_all();
        if let Some(reader) = lock(&self.reader).take() {
            // A reader that panicked has answered its waiters already (see `Stopped`).
            let _ = reader.join();
        }
    }

    #[cfg(test)]
    pub(crate) fn set_after_read(&self, hook: ReadHook) {
        *lock(&self.shared.after_read) = Some(hook);
    }

    /// How many callers wait in the queue (not those of the batch being read).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        lock(&self.shared.queue).waiting.values().map(Vec::len).sum()
    }

    #[cfg(test)]
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.shared.queue).state == State::Closed
    }
}

impl Drop for SeatMisses {
    fn drop(&mut self) {
        self.close();
    }
}

/// What the reader thread owns.
struct Reader {
    shared: Arc<Shared>,
    reads: Arc<ReadPool>,
    seats: Arc<SeatIndex>,
    watching: Arc<AtomicBool>,
}

/// The misses of the batch being read: answered with the stopped reader's error if the read
/// panics, instead of with a closed channel's [`StoreError::Closed`] ("this instance is
/// stopping"), which would not be true.
struct InFlight(Vec<(ShowtimeId, Waiters)>);

impl Drop for InFlight {
    fn drop(&mut self) {
        for reply in self.0.drain(..).flat_map(|(_, waiters)| waiters) {
            reply.send(Err(State::Stopped.refusal().expect("a stopped reader refuses")));
        }
    }
}

/// Held by the reader thread: when it ends, by close or by panic, everyone still queued is
/// answered and later misses are refused.
struct Stopped(Arc<Shared>);

impl Drop for Stopped {
    fn drop(&mut self) {
        let (waiting, state) = {
            let mut queue = lock(&self.0.queue);
            if queue.state == State::Open {
                queue.state = State::Stopped;
            }
            (std::mem::take(&mut queue.waiting), queue.state)
        };
        for reply in waiting.into_values().flatten() {
            reply.send(Err(state.refusal().expect("a stopped reader refuses")));
        }
    }
}

impl Reader {
    fn run(self) {
        let _stopped = Stopped(self.shared.clone());
        while let Some(batch) = self.next_batch() {
            self.answer(batch);
        }
    }

    /// Everything queued, waiting for some if there is none; `None` once closed.
    fn next_batch(&self) -> Option<HashMap<ShowtimeId, Waiters>> {
        let mut queue = lock(&self.shared.queue);
        loop {
            if queue.state != State::Open {
                return None;
            }
            if !queue.waiting.is_empty() {
                return Some(std::mem::take(&mut queue.waiting));
            }
            queue = self.shared.work.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn answer(&self, batch: HashMap<ShowtimeId, Waiters>) {
        let trusted = self.watching.load(Ordering::Relaxed);
        let mut in_flight = InFlight(Vec::with_capacity(batch.len()));
        for (id, waiters) in batch {
            // Filled by an earlier batch since this miss was queued.
            match trusted.then(|| self.seats.get(id.as_str())).flatten() {
                Some(seats) => send_each(waiters, Some(seats)),
                None => in_flight.0.push((id, waiters)),
            }
        }
        if in_flight.0.is_empty() {
            return;
        }
        let to_read = &in_flight.0;
        // Before the read: a commit after this makes the fills below stale, and they are dropped.
        let generation = self.seats.generation();
        let read = self.reads.with(|conn| {
            // One transaction, so one snapshot for the batch rather than one per statement.
            let tx = conn.unchecked_transaction()?;
            let found: Vec<_> = to_read.iter().map(|(id, _)| bookings_read::showtime_seats(&tx, id)).collect();
            #[cfg(test)]
            {
                let hook = lock(&self.shared.after_read).clone();
                if let Some(hook) = hook {
                    hook(&to_read.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>());
                }
            }
            tx.commit()?;
            Ok(found)
        });
        let to_read = std::mem::take(&mut in_flight.0);
        let found = match read {
            Ok(found) => found,
            Err(e) => {
                let message = e.to_string();
                for (_, waiters) in to_read {
                    send_error(waiters, &message);
                }
                return;
            }
        };
        for ((_, waiters), seats) in to_read.into_iter().zip(found) {
            match seats {
                Ok(seats) => {
                    if let Some(seats) = &seats
                        && trusted
                    {
                        self.seats.fill(generation, seats);
                    }
                    send_each(waiters, seats);
                }
                Err(e) => {
                    let message = e.to_string();
                    send_error(waiters, &message);
                }
            }
        }
    }
}

/// Answers every waiter of one showtime with its own copy of the seats (most have one waiter:
/// no copy).
fn send_each<T: Clone>(mut waiters: Vec<Reply<T>>, seats: T) {
    let last = waiters.pop();
    for reply in waiters {
        reply.send(Ok(seats.clone()));
    }
    if let Some(last) = last {
        last.send(Ok(seats));
    }
}

/// Answers every waiter of one showtime with the database's error.
fn send_error<T>(waiters: Vec<Reply<T>>, message: &str) {
    for reply in waiters {
        reply.send(Err(StoreError::Backend(message.into())));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
    use std::time::Duration;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::booking::record::{NewBooking, PlaceOutcome};
    use crate::booking::{BookingReference, CheckInCode, ManageToken};
    use crate::catalog::tests::catalog_of;
    use crate::schedule::plan_horizon;
    use crate::store::sqlite::{SqliteBookingStore, SqliteStore};

    /// A deadline for a failure message only: every wait below is for an event that comes at
    /// once when the code is right, and never when it is wrong.
    const NEVER: Duration = Duration::from_secs(60);

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Arc<SqliteBookingStore>,
        ids: Vec<ShowtimeId>,
        now: DateTime<Utc>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let now = DateTime::parse_from_rfc3339("2026-11-24T00:00:00+07:00").unwrap().to_utc();
        SqliteStore::open(&path).unwrap().roll(&plan_horizon(&catalog_of(2, ""), now), now).unwrap();
        let store = Arc::new(SqliteBookingStore::open(&path).unwrap());
        let ids: Vec<ShowtimeId> =
            store.showtimes_between(now, now + chrono::Duration::days(30)).unwrap().into_iter().map(|s| s.id).collect();
        assert!(ids.len() >= 3, "{} showtimes", ids.len());
        Fixture { _dir: dir, store, ids, now }
    }

    /// Holds the reader inside its first batch's read transaction (after the reads) until
    /// `release` is sent; every batch's showtimes are sent to `batches`, the thread's name to
    /// the first receiver.
    struct Held {
        reading: Receiver<Vec<ShowtimeId>>,
        release: SyncSender<()>,
        names: Receiver<Option<String>>,
    }

    fn hold_first_batch(store: &SqliteBookingStore) -> Held {
        let (batches, reading) = sync_channel(64);
        let (release, wait) = sync_channel::<()>(1);
        let (name, names) = channel();
        let wait = Mutex::new(Some(wait));
        store.misses().set_after_read(Arc::new(move |ids: &[ShowtimeId]| {
            let _ = name.send(std::thread::current().name().map(str::to_string));
            let _ = batches.send(ids.to_vec());
            if let Some(wait) = wait.lock().unwrap().take() {
                wait.recv().unwrap();
            }
        }));
        Held { reading, release, names }
    }

    /// Misses `id` on a thread of its own.
    fn miss(store: &Arc<SqliteBookingStore>, id: &ShowtimeId) -> Receiver<Result<Option<ShowtimeSeats>, StoreError>> {
        let (answer, answered) = channel();
        let (store, id) = (store.clone(), id.clone());
        std::thread::spawn(move || answer.send(store.showtime_seats(&id)).unwrap());
        answered
    }

    /// Waits until `n` callers are queued behind the held batch.
    fn until_queued(store: &SqliteBookingStore, n: usize) {
        while store.misses().queued() < n {
            std::thread::yield_now();
        }
    }

    #[test]
    fn concurrent_misses_of_one_showtime_share_one_database_read() {
        let f = fixture();
        let held = hold_first_batch(&f.store);
        let first = miss(&f.store, &f.ids[0]);
        assert_eq!(held.reading.recv_timeout(NEVER).unwrap(), [f.ids[0].clone()]);
        assert_eq!(held.names.recv().unwrap().as_deref(), Some(READER_THREAD), "the reader thread is named");
        // Sixteen callers miss one showtime and two another while the reader is busy.
        let many: Vec<_> = (0..16).map(|_| miss(&f.store, &f.ids[1])).collect();
        let other: Vec<_> = (0..2).map(|_| miss(&f.store, &f.ids[2])).collect();
        until_queued(&f.store, 18);
        held.release.send(()).unwrap();
        assert_eq!(first.recv_timeout(NEVER).unwrap().unwrap().unwrap().showtime.id, f.ids[0]);
        for answer in many.iter().chain(&other) {
            assert!(answer.recv_timeout(NEVER).unwrap().unwrap().is_some());
        }
        let mut second = held.reading.recv_timeout(NEVER).unwrap();
        second.sort();
        assert_eq!(second, [f.ids[1].clone(), f.ids[2].clone()], "one batch, each showtime read once");
        assert!(held.reading.try_recv().is_err(), "and no other read");
        assert!(f.store.showtime_seats_in_memory(&f.ids[1]).is_some(), "filled once read");
    }

    #[test]
    fn a_batch_read_before_a_commit_answers_but_does_not_fill() {
        let f = fixture();
        let held = hold_first_batch(&f.store);
        let id = &f.ids[0];
        let stale = miss(&f.store, id);
        held.reading.recv_timeout(NEVER).unwrap();
        // Committed while the batch, its reads done, has not filled yet.
        let mut rng = rand::rng();
        let placed = f
            .store
            .place(NewBooking {
                showtime: id.clone(),
                seats: vec!["A1".into()],
                name: "Ana".into(),
                email: None,
                reference: BookingReference::generate(&mut rng),
                token_hash: ManageToken::generate(&mut rng).hash(),
                check_in_code: CheckInCode::generate(&mut rng),
                mail: None,
                idempotency: None,
                hold: None,
                now: f.now,
            })
            .wait()
            .unwrap();
        assert!(matches!(placed, PlaceOutcome::Placed(_)));
        held.release.send(()).unwrap();
        let answered = stale.recv_timeout(NEVER).unwrap().unwrap().unwrap();
        assert!(answered.taken.is_empty(), "read from a snapshot before the commit");
        assert_eq!(f.store.showtime_seats_in_memory(id), None, "and not kept");
        assert_eq!(f.store.showtime_seats(id).unwrap().unwrap().taken, ["A1"], "the next miss reads it again");
    }

    #[test]
    fn closing_answers_queued_misses_and_ends_the_reader() {
        let f = fixture();
        let held = hold_first_batch(&f.store);
        let reading = miss(&f.store, &f.ids[0]);
        held.reading.recv_timeout(NEVER).unwrap();
        let queued = miss(&f.store, &f.ids[1]);
        until_queued(&f.store, 1);
        let closing = {
            let store = f.store.clone();
            std::thread::spawn(move || store.close())
        };
        while !f.store.misses().is_closed() {
            std::thread::yield_now();
        }
        held.release.send(()).unwrap();
        closing.join().unwrap();
        assert!(lock(&f.store.misses().reader).is_none(), "close joined the reader thread");
        assert!(reading.recv_timeout(NEVER).unwrap().unwrap().is_some(), "the batch being read is answered");
        assert!(matches!(queued.recv_timeout(NEVER).unwrap(), Err(StoreError::Closed)), "a queued miss is refused");
        assert!(matches!(f.store.showtime_seats(&f.ids[2]), Err(StoreError::Closed)), "and a later one");
    }

    #[test]
    fn a_reader_that_panics_answers_with_an_error_and_refuses_later_misses() {
        let f = fixture();
        let (in_read, reading) = sync_channel(1);
        let (release, wait) = sync_channel::<()>(1);
        let wait = Mutex::new(wait);
        f.store.misses().set_after_read(Arc::new(move |_: &[ShowtimeId]| {
            in_read.send(()).unwrap();
            wait.lock().unwrap().recv().unwrap();
            panic!("a bug in the reader");
        }));
        let reading_miss = miss(&f.store, &f.ids[0]);
        reading.recv_timeout(NEVER).unwrap();
        let queued = miss(&f.store, &f.ids[1]);
        until_queued(&f.store, 1);
        release.send(()).unwrap();
        let stopped = |answer: &Result<Option<ShowtimeSeats>, StoreError>| matches!(answer, Err(StoreError::Backend(e)) if e.to_string().contains("restart"));
        let reading = reading_miss.recv_timeout(NEVER).unwrap();
        assert!(stopped(&reading), "the batch being read: {reading:?}");
        let queued = queued.recv_timeout(NEVER).unwrap();
        assert!(stopped(&queued), "a queued miss: {queued:?}");
        let later = miss(&f.store, &f.ids[2]).recv_timeout(NEVER).unwrap();
        assert!(matches!(later, Err(StoreError::Backend(_))), "a later miss is refused, not left waiting");
        f.store.close();
    }
}
