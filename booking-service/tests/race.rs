//! 200 clients on 200 real threads ask the real server, on a real database file, for the same
//! seat at the same moment: exactly one gets it.

mod common;

use std::sync::Barrier;

use common::{Fixture, SHOW, Server, booking};
use test_support::Client;

#[test]
fn two_hundred_clients_racing_for_one_seat_book_it_exactly_once() {
    const CLIENTS: usize = 200;
    let fixture = Fixture::new();
    // 200 connections from one address: more than one client's default share.
    let server = Server::start(&fixture, &["--max-connections-per-client", "0"]);
    let path = format!("/api/showtimes/{SHOW}/bookings");
    let barrier = Barrier::new(CLIENTS);
    let statuses: Vec<(u16, serde_json::Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (barrier, path, addr) = (&barrier, &path, server.addr);
                s.spawn(move || {
                    // Connect first (a first request leaves the connection open), so the
                    // bookings leave as close together as possible.
                    let client = Client::new(addr);
                    let health = client.get("/api/health").map(|r| r.status);
                    let body = booking(&format!("Client {i}"), &["F7"]);
                    // Every racer reaches the barrier, even one whose health check failed:
                    // a racer that panicked before it would leave the others waiting forever.
                    barrier.wait();
                    assert_eq!(health.ok(), Some(200), "the instance answers its health check");
                    let reply =
                        client.send("POST", path, &[("Content-Type", "application/json")], Some(&body)).unwrap();
                    (reply.status, reply.json())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = statuses.iter().filter(|(s, _)| *s == 201).count();
    let conflicts: Vec<_> = statuses.iter().filter(|(s, _)| *s == 409).collect();
    assert_eq!(created, 1, "statuses: {:?}", statuses.iter().map(|(s, _)| s).collect::<Vec<_>>());
    assert_eq!(conflicts.len(), CLIENTS - 1);
    for (_, body) in conflicts {
        assert_eq!(body["error"]["code"], "seats_taken");
        assert_eq!(body["error"]["seats"], serde_json::json!(["F7"]));
    }
    assert_eq!(fixture.count("SELECT count(*) FROM booking_seats WHERE seat = 'F7'"), 1);
    assert_eq!(fixture.count("SELECT count(*) FROM bookings"), 1);
}
