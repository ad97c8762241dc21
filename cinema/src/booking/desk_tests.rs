//! The booking rules end to end on a real SQLite file, without HTTP.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::catalog::tests::catalog_of;
use crate::schedule::plan_horizon;
use crate::store::sqlite::{SqliteDatabase, SqliteStore};
use crate::store::{OpenMode, Store};

const NOW: &str = "2026-11-24T00:00:00+07:00";
/// film-1 (studio 1) screens at 10:00 on the first day.
const SHOW: &str = "film-1-20261124-1000";

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    at(NOW)
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    desk: Desk,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let catalog = catalog_of(2, "");
    SqliteStore::open(&path).unwrap().roll(&plan_horizon(&catalog, now()), now()).unwrap();
    let room = SeatMap::parse("A ssss.ssss\nB ssss.ssss\n", Path::new("m.txt")).unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteDatabase::open(&path, OpenMode::Existing).unwrap());
    let desk = Desk::new(store, Arc::new(room));
    Fixture { _dir: dir, path, desk }
}

fn req(name: &str, seats: &[&str]) -> BookingRequest {
    BookingRequest {
        name: name.into(),
        email: None,
        seats: seats.iter().map(|s| s.to_string()).collect(),
        hold_token: None,
    }
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
}

impl Fixture {
    fn book(&self, seats: &[&str]) -> Result<Confirmation, BookingError> {
        block(self.desk.book(SHOW, &req("Ana", seats), None, now()))
    }

    fn taken(&self) -> Vec<String> {
        block(self.desk.seats(SHOW, now())).unwrap().taken
    }

