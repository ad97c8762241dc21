//! Two real `tiketa-booking` processes on one database, as behind a load balancer: for SQLite
//! (two processes on one file) and for PostgreSQL (two instances on one fresh database; skipped
//! with a note when `TIKETA_TEST_DATABASE_URL` is unset, required under CI).
//!
//! Correctness must not depend on one process: 200 racers for one seat split over both get one
//! `201`; one `Idempotency-Key` sent to both at once makes one booking; a seat booked through one
//! shows taken in the other's (cached) seat map within a second; and SIGKILL of one under booking
//! load loses no acknowledged booking while the other keeps taking bookings.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use cinema::booking::{BookingReference, ManageToken};
use cinema::schedule::ShowtimeId;
use common::pair::Pair;
use common::{Fixture, SHOW, booking, wait_for};
use serde_json::Value;
use test_support::{Client, Reply};

/// How long a test waits for anything before it fails (never a synchronisation).
const PATIENCE: Duration = Duration::from_secs(30);
/// How soon a booking on one instance must show in the other's seat map.
const PROPAGATION: Duration = Duration::from_secs(1);

on_both_stores!(
    two_hundred_racers_over_two_instances_book_one_seat_once,
    one_idempotency_key_sent_to_both_instances_makes_one_booking,
    a_seat_booked_on_one_instance_shows_taken_on_the_other_within_a_second,
    a_sigkill_of_one_instance_under_load_loses_no_acknowledged_booking,
);

/// A booking POST; `None` when no reply came (refused, reset).
fn post_booking(client: &Client, showtime: &str, body: &[u8], key: Option<&str>) -> Option<Reply> {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    client.send("POST", &format!("/api/showtimes/{showtime}/bookings"), &headers, Some(body)).ok()
}

