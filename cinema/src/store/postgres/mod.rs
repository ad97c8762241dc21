//! The PostgreSQL store: several booking-service instances, on several machines, one database.
//!
//! Built on tokio-postgres with a deadpool-postgres pool: async, so it runs on the tokio
//! runtime the service already has (no thread per connection, no blocking pool), the pool is
//! maintained and bounded with timeouts, and tokio-postgres hands out LISTEN/NOTIFY
//! notifications through the connection's own message stream, which is how instances learn of
//! each other's commits ([`listen`]). Connections are plain TCP ([`NoTls`]): the database is
//! expected on a private network. TLS would need a connector such as `tokio-postgres-rustls`
//! in place of `NoTls` in [`PostgresDatabase::open`] and in the listener.
//!
//! The pieces: [`migrations`] (the schema, versioned in `tiketa_schema`, migrated once under an
//! advisory lock), [`schedule`] (roll, serialised by an advisory lock), [`retire`] (what a roll
//! does with the showtimes the content no longer has, safely against bookings racing it),
//! [`batch`] (group commit: the bookings queued at one moment placed in one transaction),
//! [`bookings`] (place and cancel one at a time, by the booker or at the box office, decided by
//! [`crate::booking::decide`]; a booking's confirmation and a cancellation's notice are queued
//! in its transaction), [`check_in`] (a ticket at the door), [`holds`] (seat holds: hold and
//! release), [`outbox`] (the mail outbox: queueing, and the senders' claims on its rows),
//! [`recovery`] (an address's manage links sent again), [`showtime_lock`] (why a booking and
//! a hold of one seat never both commit), [`bookings_read`], [`listen`] (the change feed from
//! other instances), [`errors`] (what failures mean), [`transaction`] (retries of
//! transactions the server aborted on a conflict) and [`observers`] (who hears of commits, for
//! the service's metrics). A backup is PostgreSQL's own `pg_dump`'s job, and
//! [`Store::backup`] says so. A booking is acknowledged only after COMMIT
//! returned, with `synchronous_commit` left on (the server's default; Tiketa never turns it
//! off), so an acknowledged booking survives a server crash.
//! Writes run in a task of their own, so one whose caller stopped waiting still ends with its
//! commit applied to this instance's seat cache and published on its change feed.
//!
//! What an operator sees:
//! - **PostgreSQL down** (refused, unreachable, or gone mid-request): requests that need the
//!   database fail with [`Unavailable::Unreachable`] ("the database server cannot be reached;
//!   check that PostgreSQL is running..."), a 503 with `Retry-After`; health says the same;
//!   the log has the driver's words. Seat maps are served from memory only while the listener
//!   is connected, so with the server down they fail too rather than go stale. Connecting
//!   gives up after [`CONNECT_TIMEOUT`]; a pool wait after [`POOL_WAIT`] answers busy.
//! - **PostgreSQL restarted**: pooled connections from before the restart are dead; a request
//!   that meets one before sending COMMIT is retried on a new connection, so most requests do
//!   not notice; one that loses its connection during COMMIT answers unavailable (the client
//!   retries with its idempotency key and gets its booking if it was kept). The listener logs
//!   that it lost its connection, reconnects with backoff, and clears the seat cache.
//! - **The listener drops** (its backend terminated, a network blip): a warning in the log;
//!   seat maps are read from the database until `LISTEN` is back, then the cache is cleared
//!   and used again. Bookings are unaffected: they are always decided in the database.
//! - **Another instance vanishes mid-transaction** (a network partition; a killed process
//!   closes its sockets and the server rolls back at once): its seats stay held until the
//!   server ends its transaction ([`IDLE_IN_TRANSACTION_TIMEOUT`]); a booking waiting on them
//!   gives up after [`STATEMENT_TIMEOUT`] and answers busy.
//! - **`synchronous_commit = off`** on the server: a warning at start, since a server crash
//!   could then lose bookings already confirmed.

mod batch;
mod bookings;
mod bookings_read;
mod check_in;
mod errors;
mod holds;
mod listen;
mod lock;
mod migrations;
mod observers;
mod outbox;
mod recovery;
mod retire;
mod schedule;
mod showtime_lock;
mod showtime_page;
mod transaction;

use crate::booking::hold::{HoldOutcome, NewHold, ReleaseHold};
use crate::outbox::{MailClaim, MailResult, OutboxCounts, QueuedMail, Recovery};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::Semaphore;
use tokio_postgres::NoTls;

