//! The real `tiketa-booking` under concurrent booking load is killed with SIGKILL (no shutdown
//! code runs) or stopped with SIGTERM. After a restart every booking acknowledged with `201`
//! is there, no seat is held twice, and SQLite's integrity check passes.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{Fixture, Server, booking};
use test_support::Client;

const CLIENTS: usize = 16;

/// A booking the server acknowledged.
#[derive(Debug, Clone)]
struct Acked {
    reference: String,
    token: String,
    showtime: String,
    seat: String,
}

/// Books distinct seats (the `start`th onwards of every showtime's seats) from `CLIENTS` threads
/// until the server goes away; `during` runs on the calling thread meanwhile. Returns every
/// acknowledged booking and where the next round should start.
fn under_load(
    fixture: &Fixture,
    addr: std::net::SocketAddr,
    start: usize,
    during: impl FnOnce(),
) -> (Vec<Acked>, usize) {
    let seats: Vec<String> = fixture.catalog().seat_map.seat_ids().map(str::to_string).collect();
    let work: Vec<(String, String)> =
        fixture.showtimes().into_iter().flat_map(|s| seats.iter().map(move |seat| (s.clone(), seat.clone()))).collect();
    let next = AtomicUsize::new(start);
    let acked = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| {
                let client = Client::new(addr);
                while !stop.load(Ordering::Relaxed) {
                    let Some((showtime, seat)) = work.get(next.fetch_add(1, Ordering::Relaxed)) else { return };
                    let path = format!("/api/showtimes/{showtime}/bookings");
                    let body = booking("Crash Test", &[seat]);
                    let Ok(reply) = client.send("POST", &path, &[("Content-Type", "application/json")], Some(&body))
                    else {
                        return; // the server is gone
                    };
                    assert_eq!(reply.status, 201, "{}", reply.text());
                    let b = reply.json();
                    acked.lock().unwrap().push(Acked {
                        reference: b["reference"].as_str().unwrap().into(),
                        token: b["manage_token"].as_str().unwrap().into(),
                        showtime: showtime.clone(),
                        seat: seat.clone(),
                    });
                }
            });
        }
        during();
        stop.store(true, Ordering::Relaxed);
    });
    (acked.into_inner().unwrap(), next.into_inner())
}

/// Everything the acknowledged bookings promised, checked on the file and through a fresh server.
fn assert_kept(fixture: &Fixture, acked: &[Acked]) {
    let conn = rusqlite::Connection::open(fixture.db()).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let doubled: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM booking_seats WHERE active = 1 GROUP BY showtime_id, seat HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(doubled, 0, "a seat is held twice");
    let mut find = conn
        .prepare(
            "SELECT s.showtime_id, s.seat FROM bookings b JOIN booking_seats s ON s.booking_id = b.id
             WHERE b.reference = ?1 AND b.cancelled_at IS NULL AND s.active = 1",
        )
        .unwrap();
    for a in acked {
        let row: (String, String) = find
            .query_row([&a.reference], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap_or_else(|e| panic!("acknowledged booking {} is missing: {e}", a.reference));
        assert_eq!(row, (a.showtime.clone(), a.seat.clone()));
    }
    drop(find);
    drop(conn);
    // The restarted service agrees.
    let server = Server::start(fixture, &[]);
    let client = Client::new(server.addr);
    assert_eq!(client.get("/api/health").unwrap().status, 200);
    for a in acked.iter().step_by((acked.len() / 50).max(1)) {
        let reply = client.get(&format!("/api/bookings/{}?token={}", a.reference, a.token)).unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let references: HashSet<_> = acked.iter().map(|a| &a.reference).collect();
    assert_eq!(references.len(), acked.len(), "references are unique");
}

#[test]
fn a_sigkill_under_load_loses_no_acknowledged_booking() {
    let fixture = Fixture::new();
    let (mut all, mut start) = (Vec::new(), 0);
    for round in 0..2 {
        let mut server = Server::start(&fixture, &[]);
        let (acked, next) = under_load(&fixture, server.addr, start, || {
            std::thread::sleep(Duration::from_millis(300 + 200 * round));
            server.kill();
        });
        assert!(acked.len() > 50, "round {round}: only {} bookings before the kill", acked.len());
        all.extend(acked);
        start = next;
        assert_kept(&fixture, &all);
    }
}

#[test]
fn sigterm_finishes_requests_in_flight_and_exits_cleanly() {
    let fixture = Fixture::new();
    let mut server = Server::start(&fixture, &[]);
    let mut clean = false;
    let (acked, _) = under_load(&fixture, server.addr, 0, || {
        std::thread::sleep(Duration::from_millis(300));
        clean = server.terminate();
    });
    assert!(clean, "tiketa-booking exited with an error after SIGTERM");
    assert!(acked.len() > 50);
    assert_kept(&fixture, &acked);
}