/// The taken seats in an instance's seat map of `showtime`.
fn taken(client: &Client, showtime: &str) -> HashSet<String> {
    let reply = client.get(&format!("/api/showtimes/{showtime}/seats")).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    body["taken"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

/// The taken seats of `showtime` as the database has them (a store opened afresh, so no cache).
fn taken_in_database(fixture: &Fixture, showtime: &str) -> Vec<String> {
    let store = fixture.store();
    let mut seats = store.run(|s| s.showtime_seats(ShowtimeId(showtime.to_string()))).unwrap().unwrap().taken;
    seats.sort();
    seats
}

fn two_hundred_racers_over_two_instances_book_one_seat_once(fixture: Fixture) {
    const RACERS: usize = 200;
    let pair = Pair::start(&fixture, &[]);
    for server in [&pair.a, &pair.b] {
        assert_eq!(Client::new(server.addr).get("/api/health").unwrap().status, 200, "the instance is healthy");
    }
    let barrier = Barrier::new(RACERS);
    let replies: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let (barrier, addr) = (&barrier, pair.nth(i).addr);
                s.spawn(move || {
                    // Connect first (a first request leaves the connection open), so the
                    // bookings leave together when the barrier opens. The request is one the
                    // database has no part in: 200 health checks at once would test the
                    // pool's queue on a loaded machine, not the race.
                    let client = Client::new(addr);
                    let connected = client.get("/api/openapi.json").map(|r| r.status);
                    let body = booking(&format!("Racer {i}"), &["F7"]);
                    // Every racer reaches the barrier, even one whose request failed: a racer
                    // that panicked before it would leave the others waiting forever.
                    barrier.wait();
                    assert_eq!(connected.ok(), Some(200), "the instance answers");
                    let reply = post_booking(&client, SHOW, &body, None).unwrap();
                    (reply.status, reply.json())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let statuses: Vec<u16> = replies.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "statuses: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), RACERS - 1, "statuses: {statuses:?}");
    for (_, body) in replies.iter().filter(|(s, _)| *s == 409) {
        assert_eq!(body["error"]["code"], "seats_taken", "{body}");
    }
    // The database holds the one booking: the seat once, and the winner's booking readable.
    assert_eq!(taken_in_database(&fixture, SHOW), ["F7"]);
    let (_, winner) = replies.iter().find(|(s, _)| *s == 201).unwrap();
    assert_booked(&fixture, winner, SHOW, "F7");
    if !fixture.is_postgres() {
        assert_eq!(fixture.count("SELECT count(*) FROM bookings"), 1);
    }
}

/// `reply` (a `201` body) is a booking of `seat` in the database.
fn assert_booked(fixture: &Fixture, reply: &Value, showtime: &str, seat: &str) {
    let reference = BookingReference::parse(reply["reference"].as_str().unwrap()).unwrap();
    let token = ManageToken::parse(reply["manage_token"].as_str().unwrap()).unwrap();
    let record = fixture
        .store()
        .run(|s| s.booking(reference.clone(), token))
        .unwrap()
        .unwrap_or_else(|| panic!("booking {reference} is not in the database"));
    assert_eq!(record.showtime.id.0, showtime);
    assert_eq!(record.seats, [seat]);
    assert!(record.cancelled_at.is_none());
}

fn one_idempotency_key_sent_to_both_instances_makes_one_booking(fixture: Fixture) {
    // Several rounds, each a new key and seat, so that the two requests really meet in the
    // database at least once.
    const ROUNDS: usize = 20;
    let pair = Pair::start(&fixture, &[]);
    let (a, b) = (Client::new(pair.a.addr), Client::new(pair.b.addr));
    assert_eq!(a.get("/api/health").unwrap().status, 200);
    assert_eq!(b.get("/api/health").unwrap().status, 200);
    let seats: Vec<String> = fixture.catalog().seat_map.seat_ids().take(ROUNDS).map(str::to_string).collect();
    for (round, seat) in seats.iter().enumerate() {
        let key = format!("instances-round-{round}-{}", std::process::id());
        let body = booking("Twice Sent", &[seat]);
        let barrier = Barrier::new(2);
        let replies: Vec<Reply> = std::thread::scope(|s| {
            let handles: Vec<_> = [("A", &a), ("B", &b)]
                .into_iter()
                .map(|(name, client)| {
                    let (barrier, body, key) = (&barrier, &body, &key);
                    s.spawn(move || {
                        barrier.wait();
                        post_booking(client, SHOW, body, Some(key))
                            .unwrap_or_else(|| panic!("instance {name}: no reply"))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for reply in &replies {
            assert!(reply.status < 500, "round {round}: a 5xx: {} {}", reply.status, reply.text());
            assert_eq!(reply.status, 201, "round {round}: {}", reply.text());
        }
        let replayed: Vec<bool> =
            replies.iter().map(|r| r.header("idempotent-replayed").is_some_and(|v| v == "true")).collect();
        assert_eq!(replayed.iter().filter(|r| **r).count(), 1, "round {round}: one reply is the replay: {replayed:?}");
        let (first, second) = (replies[0].json(), replies[1].json());
        assert_eq!(first["reference"], second["reference"], "round {round}: one booking");
        assert_eq!(first["manage_token"], second["manage_token"], "round {round}");
        assert_booked(&fixture, &first, SHOW, seat);
    }
    let mut expected = seats;
    expected.sort();
    assert_eq!(taken_in_database(&fixture, SHOW), expected, "one booking per key");
    if !fixture.is_postgres() {
        assert_eq!(fixture.count("SELECT count(*) FROM bookings"), ROUNDS as i64);
    }
}

fn a_seat_booked_on_one_instance_shows_taken_on_the_other_within_a_second(fixture: Fixture) {
    let pair = Pair::start(&fixture, &[]);
    let (a, b) = (Client::new(pair.a.addr), Client::new(pair.b.addr));
    // B serves (and caches) the map first, and A too: each now holds the showtime in memory.
    assert!(taken(&b, SHOW).is_empty());
    assert!(taken(&a, SHOW).is_empty());
    for (round, seat) in ["E5", "E6", "E7"].into_iter().enumerate() {
        let (booker, watcher) = if round.is_multiple_of(2) { (&a, &b) } else { (&b, &a) };
        let reply = post_booking(booker, SHOW, &booking("Seen Elsewhere", &[seat]), None).unwrap();
        assert_eq!(reply.status, 201, "{}", reply.text());
        let booked = Instant::now();
        // The event is "the other instance's map shows it"; polled, since it has no other signal.
        loop {
            let seen = taken(watcher, SHOW);
            if seen.contains(seat) {
                break;
            }
            assert!(
                booked.elapsed() < PROPAGATION,
                "{seat} booked on one instance still shows free on the other after {PROPAGATION:?}: taken {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A booking some instance acknowledged with `201`.
#[derive(Debug, Clone)]
struct Acked {
    reply: Value,
    showtime: String,
    seat: String,
    /// Whether the instance that will be killed made it.
    on_a: bool,
}

fn a_sigkill_of_one_instance_under_load_loses_no_acknowledged_booking(fixture: Fixture) {
    const CLIENTS_PER_INSTANCE: usize = 8;
    let mut pair = Pair::start(&fixture, &[]);
    let seats: Vec<String> = fixture.catalog().seat_map.seat_ids().map(str::to_string).collect();
    let work: Vec<(String, String)> =
        fixture.showtimes().into_iter().flat_map(|s| seats.iter().map(move |seat| (s.clone(), seat.clone()))).collect();
    let next = AtomicUsize::new(0);
    let acked = Mutex::new(Vec::<Acked>::new());
    let stop = AtomicBool::new(false);
    let (addr_a, addr_b) = (pair.a.addr, pair.b.addr);
    let count = |on_a: bool| acked.lock().unwrap().iter().filter(|b| b.on_a == on_a).count();
    std::thread::scope(|s| {
        for i in 0..2 * CLIENTS_PER_INSTANCE {
            let on_a = i.is_multiple_of(2);
            let (next, acked, stop, work) = (&next, &acked, &stop, &work);
            s.spawn(move || {
                let client = Client::new(if on_a { addr_a } else { addr_b });
                while !stop.load(Ordering::Relaxed) {
                    let Some((showtime, seat)) = work.get(next.fetch_add(1, Ordering::Relaxed)) else { return };
                    let body = booking("Kill Test", &[seat]);
                    let Some(reply) = post_booking(&client, showtime, &body, None) else {
                        // No reply: the instance is gone. Only A is ever killed.
                        assert!(on_a, "instance B stopped answering");
                        return;
                    };
                    assert_eq!(reply.status, 201, "{}", reply.text());
                    let booked = Acked { reply: reply.json(), showtime: showtime.clone(), seat: seat.clone(), on_a };
                    acked.lock().unwrap().push(booked);
                }
            });
        }
        // Both instances take bookings, then A dies mid-stream.
        wait_for("bookings acknowledged by both instances", PATIENCE, || {
            (count(true) >= 40 && count(false) >= 40).then_some(())
        });
        pair.a.kill();
        let after_kill = count(false);
        // B keeps answering 201s after the kill.
        wait_for("instance B to keep booking after A was killed", PATIENCE, || {
            (count(false) >= after_kill + 50).then_some(())
        });
        stop.store(true, Ordering::Relaxed);
    });
    let acked = acked.into_inner().unwrap();
    assert!(acked.iter().any(|b| b.on_a), "A acknowledged bookings before it was killed");

    // Every acknowledged booking, from either instance, is readable through the survivor...
    let survivor = Client::new(pair.b.addr);
    for booked in &acked {
        let (reference, token) =
            (booked.reply["reference"].as_str().unwrap(), booked.reply["manage_token"].as_str().unwrap());
        let reply = survivor.get(&format!("/api/bookings/{reference}?token={token}")).unwrap();
        assert_eq!(reply.status, 200, "acknowledged booking {reference} is missing: {}", reply.text());
        let body = reply.json();
        assert_eq!(body["seats"], serde_json::json!([booked.seat]), "{body}");
        assert_eq!(body["status"], "active", "{body}");
    }
    // ...and in the database, with no seat held twice.
    let mut by_showtime: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for booked in &acked {
        by_showtime.entry(&booked.showtime).or_default().push(booked.seat.clone());
    }
    for (showtime, mut seats) in by_showtime {
        seats.sort();
        let in_database = taken_in_database(&fixture, showtime);
        let missing: Vec<_> = seats.iter().filter(|s| !in_database.contains(s)).collect();
        assert!(missing.is_empty(), "{showtime}: acknowledged seats missing from the database: {missing:?}");
    }
    for booked in acked.iter().step_by((acked.len() / 40).max(1)) {
        assert_booked(&fixture, &booked.reply, &booked.showtime, &booked.seat);
    }
}