use self::errors::{is_missing_database, pool_error, store_error};
pub use self::listen::ListenerState;
use self::listen::{Listener, Notify};
pub use self::migrations::SCHEMA_VERSION;
use self::observers::Observers;
use super::seat_cache::{SeatChange, SeatIndex};
use super::{
    ChangeFeed, ChangeStream, CommitObserver, DatabaseUrl, OpenMode, RollReport, Store, StoreError, StoreFuture,
    Unavailable,
};
use crate::booking::record::{BookingRecord, CancelOutcome, NewBooking, PlaceOutcome, ShowtimeSeats};
use crate::booking::{BookingReference, ManageToken};
use crate::box_office::{BackupReport, BookingQuery, CheckIn, CheckInOutcome};
use crate::schedule::{Showtime, ShowtimeId};
use crate::store::ShowtimePage;

/// How long connecting to the server may take before it counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection before the store answers busy.
pub const POOL_WAIT: Duration = Duration::from_secs(5);
/// Connections per instance: enough for the writes and reads of a busy instance, few enough
/// that many instances stay under the server's `max_connections` (100 by default).
pub const POOL_SIZE: usize = 16;
/// How long a health check waits for the server's answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest a statement may run (or wait for a lock) before the server cancels it.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest one of this store's transactions may sit idle before the server ends it.
pub const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);
/// TCP keepalives find a silently vanished server (a partition) in about this time.
pub const KEEPALIVE_DEAD_AFTER: Duration = Duration::from_secs(5 + 2 * 3);

/// Writes that may be under way at once; only a bound for [`Store::close`] to wait on, since
/// the pool is what limits them in practice.
const WRITES: u32 = 1 << 20;

/// A PostgreSQL database as a [`Store`].
pub struct PostgresDatabase {
    url: DatabaseUrl,
    shared: Arc<Shared>,
    listener: Listener,
    /// One permit per write under way; [`Store::close`] takes them all to wait for the last.
    writes: Arc<Semaphore>,
    closing: AtomicBool,
}

/// What a write needs, owned by the task it runs in.
struct Shared {
    pool: Pool,
    seats: Arc<SeatIndex>,
    feed: ChangeFeed,
    notify: Notify,
    /// Group commit for bookings ([`batch`]).
    batcher: batch::Batcher,
    /// Told of every commit of booking writes ([`Store::observe_commits`]).
    observers: Arc<Observers>,
}

impl PostgresDatabase {
    /// Connects, brings the schema up to date ([`OpenMode::Create`] also creates the database
    /// if the server has none by that name), and starts the listener, returning once its first
    /// attempt to connect has ended. Must be called on a tokio runtime, which then drives the
    /// store's connections.
    pub async fn open(url: &DatabaseUrl, mode: OpenMode) -> Result<Self, StoreError> {
        let DatabaseUrl::Postgres(text) = url else {
            return Err(StoreError::Open { database: url.to_string(), source: "not a postgres:// URL".into() });
        };
        let database = url.to_string();
        let open_err =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Open { database: database.clone(), source: e };
        let mut config: tokio_postgres::Config = text.parse().map_err(|e| open_err(Box::new(e)))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .keepalives_interval(Duration::from_secs(2))
            .keepalives_retries(3);
        if config.get_application_name().is_none() {
            config.application_name("tiketa");
        }
        // Bounds on what another party can make this instance wait for: a statement (a seat
        // held by a transaction that never ends), and a transaction of ours left open by a
        // partitioned instance, which the server then ends, releasing its seats.
        let options = format!(
            "{} -c statement_timeout={} -c idle_in_transaction_session_timeout={}",
            config.get_options().unwrap_or(""),
            STATEMENT_TIMEOUT.as_millis(),
            IDLE_IN_TRANSACTION_TIMEOUT.as_millis()
        );
        config.options(options.trim_start());
        ensure_database(&config, mode, &database).await?;

        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| open_err(Box::new(e)))?;
        migrations::migrate(&pool, mode, &database).await.map_err(|e| match e {
            StoreError::Unavailable(_) | StoreError::Busy => {
                open_err("the server cannot be reached (see the log for the driver's words)".into())
            }
            other => other,
        })?;
        warn_unless_durable(&pool, &database).await;

