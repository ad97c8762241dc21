//! The operator's side, as every store must keep it: the bookings an export or a door list
//! reads, the showtimes occupancy counts over, check-in at the door, cancellations at the box
//! office, backups, and the commits the service's metrics count.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use cinema::booking::{BookingRecord, CancelOutcome, CheckInCode};
use cinema::box_office::{BookingQuery, CancelledBy, CheckIn, CheckInOutcome};
use cinema::outbox::MailKind;
use cinema::schedule::ShowtimeId;
use cinema::store::{CommitObserver, Commits, DatabaseUrl, OpenMode, Store, StoreError};

use super::support::{Env, planned};
use super::support::{FEED_BOUND, at, cancelled, now, other_show, placed, request, show, taken};

/// Film 1's 10:00 showtime on the second day.
fn tomorrow() -> ShowtimeId {
    ShowtimeId("film-1-20300302-1000".into())
}

/// When door staff start letting people in to [`show`].
fn doors_open() -> DateTime<Utc> {
    at("2030-03-01T09:45:00+07:00")
}

/// Every booking of showtimes starting in `[from, to)`, cancelled ones included.
fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> BookingQuery {
    BookingQuery { from, to, film: None, showtime: None, include_cancelled: true }
}

async fn bookings(store: &dyn Store, query: BookingQuery) -> Vec<BookingRecord> {
    store.bookings(query).await.unwrap()
}

async fn check_in(
    store: &dyn Store,
    code: &CheckInCode,
    showtime: Option<ShowtimeId>,
    when: DateTime<Utc>,
) -> CheckInOutcome {
    store.check_in(CheckIn { code: code.clone(), reference: None, showtime, now: when }).await.unwrap()
}

pub async fn the_bookings_query_reads_by_time_film_showtime_and_cancellation(env: &Env) {
    let store = env.store();
    let mut first = request(&show(), &["A2", "A1"]);
    first.booking.name = "Ana Lima".into();
    let first = placed(store.place(first.booking).await.unwrap());
    // Made later, for the same showtime, then cancelled.
    let mut later = request(&show(), &["B1"]);
    later.booking.name = "Bo Sten".into();
    later.booking.email = None;
    later.booking.now = now() + Duration::minutes(5);
    placed(store.place(later.booking.clone()).await.unwrap());
    let gone =
        cancelled(store.cancel(later.booking.reference, later.token, now() + Duration::minutes(6)).await.unwrap());
    // Made before both, but for the other studio at the same time.
    let mut other = request(&other_show(), &["A1"]);
    other.booking.name = "Cy Dee".into();
    other.booking.now = now() - Duration::hours(1);
    let other = placed(store.place(other.booking).await.unwrap());
    let next_day = placed(store.place(request(&tomorrow(), &["B9"]).booking).await.unwrap());

    let day = between(now(), now() + Duration::days(1));
    assert_eq!(
        bookings(store, day.clone()).await,
        [first.clone(), gone.clone(), other.clone()],
        "by showtime start, then studio, then when each was made; the next day's is not in the range"
    );
    assert_eq!(gone.cancelled_by, Some(CancelledBy::Booker));
    let active = BookingQuery { include_cancelled: false, ..day.clone() };
    assert_eq!(bookings(store, active).await, [first.clone(), other.clone()], "cancelled ones left out");
    let film_2 = BookingQuery { film: Some("film-2".into()), ..day.clone() };
    assert_eq!(bookings(store, film_2).await, std::slice::from_ref(&other));
    let no_film = BookingQuery { film: Some("film-9".into()), ..day.clone() };
    assert_eq!(bookings(store, no_film).await, []);
    let one_show = BookingQuery { showtime: Some(show()), ..day.clone() };
    assert_eq!(bookings(store, one_show).await, [first.clone(), gone.clone()]);
    let outside = BookingQuery { showtime: Some(tomorrow()), ..day.clone() };
    assert_eq!(bookings(store, outside).await, [], "a showtime must still start in the range");
    assert_eq!(
        bookings(store, BookingQuery::door_list(show())).await,
        std::slice::from_ref(&first),
        "a door list: the active ones"
    );
    assert_eq!(bookings(store, BookingQuery::door_list(tomorrow())).await, std::slice::from_ref(&next_day));

    // `[from, to)`: a showtime starting at `to` is out, one starting at `from` is in.
    let starts = planned(env, &show()).starts_at;
    assert_eq!(bookings(store, between(now(), starts)).await, []);
    assert_eq!(bookings(store, between(starts, starts + Duration::seconds(1))).await, [first, gone, other]);
    let horizon = bookings(store, between(now(), now() + Duration::days(3))).await;
    assert_eq!(horizon.len(), 4);
    assert_eq!(horizon.last(), Some(&next_day));
}

