//! The real `tiketa-booking`, started with only 256 open files, under a flood of idle sockets
//! and slowloris connections from one client: other clients are still served at once, the
//! flood's sockets are closed by the server after the timeouts, and nothing is logged as an
//! error. Also: the booking rate limit still tells clients apart by address, and behind a trusted
//! proxy by the address the proxy forwards.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Fixture, SHOW, Server, booking};
use test_support::Client;

/// The server's soft open-file limit.
const FILES: u64 = 256;
/// More idle sockets than the server has files.
const IDLE_SOCKETS: usize = 300;
/// How many connections one client may hold.
const PER_CLIENT: usize = 64;
const SLOW_SOCKETS: usize = 4;
/// How long a test waits for anything before it fails (never a synchronisation).
const PATIENCE: Duration = Duration::from_secs(30);

/// Starts the server with [`FILES`] open files, the given timeouts, and its log collected.
/// `hard_files` is the hard limit, which the server may raise its soft limit to.
fn start_limited(
    fixture: &Fixture,
    idle: Duration,
    header: Duration,
    hard_files: u64,
) -> (Server, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (idle, header) = (idle.as_secs().to_string(), header.as_secs().to_string());
    let per_client = PER_CLIENT.to_string();
    let args = ["--idle-timeout", &idle, "--header-timeout", &header, "--max-connections-per-client", &per_client];
    let mut server = Server::start_with(fixture, &args, |command| {
        command.stderr(Stdio::piped()).env("RUST_LOG", "info");
        // SAFETY: setrlimit is async-signal-safe, as pre_exec requires.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit { rlim_cur: FILES, rlim_max: hard_files };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    let stderr = BufReader::new(server.child.stderr.take().unwrap());
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("server: {line}");
            lines.lock().unwrap().push(line);
        }
    });
    (server, log)
}

/// A TCP connection to `server` from the loopback address `from` (all of 127/8 is loopback).
fn connect_from(from: &str, server: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let local: SocketAddr = (from.parse::<IpAddr>().unwrap(), 0).into();
    socket.bind(&local.into()).unwrap();
    socket.connect(&server.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Blocks until the server closes `stream` (end of file or reset); fails after [`PATIENCE`].
fn wait_closed(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("the server did not close the connection within {PATIENCE:?}: {e}"),
        }
    }
}