    fn rows(&self, sql: &str) -> i64 {
        rusqlite::Connection::open(&self.path).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

#[test]
fn a_booking_holds_its_seats_and_opens_only_with_its_token() {
    let f = fixture();
    let c = block(f.desk.book(
        SHOW,
        &BookingRequest {
            name: " Ana Lima ".into(),
            email: Some("ana@example.com".into()),
            seats: vec!["A2".into(), "A1".into()],
            hold_token: None,
        },
        None,
        now(),
    ))
    .unwrap();
    assert!(!c.replayed);
    assert_eq!(c.booking.seats, ["A2", "A1"]);
    assert_eq!(c.booking.name, "Ana Lima");
    assert_eq!(c.booking.showtime.id.as_str(), SHOW);
    assert!(c.booking.reference.as_str().starts_with("TK-"));
    assert_eq!(f.taken(), ["A1", "A2"]);

    let r = c.booking.reference.as_str();
    let found = block(f.desk.booking(r, c.token.as_str())).unwrap();
    assert_eq!(found, c.booking);
    assert_eq!(block(f.desk.booking(&r.to_lowercase(), c.token.as_str())).unwrap(), c.booking);
    let wrong = ManageToken::generate(&mut rand::rng());
    for (reference, token) in
        [(r, wrong.as_str()), (r, "not-a-token"), ("TK-2222-2222", c.token.as_str()), ("nonsense", c.token.as_str())]
    {
        assert_eq!(
            block(f.desk.booking(reference, token)).unwrap_err().code().as_str(),
            "booking_not_found",
            "{reference} {token}"
        );
    }
    // The store keeps a hash, never the token.
    let stored: Vec<u8> = rusqlite::Connection::open(&f.path)
        .unwrap()
        .query_row("SELECT token_hash FROM bookings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, c.token.hash().0);
    assert_ne!(stored, c.token.as_str().as_bytes());
}

#[test]
fn a_booking_is_all_or_nothing() {
    let f = fixture();
    f.book(&["A1", "A2"]).unwrap();
    let err = f.book(&["A3", "A2", "A4", "A1"]).unwrap_err();
    assert_eq!(err.code().as_str(), "seats_taken");
    assert_eq!(err.seats().unwrap(), ["A2", "A1"], "named in request order");
    assert_eq!(f.taken(), ["A1", "A2"], "A3 and A4 were not booked");
    assert_eq!(f.rows("SELECT count(*) FROM bookings"), 1);
    assert_eq!(f.rows("SELECT count(*) FROM booking_seats"), 2);
    f.book(&["A3", "A4"]).unwrap();
}

#[test]
fn cancelling_frees_the_seats_at_once_and_they_can_be_booked_again() {
    let f = fixture();
    let c = f.book(&["B1", "B2"]).unwrap();
    let r = c.booking.reference.as_str();
    let wrong = ManageToken::generate(&mut rand::rng());
    assert_eq!(block(f.desk.cancel(r, wrong.as_str(), now())).unwrap_err().code().as_str(), "booking_not_found");
    assert_eq!(f.taken(), ["B1", "B2"], "a wrong token cancels nothing");
    let cancelled = block(f.desk.cancel(r, c.token.as_str(), now())).unwrap();
    assert_eq!(cancelled.cancelled_at, Some(now()));
    assert!(f.taken().is_empty());
    let again = block(f.desk.cancel(r, c.token.as_str(), now())).unwrap();
    assert_eq!(again.cancelled_at, Some(now()), "cancelling twice is harmless");
    let rebooked = f.book(&["B2", "B3"]).unwrap();
    assert_ne!(rebooked.booking.reference, c.booking.reference);
    assert_eq!(f.taken(), ["B2", "B3"]);
    // The cancelled booking still reads as cancelled for its owner.
    assert!(block(f.desk.booking(r, c.token.as_str())).unwrap().cancelled_at.is_some());
}

#[test]
fn a_retried_idempotency_key_returns_the_original_booking_and_books_nothing_twice() {
    let f = fixture();
    let request = req("Ana", &["A5"]);
    let first = block(f.desk.book(SHOW, &request, Some("key-1"), now())).unwrap();
    let retry = block(f.desk.book(SHOW, &request, Some("key-1"), now())).unwrap();
    assert!(!first.replayed && retry.replayed);
    assert_eq!(retry.booking, first.booking);
    assert_eq!(retry.token, first.token, "the retry shows the token again");
    assert_eq!(f.rows("SELECT count(*) FROM bookings"), 1);

    let other = req("Ana", &["A6"]);
    assert_eq!(
        block(f.desk.book(SHOW, &other, Some("key-1"), now())).unwrap_err().code().as_str(),
        "idempotency_key_reused"
    );
    assert_eq!(
        block(f.desk.book(SHOW, &other, Some("bad key"), now())).unwrap_err().code().as_str(),
        "invalid_idempotency_key"
    );
    // Neither the key nor the token is stored in the clear.
    let sealed: Vec<u8> = rusqlite::Connection::open(&f.path)
        .unwrap()
        .query_row("SELECT sealed_token FROM idempotency_keys", [], |r| r.get(0))
        .unwrap();
    assert_ne!(sealed, first.token.to_bytes());
    assert_eq!(f.rows("SELECT count(*) FROM bookings"), 1);
}

#[test]
fn concurrent_retries_with_one_key_make_one_booking() {
    let f = fixture();
    let request = req("Ana", &["B8"]);
    let results: Vec<_> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let futures = (0..20).map(|_| f.desk.book(SHOW, &request, Some("same"), now()));
        futures_join_all(futures).await
    });
    let refs: std::collections::HashSet<_> =
        results.iter().map(|r| r.as_ref().unwrap().booking.reference.clone()).collect();
    assert_eq!(refs.len(), 1);
    assert_eq!(results.iter().filter(|r| !r.as_ref().unwrap().replayed).count(), 1);
    assert_eq!(f.rows("SELECT count(*) FROM bookings"), 1);
}

/// Polls every future to completion on one task, so all are submitted before any is answered.
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[test]
fn many_clients_racing_for_one_seat_get_it_once() {
    let f = fixture();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let desk = &f.desk;
                s.spawn(move || block(desk.book(SHOW, &req(&format!("n{i}"), &["A7", "A8"]), None, now())))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code().as_str(), "seats_taken");
    }
    assert_eq!(f.rows("SELECT count(*) FROM booking_seats WHERE active = 1"), 2);
}

