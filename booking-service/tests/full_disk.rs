//! The real `tiketa-booking` on a disk that fills up: bookings are refused (503) and health
//! says so (503 with the reason) while the disk is full, and both recover by themselves once
//! there is room again, without a restart and without a booking to wake them.
//!
//! NEEDS ROOT: the database lives on a small tmpfs mounted for the test (a real filesystem
//! that really runs out of space). Skipped, with a message, when not run as root; CI runs as
//! root.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Fixture, SHOW, Server, booking};
use test_support::{Client, Reply};

/// A tmpfs of `size` mounted at `at`, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let status =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(at).status();
        assert!(status.is_ok_and(|s| s.success()), "cannot mount a tmpfs at {} (root is needed)", at.display());
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn book(conn: &Client, seat: &str) -> Reply {
    let path = format!("/api/showtimes/{SHOW}/bookings");
    conn.send("POST", &path, &[("Content-Type", "application/json")], Some(&booking("Ana Lima", &[seat]))).unwrap()
}

fn health(conn: &Client) -> Reply {
    conn.send("GET", "/api/health", &[], None).unwrap()
}

/// Writes zeros into `path` until the disk refuses (ENOSPC).
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 << 10];
    loop {
        if let Err(e) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
            assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "filling the disk: {e}");
            return;
        }
    }
}

/// Polls `done` until it holds (a file's size has no other signal); panics with `what` after
/// `deadline`.
fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    common::wait_for(what, deadline, || done().then_some(()));
}

fn wal_size(db: &Path) -> u64 {
    std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len())
}

#[test]
fn a_full_disk_fails_bookings_and_health_and_both_recover_when_space_is_freed() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED a_full_disk_fails_bookings_and_health...: needs root to mount a tmpfs (CI runs as root)");
        return;
    }
    let f = Fixture::new();
    let disk = Tmpfs::mount(&f.dir.path().join("disk"), "16m");
    let db = disk.0.join("tiketa.db");
    std::fs::copy(f.db(), &db).unwrap();
    let server = Server::start(&f, &["--db", db.to_str().unwrap()]);
    let conn = Client::new(server.addr);
    assert_eq!(book(&conn, "A1").status, 201);
    // Once idle, the log is truncated: the next booking needs new space on the disk.
    wait_for("the WAL truncated after the first booking", Duration::from_secs(10), || wal_size(&db) == 0);

    let filler = disk.0.join("filler");
    fill(&filler);
    // Health says so before any booking fails: the disk has no room for the next commit.
    let reply = health(&conn);
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.json()["status"], "unavailable");
    assert!(reply.json()["reason"].as_str().unwrap().contains("disk"), "{}", reply.text());
    assert!(reply.header("retry-after").is_some());

    let reply = book(&conn, "A2");
    assert_eq!(reply.status, 503, "a booking on a full disk: {}", reply.text());
    assert_eq!(reply.json()["error"]["code"], "store_unavailable");
    // The failed commit itself is now the reason, whatever the free space says.
    let reply = health(&conn);
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert!(reply.json()["reason"].as_str().unwrap().contains("did not reach the database"), "{}", reply.text());

    // Room again. No booking arrives (a load balancer has stopped sending them), yet health
    // recovers: the writer probes with a write of its own until one commits.
    std::fs::remove_file(&filler).unwrap();
    wait_for("health answering 200 after space was freed", Duration::from_secs(10), || health(&conn).status == 200);
    let reply = book(&conn, "A2");
    assert_eq!(reply.status, 201, "{}", reply.text());

    drop(server);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let booked: i64 = conn.query_row("SELECT count(*) FROM bookings", [], |r| r.get(0)).unwrap();
    assert_eq!(booked, 2, "the two acknowledged bookings, and nothing of the refused one");
    drop(conn);
    drop(disk);
}

#[test]
fn a_backup_onto_a_full_disk_fails_saying_so_and_leaves_no_file() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED a_backup_onto_a_full_disk...: needs root to mount a tmpfs (CI runs as root)");
        return;
    }
    let f = Fixture::new();
    let size = std::fs::metadata(f.db()).unwrap().len();
    // Room for a few pages of the copy, never the whole of it.
    let disk = Tmpfs::mount(&f.dir.path().join("backups"), "8k");
    assert!(size > 8 * 1024, "the database ({size} B) must not fit");
    let copy = disk.0.join("tiketa-copy.db");
    let ran = Command::new(env!("CARGO_BIN_EXE_tiketa-ops"))
        .args(["--db", f.db().to_str().unwrap(), "--content", f.content().to_str().unwrap(), "backup"])
        .arg(&copy)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert_eq!(ran.status.code(), Some(1), "a failed backup fails: {stderr}");
    assert!(stderr.contains("full") || stderr.contains("space"), "says why: {stderr}");
    let left: Vec<_> = std::fs::read_dir(&disk.0).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing half-written is left: {left:?}");
    // And with room, the same command writes the whole copy.
    drop(disk);
    let ran = Command::new(env!("CARGO_BIN_EXE_tiketa-ops"))
        .args(["--db", f.db().to_str().unwrap(), "--content", f.content().to_str().unwrap(), "backup"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    assert!(std::fs::metadata(&copy).unwrap().len() >= size / 2);
}