/// Waits until the server has closed `count` of `streams`, and returns the ones still open.
fn wait_until_closed(streams: Vec<TcpStream>, count: usize) -> Vec<TcpStream> {
    let deadline = Instant::now() + PATIENCE;
    let (mut open, mut closed) = (streams, 0);
    while closed < count {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "only {closed} of {count} connections were closed within {PATIENCE:?}");
        let mut fds: Vec<libc::pollfd> =
            open.iter().map(|s| libc::pollfd { fd: s.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
        // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, left.as_millis() as i32) };
        assert!(ready >= 0, "poll: {}", std::io::Error::last_os_error());
        let before = open.len();
        let mut readable = fds.iter().map(|f| f.revents != 0);
        open.retain(|_| !readable.next().unwrap());
        closed += before - open.len();
    }
    open
}

/// One request with `Connection: close` on a connection from `from`; the status code.
fn status_from(from: &str, server: SocketAddr, method: &str, path: &str, body: &[u8]) -> u16 {
    status_forwarded(from, server, method, path, body, None)
}

/// [`status_from`] with an `X-Forwarded-For` header.
fn status_forwarded(
    from: &str,
    server: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    forwarded_for: Option<&str>,
) -> u16 {
    let mut stream = connect_from(from, server);
    let forwarded = forwarded_for.map_or(String::new(), |f| format!("X-Forwarded-For: {f}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\n{forwarded}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status: {reply:?}"))
}

#[test]
fn a_flood_of_idle_and_slowloris_sockets_from_one_client_leaves_others_served() {
    const TIMEOUT: Duration = Duration::from_secs(4);
    let fixture = Fixture::new();
    // The hard limit too, so that the server cannot raise it.
    let (server, log) = start_limited(&fixture, TIMEOUT, TIMEOUT, FILES);
    let started = Instant::now();

    // The flood: more idle sockets than the server has files, all from 127.0.0.2. The server
    // keeps the client's share and closes the rest at once.
    let idle: Vec<TcpStream> = (0..IDLE_SOCKETS).map(|_| connect_from("127.0.0.2", server.addr)).collect();
    let mut held = wait_until_closed(idle, IDLE_SOCKETS - PER_CLIENT);
    // Slowloris from 127.0.0.3: a request head that never ends, one byte at a time.
    let mut slow: Vec<TcpStream> = (0..SLOW_SOCKETS)
        .map(|_| {
            let mut s = connect_from("127.0.0.3", server.addr);
            s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    let trickling = Arc::new(AtomicBool::new(true));
    let trickler = {
        let mut writers: Vec<TcpStream> = slow.iter().map(|s| s.try_clone().unwrap()).collect();
        let trickling = trickling.clone();
        std::thread::spawn(move || {
            // Pacing, not synchronisation: a byte now and then, more often than the idle
            // timeout, so only the header timeout can end these connections.
            while trickling.load(Ordering::Relaxed) {
                writers.retain_mut(|w| w.write_all(b"X").is_ok());
                if writers.is_empty() {
                    return;
                }
                std::thread::sleep(TIMEOUT / 4);
            }
        })
    };

    // Meanwhile a normal client is served promptly.
    let asked = Instant::now();
    let client = Client::new(server.addr);
    let health = client.send("GET", "/api/health", &[], None).unwrap();
    assert_eq!(health.status, 200, "{}", health.text());
    let body = booking("Flood Survivor", &["C3"]);
    let booked = client
        .send("POST", &format!("/api/showtimes/{SHOW}/bookings"), &[("Content-Type", "application/json")], Some(&body))
        .unwrap();
    assert_eq!(booked.status, 201, "{}", booked.text());
    assert!(asked.elapsed() < Duration::from_secs(3), "answered only after {:?}", asked.elapsed());
    assert!(started.elapsed() < TIMEOUT, "the flood ended before the client was served; the test proves nothing");

    // The server closes the slow sockets after the header timeout (their trickle keeps the idle
    // clock from running out), and the idle ones after the idle timeout.
    for s in &mut slow {
        wait_closed(s);
    }
    assert!(started.elapsed() >= TIMEOUT, "slowloris closed after only {:?}", started.elapsed());
    trickling.store(false, Ordering::Relaxed);
    trickler.join().unwrap();
    for s in &mut held {
        wait_closed(s);
    }

    let after = Client::new(server.addr);
    assert_eq!(after.send("GET", "/api/health", &[], None).unwrap().status, 200, "served after the flood");

    let log = log.lock().unwrap();
    let limits = log.iter().find(|l| l.contains("connection limits")).expect("the limits are logged at start");
    assert!(limits.contains("open_files=256"), "{limits}");
    for line in log.iter() {
        assert!(!line.contains("Too many open files"), "the server ran out of files: {line}");
        assert!(!line.contains("ERROR"), "a client's doing logged as an error: {line}");
        assert!(!line.contains('\u{1b}'), "colour codes in a log that is not a terminal: {line:?}");
    }
}

#[test]
fn a_flood_from_many_addresses_makes_room_from_its_own_idle_sockets() {
    // 300 idle sockets from ten addresses, each under its share: only the total cap (the 256
    // files less the reserve: 128 connections) holds them. Timeouts longer than the test, so
    // that only making room can close a socket.
    const FLOOD: usize = 300;
    const CAP: usize = 128;
    let fixture = Fixture::new();
    let (server, log) = start_limited(&fixture, Duration::from_secs(60), Duration::from_secs(60), FILES);
    let flood: Vec<TcpStream> =
        (0..FLOOD).map(|i| connect_from(&format!("127.0.1.{}", 1 + i % 10), server.addr)).collect();
    // Each socket over the cap made room by closing an older, idle one.
    let flood = wait_until_closed(flood, FLOOD - CAP);

    let asked = Instant::now();
    let client = Client::new(server.addr);
    assert_eq!(client.send("GET", "/api/health", &[], None).unwrap().status, 200);
    let body = booking("Crowd Survivor", &["D4"]);
    let booked = client
        .send("POST", &format!("/api/showtimes/{SHOW}/bookings"), &[("Content-Type", "application/json")], Some(&body))
        .unwrap();
    assert_eq!(booked.status, 201, "{}", booked.text());
    assert!(asked.elapsed() < Duration::from_secs(3), "answered only after {:?}", asked.elapsed());
    // The client's connection took the place of one more idle socket of the flood.
    let flood = wait_until_closed(flood, 1);
    assert_eq!(flood.len(), CAP - 1);

    let log = log.lock().unwrap();
    assert!(log.iter().any(|l| l.contains("closing the longest idle to make room")), "the full service is logged");
    for line in log.iter() {
        assert!(!line.contains("Too many open files"), "the server ran out of files: {line}");
        assert!(!line.contains("ERROR"), "{line}");
    }
}

#[test]
fn idle_sockets_and_stalled_bodies_are_closed_after_the_idle_timeout() {
    let fixture = Fixture::new();
    // A header timeout longer than the test's patience: only the idle timeout can close these.
    const IDLE: Duration = Duration::from_secs(1);
    let (server, log) = start_limited(&fixture, IDLE, Duration::from_secs(60), 512);
    let mut idle = connect_from("127.0.0.1", server.addr);
    // A head that promises a body, then silence.
    let mut stalled = connect_from("127.0.0.1", server.addr);
    let head = format!(
        "POST /api/showtimes/{SHOW}/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"na"
    );
    stalled.write_all(head.as_bytes()).unwrap();
    let sent = Instant::now();
    wait_closed(&mut stalled);
    assert!(sent.elapsed() >= IDLE, "closed after only {:?}", sent.elapsed());
    wait_closed(&mut idle);
    let log = log.lock().unwrap();
    let limits = log.iter().find(|l| l.contains("connection limits")).expect("the limits are logged at start");
    assert!(limits.contains("open_files=512"), "the soft limit is raised to the hard one: {limits}");
}

#[test]
fn a_body_that_trickles_in_must_still_arrive_within_the_header_timeout() {
    const BODY_TIMEOUT: Duration = Duration::from_secs(1);
    let fixture = Fixture::new();
    // An idle timeout the trickle never lets run out.
    let (server, _log) = start_limited(&fixture, Duration::from_secs(5), BODY_TIMEOUT, FILES);
    let mut stream = connect_from("127.0.0.1", server.addr);
    let head = format!(
        "POST /api/showtimes/{SHOW}/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let sent = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    let trickler = std::thread::spawn(move || {
        // Pacing, not synchronisation: a byte every quarter of a second until the server answers.
        while writer.write_all(b" ").is_ok() {
            std::thread::sleep(Duration::from_millis(250));
            if sent.elapsed() > PATIENCE {
                return;
            }
        }
    });
    let mut reply = BufReader::new(stream);
    let mut status = String::new();
    reply.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 400"), "{status:?}");
    assert!(sent.elapsed() >= BODY_TIMEOUT, "answered after only {:?}", sent.elapsed());
    let mut rest = String::new();
    let _ = reply.read_to_string(&mut rest);
    assert!(rest.contains("did not arrive within"), "{rest}");
    drop(reply);
    trickler.join().unwrap();
}

#[test]
fn sigterm_closes_connections_that_wait_on_their_client_at_once() {
    let fixture = Fixture::new();
    // Timeouts longer than the drain: only the shutdown itself can close these connections.
    let (mut server, _log) = start_limited(&fixture, Duration::from_secs(60), Duration::from_secs(60), FILES);
    let idle: Vec<TcpStream> = (0..5).map(|_| connect_from("127.0.0.1", server.addr)).collect();
    let mut half_sent = connect_from("127.0.0.2", server.addr);
    half_sent.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").unwrap();
    let kept_alive = Client::new(server.addr);
    assert_eq!(kept_alive.send("GET", "/api/health", &[], None).unwrap().status, 200);
    let asked = Instant::now();
    assert!(server.terminate(), "tiketa-booking exited with an error after SIGTERM");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "idle connections held the shutdown up for {:?} (the drain is 10 s)",
        asked.elapsed()
    );
    drop(idle);
}

#[test]
fn the_booking_rate_limit_tells_clients_apart_by_address() {
    let fixture = Fixture::new();
    let server = Server::start(&fixture, &["--post-limit", "1", "--post-burst", "1"]);
    let path = format!("/api/showtimes/{SHOW}/bookings");
    assert_eq!(status_from("127.0.0.1", server.addr, "POST", &path, &booking("Ana", &["A1"])), 201);
    assert_eq!(status_from("127.0.0.1", server.addr, "POST", &path, &booking("Ana", &["A2"])), 429);
    assert_eq!(status_from("127.0.0.4", server.addr, "POST", &path, &booking("Bo", &["A3"])), 201, "another client");
}

/// One booking POST of a fresh seat from `from`, forwarded for `client`; the status.
fn book_via(server: &Server, from: &str, client: Option<&str>, seat: &mut u32) -> u16 {
    *seat += 1;
    let path = format!("/api/showtimes/{SHOW}/bookings");
    let body = booking("Proxied Guest", &[&format!("B{seat}")]);
    status_forwarded(from, server.addr, "POST", &path, &body, client)
}

#[test]
fn x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let fixture = Fixture::new();
    let seat = &mut 0;
    // One booking a minute per client, no burst: a second booking under the same key is 429.
    let limit = ["--post-limit", "1", "--post-burst", "1"];
    let plain = Server::start(&fixture, &limit);
    // Without --trusted-proxy a spoofed header changes nothing: the peer is the key.
    assert_eq!(book_via(&plain, "127.0.0.1", Some("198.51.100.1"), seat), 201);
    assert_eq!(book_via(&plain, "127.0.0.1", Some("198.51.100.2"), seat), 429, "spoofed header, same peer");
    drop(plain);

    let proxied = Server::start(&fixture, &[&limit[..], &["--trusted-proxy", "127.0.0.2,10.0.0.0/8"]].concat());
    // From a peer that is not a trusted proxy the header is still ignored.
    assert_eq!(book_via(&proxied, "127.0.0.1", Some("198.51.100.1"), seat), 201);
    assert_eq!(book_via(&proxied, "127.0.0.1", Some("198.51.100.2"), seat), 429, "untrusted peer");
    assert_eq!(book_via(&proxied, "127.0.0.1", None, seat), 429);
    // Through the trusted proxy each forwarded client has its own limit...
    assert_eq!(book_via(&proxied, "127.0.0.2", Some("198.51.100.1"), seat), 201);
    assert_eq!(book_via(&proxied, "127.0.0.2", Some("198.51.100.1"), seat), 429, "the same client again");
    assert_eq!(book_via(&proxied, "127.0.0.2", Some("198.51.100.2"), seat), 201, "another client");
    // ...read from the right past trusted hops, so a client spoofing the left of the chain
    // keeps the key the proxy saw.
    assert_eq!(book_via(&proxied, "127.0.0.2", Some("6.6.6.6, 198.51.100.3, 10.1.1.1"), seat), 201);
    assert_eq!(book_via(&proxied, "127.0.0.2", Some("7.7.7.7, 198.51.100.3"), seat), 429, "spoofed left hop");
    // A malformed header counts against the proxy's own address.
    assert_eq!(book_via(&proxied, "127.0.0.2", Some("junk"), seat), 201);
    assert_eq!(book_via(&proxied, "127.0.0.2", Some("198.51.100.9, junk"), seat), 429, "malformed: the peer");
}
