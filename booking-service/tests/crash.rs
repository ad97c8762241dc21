//! The real `tiketa-booking` under concurrent booking load is killed with SIGKILL (no shutdown
//! code runs) or stopped with SIGTERM. After a restart every booking acknowledged with `201`
//! is there, no seat is held twice, and SQLite's integrity check passes. On SIGTERM, requests
//! the server was working on when the signal came (held open mid-body, proven in flight by the
//! server's `100 Continue`) still get their whole reply, and what it acknowledged is kept.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Fixture, Server, booking, wait_for};
use test_support::Client;

const CLIENTS: usize = 16;
/// How long a test waits for anything before it fails (never a synchronisation).
const PATIENCE: Duration = Duration::from_secs(30);

/// A booking the server acknowledged.
#[derive(Debug, Clone)]
struct Acked {
    reference: String,
    token: String,
    showtime: String,
    seat: String,
}

/// Books distinct seats (the `start`th onwards of every showtime's seats) from `CLIENTS` threads
/// until the server goes away; `during` runs on the calling thread meanwhile, given the bookings
/// acknowledged so far. Returns every acknowledged booking and where the next round should start.
fn under_load(
    fixture: &Fixture,
    addr: SocketAddr,
    start: usize,
    during: impl FnOnce(&Mutex<Vec<Acked>>),
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
        during(&acked);
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

/// Waits until at least `count` bookings are acknowledged.
fn wait_for_bookings(acked: &Mutex<Vec<Acked>>, count: usize) {
    wait_for(&format!("{count} acknowledged bookings"), PATIENCE, || {
        (acked.lock().unwrap().len() >= count).then_some(())
    });
}

#[test]
fn a_sigkill_under_load_loses_no_acknowledged_booking() {
    let fixture = Fixture::new();
    let (mut all, mut start) = (Vec::new(), 0);
    for round in 0..2 {
        let mut server = Server::start(&fixture, &[]);
        let (acked, next) = under_load(&fixture, server.addr, start, |acked| {
            wait_for_bookings(acked, 60 + 40 * round);
            server.kill();
        });
        assert!(acked.len() > 50, "round {round}: only {} bookings before the kill", acked.len());
        all.extend(acked);
        start = next;
        assert_kept(&fixture, &all);
    }
}

/// A booking POST the server has begun: its head is sent, the server answered `100 Continue`
/// (so a handler is reading the body), and the body is still coming, a chunk at a time.
struct HeldRequest {
    stream: TcpStream,
    showtime: String,
    seat: String,
}

impl HeldRequest {
    fn open(addr: SocketAddr, showtime: &str, seat: &str) -> HeldRequest {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let head = format!(
            "POST /api/showtimes/{showtime}/bookings HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        // Byte by byte: nothing past the interim reply may be taken from the socket.
        let mut interim = Vec::new();
        while !interim.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            stream.read_exact(&mut byte).unwrap_or_else(|e| panic!("no 100 Continue: {e}"));
            interim.push(byte[0]);
        }
        let interim = String::from_utf8_lossy(&interim);
        assert!(interim.starts_with("HTTP/1.1 100"), "expected 100 Continue, got {interim:?}");
        HeldRequest { stream, showtime: showtime.to_string(), seat: seat.to_string() }
    }

    /// A chunk of leading whitespace (valid before JSON): bytes keep moving, so the server does
    /// not take the connection for a stalled client.
    fn trickle(&mut self) -> std::io::Result<()> {
        self.stream.write_all(b"1\r\n \r\n")
    }

    /// Sends the rest of the body. Every held request is completed this way before any reply
    /// is read: one completed while the others wait for its reply would leave them stalled,
    /// and a stalled client is cut off at shutdown (rightly).
    fn complete(&mut self) {
        let body = booking("Held Open", &[&self.seat]);
        let mut end = format!("{:x}\r\n", body.len()).into_bytes();
        end.extend_from_slice(&body);
        end.extend_from_slice(b"\r\n0\r\n\r\n");
        self.stream.write_all(&end).unwrap_or_else(|e| panic!("a request in flight at SIGTERM was cut off: {e}"));
    }

    /// Reads the whole reply: status and JSON body.
    fn reply(self) -> (u16, serde_json::Value) {
        let mut reply = BufReader::new(self.stream);
        let mut status = String::new();
        reply.read_line(&mut status).unwrap_or_else(|e| panic!("no reply to a request in flight at SIGTERM: {e}"));
        let code = status.split_whitespace().nth(1).and_then(|c| c.parse().ok());
        let code = code.unwrap_or_else(|| panic!("no reply to a request in flight at SIGTERM: {status:?}"));
        let mut length = None;
        loop {
            let mut line = String::new();
            reply.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0u8; length.expect("a reply with Content-Length")];
        reply.read_exact(&mut body).unwrap_or_else(|e| panic!("the reply's body was cut short: {e}"));
        (code, serde_json::from_slice(&body).unwrap())
    }
}

#[test]
fn sigterm_answers_the_requests_in_flight_and_keeps_what_it_acknowledged() {
    const HELD: usize = 8;
    let fixture = Fixture::new();
    let mut server = Server::start(&fixture, &[]);
    // The last showtime: the load books from the first one on and never gets this far.
    let showtimes = fixture.showtimes();
    let last = showtimes.last().unwrap();
    let held: Vec<HeldRequest> = (1..=HELD).map(|n| HeldRequest::open(server.addr, last, &format!("J{n}"))).collect();
    let trickling = Arc::new(AtomicBool::new(true));
    let trickler = {
        let (trickling, mut held) = (trickling.clone(), held);
        std::thread::spawn(move || {
            // Pacing, not synchronisation: a deliberately slow client, a byte every 20 ms
            // (well inside the 250 ms a stalled client gets at shutdown) until told to finish.
            while trickling.load(Ordering::Relaxed) {
                for request in &mut held {
                    request.trickle().expect("the server closed a request it was reading");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            held
        })
    };
    let mut clean = false;
    let (mut acked, _) = under_load(&fixture, server.addr, 0, |acked| {
        wait_for_bookings(acked, 60);
        server.signal_term();
        // The signal was sent: from here on, the held requests' bodies complete.
        trickling.store(false, Ordering::Relaxed);
        let mut held = trickler.join().unwrap();
        held.iter_mut().for_each(HeldRequest::complete);
        for request in held {
            let (showtime, seat) = (request.showtime.clone(), request.seat.clone());
            let (status, body) = request.reply();
            assert_eq!(status, 201, "{body}");
            acked.lock().unwrap().push(Acked {
                reference: body["reference"].as_str().unwrap().into(),
                token: body["manage_token"].as_str().unwrap().into(),
                showtime,
                seat,
            });
        }
        clean = server.wait_exit(PATIENCE);
    });
    assert!(clean, "tiketa-booking exited with an error after SIGTERM");
    assert!(acked.len() >= 60 + HELD);
    acked.sort_by(|a, b| a.reference.cmp(&b.reference));
    assert_kept(&fixture, &acked);
}