pub async fn showtimes_between_includes_archived_ones(env: &Env) {
    let store = env.store();
    let later = at("2030-03-01T12:30:00+07:00");
    store.roll(env.plan(later), later).await.unwrap();
    let day_end = now() + Duration::days(1);
    let expected: Vec<_> = env
        .plan(now())
        .into_iter()
        .filter(|s| s.starts_at < day_end)
        .map(|s| cinema::schedule::Showtime { archived: s.has_started(later), ..s })
        .collect();
    assert!(expected.iter().any(|s| s.archived) && expected.iter().any(|s| !s.archived));
    assert_eq!(store.showtimes_between(now(), day_end).await.unwrap(), expected, "by start, then studio");
    let starts = planned(env, &show()).starts_at;
    let at_ten = store.showtimes_between(starts, starts + Duration::seconds(1)).await.unwrap();
    assert_eq!(at_ten.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), [show(), other_show()]);
    assert_eq!(store.showtimes_between(now(), starts).await.unwrap(), [], "`to` is not in the range");
}

pub async fn a_check_in_is_recorded_once_and_keeps_the_first_time(env: &Env) {
    let store = env.store();
    let record = placed(store.place(request(&show(), &["A1", "A2"]).booking).await.unwrap());
    let checked = BookingRecord { checked_in_at: Some(doors_open()), ..record.clone() };
    match check_in(store, &record.check_in_code, Some(show()), doors_open()).await {
        CheckInOutcome::CheckedIn(rec) => assert_eq!(rec, checked, "checked in now"),
        other => panic!("expected CheckedIn, got {other:?}"),
    }
    // Scanned again after the film started, at this door or at one that does not say which
    // showtime it lets in: already checked in, at the first moment.
    let late = at("2030-03-01T10:05:00+07:00");
    for door in [Some(show()), None] {
        match check_in(store, &record.check_in_code, door.clone(), late).await {
            CheckInOutcome::AlreadyCheckedIn(rec) => assert_eq!(rec, checked, "{door:?}"),
            other => panic!("{door:?}: expected AlreadyCheckedIn, got {other:?}"),
        }
    }
    assert_eq!(store.booking_by_reference(record.reference.clone()).await.unwrap(), Some(checked.clone()));
    assert_eq!(bookings(store, BookingQuery::door_list(show())).await, [checked], "the door list says so");
    // Someone arriving after the start is still let in.
    let latecomer = placed(store.place(request(&show(), &["B1"]).booking).await.unwrap());
    match check_in(store, &latecomer.check_in_code, Some(show()), late).await {
        CheckInOutcome::CheckedIn(rec) => assert_eq!(rec.checked_in_at, Some(late)),
        other => panic!("expected CheckedIn, got {other:?}"),
    }
}

pub async fn a_cancelled_booking_another_showtimes_ticket_and_an_unknown_code_are_refused(env: &Env) {
    let store = env.store();
    let r = request(&show(), &["A1"]);
    placed(store.place(r.booking.clone()).await.unwrap());
    let gone = cancelled(store.cancel(r.booking.reference, r.token, now()).await.unwrap());
    for door in [Some(show()), None] {
        match check_in(store, &gone.check_in_code, door.clone(), doors_open()).await {
            CheckInOutcome::Cancelled(rec) => assert_eq!(rec, gone, "{door:?}: refused, nothing recorded"),
            other => panic!("{door:?}: expected Cancelled, got {other:?}"),
        }
    }
    let elsewhere = placed(store.place(request(&other_show(), &["A1"]).booking).await.unwrap());
    match check_in(store, &elsewhere.check_in_code, Some(show()), doors_open()).await {
        CheckInOutcome::OtherShowtime(rec) => assert_eq!(rec, elsewhere),
        other => panic!("expected OtherShowtime, got {other:?}"),
    }
    let read = store.booking_by_reference(elsewhere.reference.clone()).await.unwrap().unwrap();
    assert_eq!(read.checked_in_at, None, "a refusal records nothing");
    // At its own showtime's door it is let in: the refusal did not spend it.
    let checked = check_in(store, &elsewhere.check_in_code, Some(other_show()), doors_open()).await;
    assert!(matches!(checked, CheckInOutcome::CheckedIn(_)), "{checked:?}");
    let unknown = CheckInCode::generate(&mut rand::rng());
    assert_eq!(check_in(store, &unknown, Some(show()), doors_open()).await, CheckInOutcome::Unknown);
    assert_eq!(check_in(store, &unknown, None, doors_open()).await, CheckInOutcome::Unknown);
    // A scanned ticket naming another booking than its code's is no ticket, and spends nothing.
    let fresh = placed(store.place(request(&show(), &["B1"]).booking).await.unwrap());
    let forged = CheckIn {
        code: fresh.check_in_code.clone(),
        reference: Some(elsewhere.reference.clone()),
        showtime: Some(show()),
        now: doors_open(),
    };
    assert_eq!(store.check_in(forged).await.unwrap(), CheckInOutcome::Unknown);
    let read = store.booking_by_reference(fresh.reference.clone()).await.unwrap().unwrap();
    assert_eq!(read.checked_in_at, None, "a forged scan records nothing");
}

