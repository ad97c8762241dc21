//! The write-ahead log under sustained booking load: real threads book distinct seats as fast
//! as the store takes them, another reads all along, and another watches the `-wal` file. It
//! must stay under a bound throughout, and shrink to nothing once the load stops (and after a
//! restart that finds a large log left behind).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use cinema::booking::{BookingReference, ManageToken, NewBooking, PlaceOutcome};
use cinema::schedule::{Showtime, ShowtimeId};
use cinema::store::ChangeFeed;
use cinema::store::sqlite::{SqliteBookingStore, SqliteStore, WalLimits};

/// A small limit, so a few thousand bookings are enough to show it holds (they write about
/// 80 MB of log when nothing truncates it).
const LIMIT: u64 = 2 << 20;
/// The limit plus one batch: the writer checks the log after every commit and a truncation
/// never gives up on this store's own readers, so it overshoots by at most the last batch
/// (at most `THREADS` one-seat bookings, a few dozen pages), never by time spent backing off.
const BOUND: u64 = LIMIT + (320 << 10);
const THREADS: usize = 8;
const PER_THREAD: usize = 1000;
const SHOWTIMES: usize = 4;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn showtime(i: usize) -> Showtime {
    let date = NaiveDate::from_ymd_opt(2030, 1, 2).unwrap();
    let slot = NaiveTime::from_hms_opt(10 + i as u32, 0, 0).unwrap();
    let starts_at = Utc.from_utc_datetime(&date.and_time(slot));
    Showtime {
        id: ShowtimeId::new("film", date, slot),
        film_slug: "film".into(),
        studio: 1,
        local_date: date,
        slot,
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(2),
        archived: false,
    }
}

fn database(dir: &Path) -> PathBuf {
    let path = dir.join("t.db");
    let plan: Vec<Showtime> = (0..SHOWTIMES).map(showtime).collect();
    SqliteStore::open(&path).unwrap().roll(&plan, now()).unwrap();
    path
}

fn wal_size(db: &Path) -> u64 {
    std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len())
}

/// Books `THREADS * PER_THREAD` distinct seats from real threads while a watcher records the
/// largest log size it sees. Returns that size.
fn sustained_load(store: &SqliteBookingStore, db: &Path) -> u64 {
    let largest = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                largest.fetch_max(wal_size(db), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        // Readers on the database all along: truncation must neither wait for them forever
        // nor keep them from reading.
        let reader = s.spawn(|| {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let live = store.live_showtimes_taken(now()).expect("a read during the load");
                assert_eq!(live.len(), SHOWTIMES);
                reads += 1;
            }
            reads
        });
        let bookers: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut rng = rand::rng();
                    for i in 0..PER_THREAD {
                        let n = t * PER_THREAD + i;
                        let token = ManageToken::generate(&mut rng);
                        let booking = NewBooking {
                            showtime: showtime(n % SHOWTIMES).id,
                            seats: vec![format!("S{n}")],
                            name: "Load Test".into(),
                            email: Some("load@example.com".into()),
                            reference: BookingReference::generate(&mut rng),
                            token_hash: token.hash(),
                            check_in_code: cinema::booking::CheckInCode::generate(&mut rand::rng()),
                            mail: None,
                            idempotency: None,
                            hold: None,
                            now: now(),
                        };
                        match store.place(booking).wait() {
                            Ok(PlaceOutcome::Placed(_)) => {}
                            other => panic!("booking {n}: {other:?}"),
                        }
                    }
                })
            })
            .collect();
        // Stop the watcher and the reader even when a booker failed, so a failure never hangs.
        let booked: Vec<_> = bookers.into_iter().map(|b| b.join()).collect();
        done.store(true, Ordering::Relaxed);
        let reads = reader.join();
        booked.into_iter().for_each(|b| b.unwrap());
        assert!(reads.unwrap() > 0, "no read completed during the load");
    });
    largest.into_inner().max(wal_size(db))
}

/// Waits until the log is empty; panics with its size after `deadline`.
fn wait_for_empty_wal(db: &Path, deadline: Duration) {
    let end = Instant::now() + deadline;
    while wal_size(db) > 0 {
        assert!(Instant::now() < end, "the WAL is still {} bytes {deadline:?} after the load stopped", wal_size(db));
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_wal_stays_bounded_under_sustained_load_and_empties_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let limits = WalLimits { truncate_above: LIMIT, idle_after: Duration::from_millis(200) };
    let store = SqliteBookingStore::open_with(&db, limits, ChangeFeed::default()).unwrap();

    let largest = sustained_load(&store, &db);
    assert!(largest <= BOUND, "the WAL reached {largest} bytes under load; the bound is {BOUND}");
    wait_for_empty_wal(&db, Duration::from_secs(10));

    let conn = rusqlite::Connection::open(&db).unwrap();
    let booked: i64 = conn.query_row("SELECT count(*) FROM bookings", [], |r| r.get(0)).unwrap();
    assert_eq!(booked, (THREADS * PER_THREAD) as i64, "every acknowledged booking is in the database");
    drop(store);
}

#[test]
fn a_large_wal_left_by_a_crash_is_truncated_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    // Another process's writes, never checkpointed: what a SIGKILL under load leaves behind.
    let crashed = rusqlite::Connection::open(&db).unwrap();
    crashed.execute_batch("PRAGMA wal_autocheckpoint = 0; CREATE TABLE filler (x BLOB);").unwrap();
    for _ in 0..256 {
        crashed.execute("INSERT INTO filler VALUES (zeroblob(16384))", []).unwrap();
    }
    assert!(wal_size(&db) > LIMIT, "the setup leaves a large WAL");
    // Keep the connection open so nothing checkpoints it on close, as after a SIGKILL.
    let limits = WalLimits { truncate_above: LIMIT, idle_after: Duration::from_secs(3600) };
    let store = SqliteBookingStore::open_with(&db, limits, ChangeFeed::default()).unwrap();
    assert_eq!(wal_size(&db), 0, "the store folds in and truncates the WAL before its first booking");
    drop(store);
    drop(crashed);
}
