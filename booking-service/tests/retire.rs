//! A film taken out of the content while the service runs, then rolled by another process (as
//! the operator's timer does): on both stores, its unbooked showtime stops answering at once,
//! even one whose seat map the service had cached, and its booked one is honoured as before and
//! listed by the roll.

#[macro_use]
mod common;

use std::time::Duration;

use cinema::schedule::plan_horizon;
use common::{Fixture, SHOW, Server, now, wait_for};
use serde_json::{Value, json};
use test_support::{Client, Reply};

on_both_stores!(a_removed_films_unbooked_showtimes_go_and_its_booked_one_is_honoured_and_listed);

/// Another showtime of the film `aurora` (studio 1), later on the first day.
const UNBOOKED: &str = "aurora-20300110-1400";

fn post_booking(client: &Client, showtime: &str, seats: &[&str]) -> Reply {
    common::post_booking(client, showtime, &json!({ "name": "Ana Lima", "seats": seats }))
}

fn seats(client: &Client, showtime: &str) -> Reply {
    client.get(&format!("/api/showtimes/{showtime}/seats")).unwrap()
}

fn a_removed_films_unbooked_showtimes_go_and_its_booked_one_is_honoured_and_listed(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booked = post_booking(&client, SHOW, &["A1", "A2"]);
    assert_eq!(booked.status, 201, "{}", booked.text());
    let booked: Value = booked.json();
    let reference = booked["reference"].as_str().unwrap().to_string();
    let token = booked["manage_token"].as_str().unwrap().to_string();
    // The service now has the unbooked showtime's seat map in its cache.
    assert_eq!(seats(&client, UNBOOKED).status, 200);

    std::fs::remove_file(fixture.content().join("films/aurora.md")).unwrap();
    let report = fixture.store().run(|s| s.roll(plan_horizon(&fixture.catalog(), now()), now())).unwrap();
    let kept: Vec<(&str, Vec<String>)> = report
        .kept
        .iter()
        .map(|k| (k.showtime.id.as_str(), k.bookings.iter().map(ToString::to_string).collect()))
        .collect();
    assert_eq!(kept, vec![(SHOW, vec![reference.clone()])], "the booked showtime is kept and listed");
    assert!(report.retired >= 1, "{report:?}");

    // The retired showtime: gone for readers (once the service hears of the roll) and bookers.
    let gone = wait_for("the retired showtime's seat map to answer 404", Duration::from_secs(10), || {
        let reply = seats(&client, UNBOOKED);
        (reply.status == 404).then_some(reply)
    });
    assert_eq!(gone.json()["error"]["code"], "showtime_not_found");
    let refused = post_booking(&client, UNBOOKED, &["C3"]);
    assert_eq!(refused.status, 404, "{}", refused.text());
    assert_eq!(refused.json()["error"]["code"], "showtime_not_found");

    // The kept showtime: its booking stands, its seats stay taken, and it still takes bookings.
    let manage =
        client.send("GET", &format!("/api/bookings/{reference}"), &[("X-Manage-Token", token.as_str())], None).unwrap();
    assert_eq!(manage.status, 200, "{}", manage.text());
    assert_eq!(manage.json()["status"], "active", "{}", manage.text());
    let map = seats(&client, SHOW);
    assert_eq!(map.status, 200);
    assert_eq!(map.json()["taken"], json!(["A1", "A2"]));
    let another = post_booking(&client, SHOW, &["A3"]);
    assert_eq!(another.status, 201, "{}", another.text());

    // The next roll lists it again.
    let again = fixture.store().run(|s| s.roll(plan_horizon(&fixture.catalog(), now()), now())).unwrap();
    assert_eq!(again.retired, 0);
    assert_eq!(again.kept.len(), 1);
    assert_eq!(again.kept[0].bookings.len(), 2, "both bookings are listed: {again:?}");
}