pub async fn two_doors_checking_one_ticket_in_at_once_check_it_in_once(env: &Env) {
    const SCANS: usize = 8;
    let other = env.open_another().await;
    let record = placed(env.store().place(request(&show(), &["A1"]).booking).await.unwrap());
    let doors = [env.shared(), other.clone()];
    let scans: Vec<_> = (0..SCANS)
        .map(|i| {
            let door = doors[i % 2].clone();
            let scan = CheckIn {
                code: record.check_in_code.clone(),
                reference: Some(record.reference.clone()),
                showtime: Some(show()),
                now: doors_open() + Duration::seconds(i as i64),
            };
            tokio::spawn(async move { door.check_in(scan).await.unwrap() })
        })
        .collect();
    let (mut first, mut again) = (Vec::new(), Vec::new());
    for scan in scans {
        match scan.await.unwrap() {
            CheckInOutcome::CheckedIn(rec) => first.push(rec.checked_in_at),
            CheckInOutcome::AlreadyCheckedIn(rec) => again.push(rec.checked_in_at),
            other => panic!("expected CheckedIn or AlreadyCheckedIn, got {other:?}"),
        }
    }
    assert_eq!(first.len(), 1, "exactly one scan checked the ticket in");
    assert!(first[0].is_some());
    assert!(again.iter().all(|at| *at == first[0]), "every other scan saw that check-in: {first:?} {again:?}");
    let read = other.booking_by_reference(record.reference).await.unwrap().unwrap();
    assert_eq!(read.checked_in_at, first[0]);
    other.close().await.unwrap();
}

pub async fn an_operator_cancel_frees_the_seats_records_the_operator_and_queues_the_notice(env: &Env) {
    let store = env.store();
    let r = request(&show(), &["B1", "B2"]).with_mail();
    placed(store.place(r.booking.clone()).await.unwrap());
    let reference = r.booking.reference.clone();
    assert_eq!(taken(store, &show()).await, ["B1", "B2"], "read (and cached) before the cancel");
    let before = store.outbox_counts().await.unwrap();
    let record = cancelled(store.cancel_by_operator(reference.clone(), now()).await.unwrap());
    assert_eq!((record.cancelled_at, record.cancelled_by), (Some(now()), Some(CancelledBy::Operator)));
    assert_eq!(record.seats, ["B1", "B2"]);
    assert!(taken(store, &show()).await.is_empty(), "free as soon as the cancel answered");
    assert_eq!(store.outbox_counts().await.unwrap().pending, before.pending + 1, "the booker is told");
    // Cancelled again, by the operator or by the booker: no error, no second notice, and the
    // first cancel stands.
    let again = cancelled(store.cancel_by_operator(reference.clone(), now() + Duration::hours(1)).await.unwrap());
    assert_eq!(again, record);
    let by_booker =
        cancelled(store.cancel(reference.clone(), r.token.clone(), now() + Duration::hours(1)).await.unwrap());
    assert_eq!(by_booker, record);
    assert_eq!(store.booking_by_reference(reference.clone()).await.unwrap(), Some(record.clone()));
    let mail = store
        .claim_mail(cinema::outbox::MailClaim {
            sender: cinema::outbox::SenderId("a".into()),
            now: now() + Duration::hours(1),
            lease_until: now() + Duration::hours(2),
            limit: 10,
        })
        .await
        .unwrap();
    let kinds: Vec<_> = mail.iter().map(|m| (m.kind, m.bookings[0].reference.clone())).collect();
    assert_eq!(kinds, [(MailKind::Confirmation, reference.clone()), (MailKind::Cancellation, reference)]);
    // The seats are anyone's again.
    placed(store.place(request(&show(), &["B1", "B2"]).booking).await.unwrap());

    let unknown = request(&show(), &["A1"]).booking.reference;
    assert!(matches!(store.cancel_by_operator(unknown, now()).await.unwrap(), CancelOutcome::NotFound));
    let started = request(&other_show(), &["A1"]);
    placed(store.place(started.booking.clone()).await.unwrap());
    let ten = planned(env, &other_show()).starts_at;
    let outcome = store.cancel_by_operator(started.booking.reference.clone(), ten).await.unwrap();
    assert!(matches!(outcome, CancelOutcome::ShowtimeClosed), "{outcome:?}");
    assert_eq!(taken(store, &other_show()).await, ["A1"], "a started showtime's booking stands");
}

