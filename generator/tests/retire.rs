//! A film taken out of the content, then rolled: its showtimes without bookings stop existing,
//! its booked one is kept and named with its bookings in the output of every roll until it
//! starts, so no booker is stranded without the operator knowing.

mod common;

use chrono::{DateTime, Utc};
use cinema::booking::{BookingReference, CheckInCode, ManageToken, NewBooking, PlaceOutcome};
use cinema::schedule::ShowtimeId;
use cinema::store::{Blocking, DatabaseUrl, OpenMode};
use common::{NOW, Workspace};

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

/// Books `seats` of `showtime` straight into the workspace's store, as the service would.
fn book(store: &Blocking, showtime: &str, seats: &[&str]) -> BookingReference {
    let mut rng = rand::rng();
    let token = ManageToken::generate(&mut rng);
    let booking = NewBooking {
        showtime: ShowtimeId(showtime.into()),
        seats: seats.iter().map(|s| s.to_string()).collect(),
        name: "Ana Lima".into(),
        email: None,
        reference: BookingReference::generate(&mut rng),
        token_hash: token.hash(),
        check_in_code: CheckInCode::generate(&mut rng),
        idempotency: None,
        mail: None,
        hold: None,
        now: at(NOW),
    };
    match store.run(|s| s.place(booking)).unwrap() {
        PlaceOutcome::Placed(record) => record.reference,
        other => panic!("expected the booking to be placed, got {other:?}"),
    }
}

#[test]
fn removing_a_film_retires_its_unbooked_showtimes_and_lists_the_booked_one_on_every_roll() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let db = DatabaseUrl::Sqlite(ws.path("var/tiketa.db"));
    let booked = "interstellar-20261125-1400";
    let unbooked = ShowtimeId("interstellar-20261125-1800".into());
    let reference = {
        let store = Blocking::open(&db, OpenMode::Existing).unwrap();
        book(&store, booked, &["E7", "E8"])
    };
    std::fs::remove_file(ws.path("content/films/interstellar.md")).unwrap();

    let line = ws.run_ok("roll", NOW);
    // Interstellar (studio 7, odd) had 14 live showtimes: 13 retired, 1 kept.
    assert!(line.contains("0 created, 13 retired, 1 kept with bookings"), "{line}");
    let kept = line.lines().find(|l| l.contains(booked)).unwrap_or_else(|| panic!("{booked} not listed:\n{line}"));
    assert!(kept.contains(&reference.to_string()), "{kept}");
    assert!(kept.contains("14:00 – 16:49 WIB"), "the time in the page's words: {kept}");
    assert!(kept.contains("interstellar (no longer in the content)"), "{kept}");

    let store = Blocking::open(&db, OpenMode::Existing).unwrap();
    assert!(store.run(|s| s.showtime(unbooked.clone())).unwrap().is_none(), "the unbooked showtime is gone");
    let record = store.run(|s| s.booking_by_reference(reference.clone())).unwrap().expect("the booking stays");
    assert_eq!((record.seats.as_slice(), record.cancelled_at), (&["E7".to_string(), "E8".to_string()][..], None));
    drop(store);
    assert!(!ws.out().join(format!("book/{booked}")).exists(), "the removed film's pages go");

    let again = ws.run_ok("roll", NOW);
    assert!(again.contains("0 retired, 1 kept with bookings") && again.contains(&reference.to_string()), "{again}");

    // Once it has started, it is archived like any other and no longer listed.
    let after = ws.run_ok("roll", "2026-11-25T14:30:00+07:00");
    assert!(after.contains("0 kept with bookings") && !after.contains(booked), "{after}");
}

#[test]
fn bringing_the_film_back_brings_its_retired_showtimes_back() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let film = ws.path("content/films/interstellar.md");
    let text = std::fs::read(&film).unwrap();
    std::fs::remove_file(&film).unwrap();
    assert!(ws.run_ok("roll", NOW).contains("14 retired"));
    std::fs::write(&film, text).unwrap();
    let line = ws.run_ok("roll", NOW);
    assert!(line.contains("14 created, 0 retired"), "{line}");
    assert!(ws.out().join("book/interstellar-20261125-1800/index.html").is_file());
}