#[test]
fn unknown_started_and_archived_showtimes_are_refused() {
    let f = fixture();
    let book = |show: &str, at: DateTime<Utc>| block(f.desk.book(show, &req("Ana", &["A1"]), None, at));
    assert_eq!(book("film-9-20261124-1000", now()).unwrap_err().code().as_str(), "showtime_not_found");
    assert_eq!(book("../etc/passwd", now()).unwrap_err().code().as_str(), "showtime_not_found");
    assert_eq!(book("", now()).unwrap_err().code().as_str(), "showtime_not_found");
    let started = at("2026-11-24T10:00:00+07:00");
    assert_eq!(book(SHOW, started).unwrap_err().code().as_str(), "showtime_closed");
    assert_eq!(block(f.desk.seats(SHOW, started)).unwrap_err().code().as_str(), "showtime_closed");
    assert_eq!(block(f.desk.seats("film-9-20261124-1000", now())).unwrap_err().code().as_str(), "showtime_not_found");
    // A roll archives it; then it is closed even at an earlier clock.
    let c = f.book(&["A1"]).unwrap();
    let later = started + Duration::minutes(1);
    SqliteStore::open(&f.path).unwrap().roll(&plan_horizon(&catalog_of(2, ""), later), later).unwrap();
    assert_eq!(book(SHOW, now()).unwrap_err().code().as_str(), "showtime_closed");
    assert_eq!(
        block(f.desk.cancel(c.booking.reference.as_str(), c.token.as_str(), now())).unwrap_err().code().as_str(),
        "showtime_closed"
    );
    assert_eq!(f.rows("SELECT count(*) FROM bookings WHERE cancelled_at IS NULL"), 1);
}

