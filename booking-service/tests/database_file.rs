//! The real `tiketa-booking` and its database file: deleted or replaced while it runs, the
//! service refuses bookings (503), health fails, and the log says what happened and what to
//! do; started with a path where there is no database, it stops with a clear message and
//! creates nothing.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Fixture, NOW, SHOW, Server, booking};
use test_support::{Client, Reply};

fn book(conn: &Client, seat: &str) -> Reply {
    let path = format!("/api/showtimes/{SHOW}/bookings");
    conn.send("POST", &path, &[("Content-Type", "application/json")], Some(&booking("Ana Lima", &[seat]))).unwrap()
}

fn health(conn: &Client) -> Reply {
    conn.send("GET", "/api/health", &[], None).unwrap()
}

/// Asserts a refused booking and a failing health, both saying the database file is gone.
fn assert_refused(conn: &Client, seat: &str) {
    let reply = book(conn, seat);
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.json()["error"]["code"], "store_unavailable", "{}", reply.text());
    assert!(reply.header("retry-after").is_some());
    let reply = health(conn);
    assert_eq!(reply.status, 503, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["status"], "unavailable", "{body}");
    assert!(body["reason"].as_str().unwrap().contains("deleted or replaced"), "{body}");
    assert!(reply.header("retry-after").is_some());
}

/// Starts the service with its log in a file; returns the server and the log's path.
fn start(fixture: &Fixture) -> (Server, std::path::PathBuf) {
    let log = fixture.dir.path().join("service.log");
    let server = Server::start_logging(fixture, &[], std::fs::File::create(&log).unwrap());
    (server, log)
}

fn assert_logged_loudly(log: &Path, db: &Path) {
    let text = std::fs::read_to_string(log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("ERROR") && l.contains(&db.display().to_string()))
        .unwrap_or_else(|| panic!("no ERROR line naming {} in the log:\n{text}", db.display()));
    assert!(line.contains("restart"), "the log line says what to do: {line}");
}

/// Runs the service on `db` and returns its output once it has exited; fails if it is still
/// running after a few seconds (it started serving) or exited successfully.
fn start_expecting_failure(db: &Path, f: &Fixture) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiketa-booking"))
        .args(["--db", db.to_str().unwrap(), "--content", f.content().to_str().unwrap(), "--now", NOW])
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The exit is the event; a process that is still running after the deadline started
    // serving (the failure this guards against), and is killed before the test fails.
    let deadline = Instant::now() + Duration::from_secs(20);
    let exited = common::wait_for("the service to refuse to start", Duration::from_secs(25), || {
        let exited = child.try_wait().unwrap().is_some();
        (exited || Instant::now() > deadline).then_some(exited)
    });
    if !exited {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!("the service started on {}: {}", db.display(), String::from_utf8_lossy(&out.stdout));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "the service exited successfully on {}", db.display());
    out
}

#[test]
fn a_deleted_database_file_refuses_bookings_and_fails_health() {
    let f = Fixture::new();
    let (mut server, log) = start(&f);
    let conn = Client::new(server.addr);
    assert_eq!(book(&conn, "A1").status, 201);
    assert_eq!(health(&conn).status, 200);

    std::fs::remove_file(f.db()).unwrap();
    assert_refused(&conn, "A2");
    assert_logged_loudly(&log, &f.db());

    // What used to happen next: a restart created a new, empty database without a word.
    server.kill();
    let start = start_expecting_failure(&f.db(), &f);
    assert!(String::from_utf8_lossy(&start.stderr).contains("no database at"));
    assert!(!f.db().exists(), "the service created a database");
}

#[test]
fn a_replaced_database_file_refuses_bookings_until_the_original_is_back() {
    let f = Fixture::new();
    let (server, log) = start(&f);
    let conn = Client::new(server.addr);
    assert_eq!(book(&conn, "A1").status, 201);

    // A restore over the live file: another file (another inode) at the same path.
    let aside = f.dir.path().join("var/original.db");
    let copy = f.dir.path().join("var/copy.db");
    std::fs::copy(f.db(), &copy).unwrap();
    std::fs::rename(f.db(), &aside).unwrap();
    std::fs::rename(&copy, f.db()).unwrap();
    assert_refused(&conn, "A2");
    assert_logged_loudly(&log, &f.db());

    // The very file the service opened, put back: it takes bookings again.
    std::fs::rename(&aside, f.db()).unwrap();
    assert_eq!(health(&conn).status, 200);
    let reply = book(&conn, "A2");
    assert_eq!(reply.status, 201, "{}", reply.text());
    drop(server);
    assert_eq!(f.count("SELECT count(*) FROM bookings"), 2, "both acknowledged bookings are in the file");
}

#[test]
fn the_service_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let missing = dir.path().join("mistyped/tiketa.db");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, but long enough to look like a header to SQLite ".repeat(4)).unwrap();
    for (db, says) in
        [(&missing, "no database at"), (&empty, "not a Tiketa database"), (&text, "not a Tiketa database")]
    {
        let start = start_expecting_failure(db, &f);
        let stderr = String::from_utf8_lossy(&start.stderr);
        assert!(stderr.contains(says) && stderr.contains(&db.display().to_string()), "{stderr}");
        assert!(stderr.contains("`tiketa-gen roll` creates"), "says what to run: {stderr}");
        assert!(stderr.contains("--db / DATABASE_URL"), "says what to check: {stderr}");
        assert!(String::from_utf8_lossy(&start.stdout).is_empty(), "it never listened");
    }
    assert!(!missing.parent().unwrap().exists(), "the service created the database's folder");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0, "the service wrote into an empty file");
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(siblings.len(), 2, "the service left files behind: {siblings:?}");
}