        let instance = format!("{:016x}", rand::random::<u64>());
        let seats = Arc::new(SeatIndex::default());
        let feed = ChangeFeed::default();
        let mut listener_config = config;
        listener_config.application_name("tiketa-listener");
        let listener = Listener::spawn(listener_config, instance.clone(), seats.clone(), feed.clone());
        // Until the first attempt ends the cache is unused anyway; waiting makes a fresh store
        // hear other instances from its first request when the server is there.
        let mut state = listener.state();
        let _ = tokio::time::timeout(CONNECT_TIMEOUT * 2, state.wait_for(|s| s.attempts > 0)).await;
        let observers = Arc::new(Observers::default());
        Ok(PostgresDatabase {
            url: url.clone(),
            shared: Arc::new(Shared {
                batcher: batch::Batcher::spawn(pool.clone(), Notify::new(instance.clone()), observers.clone()),
                pool,
                seats,
                feed,
                notify: Notify::new(instance),
                observers,
            }),
            listener,
            writes: Arc::new(Semaphore::new(WRITES as usize)),
            closing: AtomicBool::new(false),
        })
    }

    /// The listener's state, to wait on (tests) or report.
    pub fn listener_state(&self) -> tokio::sync::watch::Receiver<ListenerState> {
        self.listener.state()
    }

    /// Runs a write in a task of its own, holding a write permit, so it runs to its end (its
    /// commit applied to the seat index and published) even when the caller stops waiting: a
    /// handler's future dropped while COMMIT was on its way would otherwise leave a committed
    /// booking out of the index, which this instance's own notifications do not correct.
    /// Refused with [`StoreError::Closed`] once [`Store::close`] began.
    fn write<T, W>(&self, work: impl FnOnce(Arc<Shared>) -> W + Send + 'static) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        W: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        Box::pin(async move {
            // Taken on the first poll (a `Blocking` caller makes the future outside the runtime).
            let permit = self.writes.clone().try_acquire_owned().map_err(|_| StoreError::Closed)?;
            if self.closing.load(Ordering::SeqCst) {
                return Err(StoreError::Closed);
            }
            let write = work(self.shared.clone());
            let task = tokio::spawn(async move {
                let result = write.await;
                drop(permit);
                result
            });
            task.await.map_err(|e| StoreError::Backend(format!("a database write panicked: {e}").into()))?
        })
    }
}

impl Shared {
    /// After a commit that took (`true`) or freed seats: the index learns them before anyone is
    /// answered, and subscribers hear of the showtime.
    fn committed(&self, showtime: &ShowtimeId, seats: &[String], taken: bool) {
        let changes: Vec<SeatChange> = seats.iter().map(|s| (showtime.0.clone(), s.clone(), taken)).collect();
        self.seats.apply(changes);
        self.feed.publish(showtime.clone());
    }
}

impl Shared {
    /// After a commit that changed holds: the index forgets the showtime (holds are not
    /// applied in place: an eviction is right whatever order concurrent commits are applied
    /// in, and the next read loads the showtime afresh), and subscribers hear of it.
    fn holds_changed(&self, showtime: &ShowtimeId) {
        self.seats.evict([showtime.as_str()]);
        self.feed.publish(showtime.clone());
    }
}

/// A booking is acknowledged after COMMIT returns, which means it is on the server's disk only
/// while `synchronous_commit` is not `off`. Tiketa never changes it; it tells the operator
/// when the server was set to lose recent commits in a crash.
async fn warn_unless_durable(pool: &Pool, database: &str) {
    let Ok(client) = pool.get().await else { return };
    if let Ok(row) = client.query_one("SELECT current_setting('synchronous_commit')", &[]).await
        && row.get::<_, String>(0) == "off"
    {
        tracing::warn!(
            "{database}: synchronous_commit is off, so a server crash can lose bookings already confirmed; turn it on"
        );
    }
}

/// Makes sure the database exists: [`OpenMode::Existing`] reports a missing one;
/// [`OpenMode::Create`] creates it through the server's `postgres` database.
async fn ensure_database(config: &tokio_postgres::Config, mode: OpenMode, database: &str) -> Result<(), StoreError> {
    let open_err = |e: tokio_postgres::Error| StoreError::Open { database: database.to_string(), source: Box::new(e) };
    let err = match config.connect(NoTls).await {
        Ok((client, connection)) => {
            drop(client);
            let _ = connection.await;
            return Ok(());
        }
        Err(e) => e,
    };
    if !is_missing_database(&err) {
        return Err(open_err(err));
    }
    let Some(name) = config.get_dbname().map(str::to_string) else {
        return Err(open_err(err));
    };
    if mode == OpenMode::Existing {
        return Err(StoreError::Missing { database: database.to_string() });
    }
    let mut admin = config.clone();
    admin.dbname("postgres");
    let (client, connection) = admin.connect(NoTls).await.map_err(open_err)?;
    let driver = tokio::spawn(connection);
    // A name cannot be a parameter: it is quoted as an identifier instead.
    let created = client.batch_execute(&format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""))).await;
    drop(client);
    let _ = driver.await;
    match created {
        Ok(()) => Ok(()),
        // Another instance created it at the same moment.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) => Ok(()),
        Err(e) => Err(open_err(e)),
    }
}