#[test]
fn request_errors_are_refused_before_the_store() {
    let f = fixture();
    let cases: &[(BookingRequest, &str)] = &[
        (req("", &["A1"]), "invalid_name"),
        (req("Ana", &[]), "no_seats"),
        (req("Ana", &["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "B1"]), "too_many_seats"),
        (req("Ana", &["A1", "A1"]), "duplicate_seats"),
        (req("Ana", &["Q1"]), "unknown_seats"),
        (BookingRequest { email: Some("nope".into()), ..req("Ana", &["A1"]) }, "invalid_email"),
    ];
    for (request, code) in cases {
        assert_eq!(block(f.desk.book(SHOW, request, None, now())).unwrap_err().code().as_str(), *code);
    }
    assert_eq!(f.rows("SELECT count(*) FROM bookings"), 0);
}

#[test]
fn the_unique_index_refuses_a_second_active_holder_whatever_the_code_does() {
    let f = fixture();
    f.book(&["A1"]).unwrap();
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    let err = conn
        .execute("INSERT INTO booking_seats (booking_id, showtime_id, seat) VALUES (1, ?1, 'A1')", [SHOW])
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    // An inactive (cancelled) row for the same seat is allowed.
    conn.execute("INSERT INTO booking_seats (booking_id, showtime_id, seat, active) VALUES (1, ?1, 'A1', 0)", [SHOW])
        .unwrap();
}

#[test]
fn closing_commits_every_queued_booking_first() {
    let f = fixture();
    let pending: Vec<_> = ["A1", "A2", "A3", "A4", "B1", "B2"]
        .iter()
        .map(|seat| {
            let token = ManageToken::generate(&mut rand::rng());
            f.desk.store().place(crate::booking::NewBooking {
                showtime: crate::schedule::ShowtimeId(SHOW.into()),
                seats: vec![seat.to_string()],
                name: "Ana".into(),
                email: None,
                reference: BookingReference::generate(&mut rand::rng()),
                token_hash: token.hash(),
                check_in_code: crate::booking::CheckInCode::generate(&mut rand::rng()),
                mail: None,
                idempotency: None,
                hold: None,
                now: now(),
            })
        })
        .collect();
    block(f.desk.store().close()).unwrap();
    for p in pending {
        assert!(matches!(block(p).unwrap(), crate::booking::PlaceOutcome::Placed(_)));
    }
    assert_eq!(f.rows("SELECT count(*) FROM bookings"), 6);
    assert!(f.book(&["B3"]).is_err(), "a closed store takes no more writes");
}

#[test]
fn showtimes_list_free_seats() {
    let f = fixture();
    f.book(&["A1", "A2", "A3"]).unwrap();
    let list = block(f.desk.showtimes(now())).unwrap();
    let (_, free) = list.iter().find(|(s, _)| s.id.as_str() == SHOW).unwrap();
    assert_eq!(*free, 16 - 3);
    assert!(list.iter().filter(|(s, _)| s.id.as_str() != SHOW).all(|(_, free)| *free == 16));
    block(f.desk.store().check()).unwrap();
}

#[test]
fn the_in_memory_seats_follow_every_commit() {
    let f = fixture();
    let id = crate::schedule::ShowtimeId(SHOW.into());
    assert!(f.desk.store().cached_showtime_seats(&id).is_none(), "nothing is in memory before a read");
    assert!(f.taken().is_empty());
    let memory = || f.desk.store().cached_showtime_seats(&id).unwrap().taken;
    let c = f.book(&["A1", "A2"]).unwrap();
    assert_eq!(memory(), ["A1", "A2"]);
    block(f.desk.cancel(c.booking.reference.as_str(), c.token.as_str(), now())).unwrap();
    assert!(memory().is_empty());
    // A second cancel of the same booking must not free seats someone else took since.
    f.book(&["A1"]).unwrap();
    block(f.desk.cancel(c.booking.reference.as_str(), c.token.as_str(), now())).unwrap();
    assert_eq!(memory(), ["A1"]);
    // Under concurrent load, memory and the database agree.
    std::thread::scope(|s| {
        for i in 0..8 {
            let desk = &f.desk;
            s.spawn(move || {
                for seat in ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8"] {
                    let _ = block(desk.book(SHOW, &req(&format!("n{i}"), &[seat]), None, now()));
                }
            });
        }
    });
    let db: Vec<String> = rusqlite::Connection::open(&f.path)
        .unwrap()
        .prepare("SELECT seat FROM booking_seats WHERE showtime_id = ?1 AND active = 1 ORDER BY seat")
        .unwrap()
        .query_map([SHOW], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(memory(), db);
    assert_eq!(db.len(), 9);
    let later = at("2026-11-24T10:00:00+07:00");
    assert_eq!(block(f.desk.seats(SHOW, later)).unwrap_err().code().as_str(), "showtime_closed");
}

#[test]
fn a_booking_with_an_email_queues_its_confirmation_and_one_without_none() {
    let f = fixture();
    f.book(&["A1"]).unwrap();
    assert_eq!(f.rows("SELECT count(*) FROM outbox"), 0, "no email, no mail");
    let with_email = BookingRequest { email: Some("ana@example.com".into()), ..req("Ana", &["A2"]) };
    let c = block(f.desk.book(SHOW, &with_email, Some("key-1"), now())).unwrap();
    let replay = block(f.desk.book(SHOW, &with_email, Some("key-1"), now())).unwrap();
    assert!(replay.replayed);
    assert_eq!(f.rows("SELECT count(*) FROM outbox WHERE kind = 'confirmation'"), 1, "one, replay or not");
    let payload: String =
        rusqlite::Connection::open(&f.path).unwrap().query_row("SELECT payload FROM outbox", [], |r| r.get(0)).unwrap();
    let bookings = crate::outbox::MailBooking::from_payload(&payload).unwrap();
    assert_eq!(bookings[0].reference, c.booking.reference);
    assert_eq!(bookings[0].token.as_ref(), Some(&c.token), "the link carries the booker's token");
    assert!(CheckInCode::parse(c.booking.check_in_code.as_str()).is_some());
    assert_ne!(c.booking.check_in_code.as_str().replace('-', "").to_lowercase(), c.token.as_str());
}

#[test]
fn recovery_checks_the_address_and_tells_nothing_of_it_in_its_error() {
    let f = fixture();
    let err = block(f.desk.recover("not an address", now())).unwrap_err();
    assert_eq!(err.code(), crate::booking::ErrorCode::InvalidEmail);
    assert_eq!(block(f.desk.recover("  nobody@example.com ", now())).unwrap(), 0);
    let with_email = BookingRequest { email: Some("ana@example.com".into()), ..req("Ana", &["A2"]) };
    block(f.desk.book(SHOW, &with_email, None, now())).unwrap();
    assert_eq!(block(f.desk.recover(" Ana@Example.com", now())).unwrap(), 1);
    assert_eq!(f.rows("SELECT count(*) FROM outbox WHERE kind = 'recovery'"), 1);
}