pub async fn the_bookers_cancel_is_recorded_as_the_bookers(env: &Env) {
    let store = env.store();
    let r = request(&show(), &["A1"]);
    let record = placed(store.place(r.booking.clone()).await.unwrap());
    assert_eq!((record.cancelled_at, record.cancelled_by), (None, None));
    let gone = cancelled(store.cancel(r.booking.reference.clone(), r.token.clone(), now()).await.unwrap());
    assert_eq!((gone.cancelled_at, gone.cancelled_by), (Some(now()), Some(CancelledBy::Booker)));
    let again = cancelled(store.cancel_by_operator(r.booking.reference.clone(), now()).await.unwrap());
    assert_eq!(again.cancelled_by, Some(CancelledBy::Booker), "the first cancel stands");
    assert_eq!(store.booking_by_reference(r.booking.reference).await.unwrap(), Some(gone));
}

pub async fn a_backup_taken_while_booking_holds_every_booking_made_before_it(env: &Env) {
    let store = env.shared();
    let mut before = Vec::new();
    for seat in ["A1", "A2", "A3", "B1", "B2"] {
        before.push(placed(store.place(request(&show(), &[seat]).booking).await.unwrap()));
    }
    // Bookings go on while the backup runs: one seat booked and cancelled over and over.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut writes = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = request(&other_show(), &["B9"]);
                placed(store.place(r.booking.clone()).await.unwrap());
                cancelled(store.cancel(r.booking.reference, r.token, now()).await.unwrap());
                writes += 2;
            }
            writes
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let report = store.backup(copy.clone()).await;
    stop.store(true, Ordering::Relaxed);
    let writes = writer.await.unwrap();
    let report = match report {
        Err(StoreError::Unsupported(message)) => {
            assert!(message.contains("pg_dump"), "a store that cannot back up names the tool that can: {message}");
            return;
        }
        other => other.unwrap_or_else(|e| panic!("backup: {e}")),
    };
    assert!(writes > 0);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["copy.db"], "the copy alone, no temporary file beside it");
    assert_eq!(report.bytes, std::fs::metadata(&copy).unwrap().len());
    {
        let conn = rusqlite::Connection::open(&copy).unwrap();
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let count: u64 = conn.query_row("SELECT count(*) FROM bookings", [], |r| r.get(0)).unwrap();
        assert_eq!(report.bookings, count, "the report counts the copy's bookings");
        assert!(count >= before.len() as u64);
    }
    let restored = cinema::store::open(&DatabaseUrl::Sqlite(copy.clone()), OpenMode::Existing).await.unwrap();
    for record in &before {
        let read = restored.booking_by_reference(record.reference.clone()).await.unwrap();
        assert_eq!(read.as_ref(), Some(record), "a booking acknowledged before the backup is in it");
    }
    restored.close().await.unwrap();

    // A backup never overwrites: an existing file is refused and left as it was.
    let bytes = std::fs::read(&copy).unwrap();
    let refused = store.backup(copy.clone()).await.expect_err("an existing destination is refused");
    assert!(refused.to_string().contains("exists"), "the refusal says why: {refused}");
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
}

/// Passes every commit it is told of to the check.
struct Told(tokio::sync::mpsc::UnboundedSender<Commits>);

impl CommitObserver for Told {
    fn committed(&self, commit: Commits) {
        let _ = self.0.send(commit);
    }
}

pub async fn the_commit_observer_is_told_of_every_write(env: &Env) {
    let store = env.store();
    let (told, mut commits) = tokio::sync::mpsc::unbounded_channel();
    store.observe_commits(Arc::new(Told(told)));
    let r = request(&show(), &["A1"]);
    placed(store.place(r.booking.clone()).await.unwrap());
    cancelled(store.cancel(r.booking.reference, r.token, now()).await.unwrap());
    placed(store.place(request(&show(), &["A1"]).booking).await.unwrap());
    let mut writes = 0;
    while writes < 3 {
        let commit = tokio::time::timeout(FEED_BOUND, commits.recv())
            .await
            .unwrap_or_else(|_| panic!("told of {writes} writes of 3 within {FEED_BOUND:?}"))
            .unwrap();
        assert!(commit.writes >= 1, "{commit:?}");
        assert!(commit.latency < FEED_BOUND, "{commit:?}");
        writes += commit.writes;
    }
    assert_eq!(writes, 3, "a booking, a cancel and a booking");
    assert!(commits.try_recv().is_err(), "and nothing else was written");
}