impl Store for PostgresDatabase {
    fn hold(&self, hold: NewHold) -> StoreFuture<'_, HoldOutcome> {
        self.write(move |db| async move {
            let (outcome, changed) = holds::hold(&db.pool, &db.notify, &db.observers, &hold).await?;
            if changed {
                db.holds_changed(&hold.showtime);
            }
            Ok(outcome)
        })
    }

    fn release(&self, release: ReleaseHold) -> StoreFuture<'_, HoldOutcome> {
        self.write(move |db| async move {
            let (outcome, changed) = holds::release(&db.pool, &db.notify, &db.observers, &release).await?;
            if changed {
                db.holds_changed(&release.showtime);
            }
            Ok(outcome)
        })
    }

    fn roll(&self, plan: Vec<Showtime>, now: DateTime<Utc>) -> StoreFuture<'_, RollReport> {
        self.write(move |db| async move {
            let rolled = schedule::roll(&db.pool, &db.notify, &plan, now).await?;
            // Retired showtimes are gone from this instance's index too, and its subscribers
            // hear of them (the others learn from the roll's notifications).
            for id in &rolled.retired {
                db.holds_changed(id);
            }
            Ok(rolled.report)
        })
    }

    fn live_showtimes(&self, now: DateTime<Utc>) -> StoreFuture<'_, Vec<Showtime>> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            schedule::live_showtimes(&client, now).await.map_err(store_error)
        })
    }

    fn showtime(&self, id: ShowtimeId) -> StoreFuture<'_, Option<Showtime>> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            schedule::showtime(&client, &id).await.map_err(store_error)
        })
    }

    fn place(&self, booking: NewBooking) -> StoreFuture<'_, PlaceOutcome> {
        self.write(move |db| async move {
            let booking_hold = booking.hold.is_some();
            let outcome = db.batcher.place(booking).await?;
            match &outcome {
                // The booking ended its token's hold too: which seats that freed, the index
                // cannot tell, so it reads the showtime again.
                PlaceOutcome::Placed(record) if booking_hold => db.holds_changed(&record.showtime.id),
                PlaceOutcome::Placed(record) => db.committed(&record.showtime.id, &record.seats, true),
                _ => {}
            }
            Ok(outcome)
        })
    }

    fn cancel(
        &self,
        reference: BookingReference,
        token: ManageToken,
        now: DateTime<Utc>,
    ) -> StoreFuture<'_, CancelOutcome> {
        self.write(move |db| async move {
            let (outcome, freed) =
                bookings::cancel(&db.pool, &db.notify, &db.observers, &reference, &token, now).await?;
            if let (CancelOutcome::Cancelled(record), true) = (&outcome, freed) {
                db.committed(&record.showtime.id, &record.seats, false);
            }
            Ok(outcome)
        })
    }

    fn cancel_by_operator(&self, reference: BookingReference, now: DateTime<Utc>) -> StoreFuture<'_, CancelOutcome> {
        self.write(move |db| async move {
            let (outcome, freed) =
                bookings::cancel_by_operator(&db.pool, &db.notify, &db.observers, &reference, now).await?;
            if let (CancelOutcome::Cancelled(record), true) = (&outcome, freed) {
                db.committed(&record.showtime.id, &record.seats, false);
            }
            Ok(outcome)
        })
    }

    fn check_in(&self, check_in: CheckIn) -> StoreFuture<'_, CheckInOutcome> {
        self.write(move |db| async move { check_in::check_in(&db.pool, &db.observers, &check_in).await })
    }

    fn bookings(&self, query: BookingQuery) -> StoreFuture<'_, Vec<BookingRecord>> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            Ok(bookings_read::bookings(&client, &query).await?)
        })
    }

    fn showtimes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreFuture<'_, Vec<Showtime>> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            schedule::showtimes_between(&client, from, to).await.map_err(store_error)
        })
    }

    /// PostgreSQL has its own tool for a consistent copy of a running database, which Tiketa
    /// does not try to replace: the answer says how to run it.
    fn backup(&self, to: std::path::PathBuf) -> StoreFuture<'_, BackupReport> {
        Box::pin(async move {
            Err(StoreError::Unsupported(format!(
                "a PostgreSQL database is backed up with PostgreSQL's own pg_dump, which makes a consistent \
                 copy while the service runs: pg_dump --format=custom --file={} \"$DATABASE_URL\" \
                 (and pg_restore puts it back)",
                to.display()
            )))
        })
    }

    fn observe_commits(&self, observer: Arc<dyn CommitObserver>) {
        self.shared.observers.add(observer);
    }

    fn booking(&self, reference: BookingReference, token: ManageToken) -> StoreFuture<'_, Option<BookingRecord>> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            Ok(bookings_read::booking_of_owner(&client, &reference, &token).await?.map(|(_, record)| record))
        })
    }

    fn booking_by_reference(&self, reference: BookingReference) -> StoreFuture<'_, Option<BookingRecord>> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            Ok(bookings_read::booking_by_reference(&client, &reference).await?)
        })
    }

    fn recover(&self, recovery: Recovery) -> StoreFuture<'_, usize> {
        self.write(move |db| async move { recovery::recover(&db.pool, &recovery).await })
    }

    fn claim_mail(&self, claim: MailClaim) -> StoreFuture<'_, Vec<QueuedMail>> {
        self.write(move |db| async move { outbox::claim(&db.pool, &claim).await })
    }

    fn finish_mail(&self, result: MailResult) -> StoreFuture<'_, bool> {
        self.write(move |db| async move { outbox::finish(&db.pool, &result).await })
    }

    fn outbox_counts(&self) -> StoreFuture<'_, OutboxCounts> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            outbox::counts(&client).await.map_err(store_error)
        })
    }

    fn showtime_seats(&self, id: ShowtimeId) -> StoreFuture<'_, Option<ShowtimeSeats>> {
        if let Some(seats) = self.cached_showtime_seats(&id) {
            return Box::pin(std::future::ready(Ok(Some(seats))));
        }
        Box::pin(async move {
            // Read before the database is asked: a commit applied or evicted meanwhile makes
            // this read too old to keep (see SeatIndex::fill).
            let generation = self.shared.seats.generation();
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            let seats = bookings_read::showtime_seats(&client, &id).await.map_err(store_error)?;
            // Kept only while the listener hears every other writer; a reconnect clears the
            // index (a new generation), so a read from during an outage is never kept.
            if let Some(seats) = &seats
                && self.listener.is_live()
            {
                self.shared.seats.fill(generation, seats);
            }
            Ok(seats)
        })
    }

    fn cached_showtime_seats(&self, id: &ShowtimeId) -> Option<ShowtimeSeats> {
        if !self.listener.is_live() {
            return None;
        }
        self.shared.seats.get(id.as_str())
    }

    fn live_showtimes_taken(&self, now: DateTime<Utc>) -> StoreFuture<'_, Vec<(Showtime, usize)>> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            bookings_read::live_showtimes_taken(&client, now).await.map_err(store_error)
        })
    }

    fn live_showtimes_page(&self, page: ShowtimePage) -> StoreFuture<'_, Vec<(Showtime, usize)>> {
        Box::pin(async move {
            let client = self.shared.pool.get().await.map_err(pool_error)?;
            showtime_page::live_showtimes_page(&client, &page).await.map_err(store_error)
        })
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            if self.closing.load(Ordering::SeqCst) {
                return Err(StoreError::Closed);
            }
            let probe = async {
                let client = self.shared.pool.get().await.map_err(pool_error)?;
                client.simple_query("SELECT 1").await.map_err(store_error)?;
                Ok::<_, StoreError>(())
            };
            match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
                Ok(Err(StoreError::Busy)) | Err(_) => {
                    tracing::warn!("PostgreSQL did not answer a health check within {CHECK_TIMEOUT:?}");
                    Err(StoreError::Unavailable(Unavailable::Unreachable))
                }
                Ok(result) => result,
            }
        })
    }

    fn changes(&self) -> ChangeStream {
        self.shared.feed.subscribe()
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.closing.store(true, Ordering::SeqCst);
            // Every permit back means every write taken before is answered.
            if let Ok(all) = self.writes.acquire_many(WRITES).await {
                all.forget();
            }
            self.writes.close();
            self.listener.stop().await;
            self.shared.pool.close();
            Ok(())
        })
    }

    fn describe(&self) -> String {
        format!("PostgreSQL {}", self.url)
    }
}
