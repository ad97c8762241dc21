//! Shared helpers for the service's tests: a small catalog in a temp folder, a database rolled
//! with its showtimes (a SQLite file in the folder, or a fresh PostgreSQL database), and the
//! real `tiketa-booking` binary started on a free port of that database.

#![allow(dead_code, unused_macros)]

/// Runs each named test once on SQLite and once on PostgreSQL (when a server is configured).
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[test]
            fn sqlite() {
                super::$test(super::Fixture::new());
            }

            #[test]
            fn postgres() {
                if let Some(fixture) = super::Fixture::postgres() {
                    super::$test(fixture);
                }
            }
        }
    )*};
}

pub mod in_process;
pub mod pair;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cinema::Catalog;
use cinema::schedule::plan_horizon;
use cinema::store::{Blocking, DatabaseUrl, OpenMode};

/// The moment tests run at (the service is started with `--now`).
pub const NOW: &str = "2030-01-10T00:00:00+07:00";
/// film `aurora` in studio 1 screens at 10:00 on the first day.
pub const SHOW: &str = "aurora-20300110-1000";

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW).unwrap().with_timezone(&Utc)
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A temp folder with `content/` (the real settings and auditorium, two small films) and a
/// database holding the horizon's showtimes at [`NOW`].
pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// Where the showtimes are: `var/tiketa.db` in `dir`, or a PostgreSQL database.
    database: DatabaseUrl,
    /// The `--db` the servers are started with (a PostgreSQL URL keeps its password here).
    db_arg: String,
    /// Dropped (and the database with it) after the fixture's servers.
    _postgres: Option<test_support::postgres::TestDatabase>,
}

const FILM: &str = "+++
studio = {studio}
title = \"{title}\"
release_date = \"2001-01-01\"
runtime_min = 120
directors = [\"Someone\"]
genres = [\"Drama\"]
trailer_youtube_id = \"aaaaaaaaaaa\"
+++

Lore.
";

impl Fixture {
    /// The content and a SQLite file in a new temp folder.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("var/tiketa.db");
        let db_arg = db.to_str().unwrap().to_string();
        Self::with_database(dir, DatabaseUrl::Sqlite(db), db_arg, None)
    }

    /// The content in a new temp folder and a fresh PostgreSQL database, or `None` (with a
    /// "skipped" note) when `TIKETA_TEST_DATABASE_URL` names no server.
    pub fn postgres() -> Option<Self> {
        let database = test_support::postgres::fresh_database()?;
        let url = database.url().to_string();
        let parsed = url.parse().unwrap();
        Some(Self::with_database(tempfile::tempdir().unwrap(), parsed, url, Some(database)))
    }

    fn with_database(
        dir: tempfile::TempDir,
        database: DatabaseUrl,
        db_arg: String,
        postgres: Option<test_support::postgres::TestDatabase>,
    ) -> Self {
        let content = dir.path().join("content");
        std::fs::create_dir_all(content.join("films")).unwrap();
        for file in ["site.toml", "auditorium.txt"] {
            std::fs::copy(repo_root().join("content").join(file), content.join(file)).unwrap();
        }
        for (studio, slug, title) in [(1, "aurora", "Aurora"), (2, "borealis", "Borealis")] {
            let text = FILM.replace("{studio}", &studio.to_string()).replace("{title}", title);
            std::fs::write(content.join("films").join(format!("{slug}.md")), text).unwrap();
        }
        let fixture = Fixture { dir, database, db_arg, _postgres: postgres };
        let catalog = Catalog::load(&fixture.content()).unwrap();
        fixture.store().run(|s| s.roll(plan_horizon(&catalog, now()), now())).unwrap();
        fixture
    }

    pub fn content(&self) -> PathBuf {
        self.dir.path().join("content")
    }

    /// Sets `hold_minutes` in the fixture's `site.toml` (for servers started after this).
    pub fn set_hold_minutes(&self, minutes: f64) {
        let path = self.content().join("site.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let text: String = text
            .lines()
            .map(|l| if l.starts_with("hold_minutes") { format!("hold_minutes = {minutes}") } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains(&format!("hold_minutes = {minutes}")), "site.toml has a hold_minutes line");
        std::fs::write(path, text).unwrap();
    }

    /// The SQLite file; panics for a PostgreSQL fixture.
    pub fn db(&self) -> PathBuf {
        match &self.database {
            DatabaseUrl::Sqlite(path) => path.clone(),
            DatabaseUrl::Postgres(_) => panic!("a PostgreSQL fixture has no database file"),
        }
    }

    /// The fixture's database, as the servers are given it.
    pub fn database(&self) -> &DatabaseUrl {
        &self.database
    }

    /// Whether the database is a PostgreSQL one.
    pub fn is_postgres(&self) -> bool {
        matches!(self.database, DatabaseUrl::Postgres(_))
    }

    /// The fixture's database as a store, for setting up and checking.
    pub fn store(&self) -> Blocking {
        Blocking::open(&self.database, OpenMode::Create)
            .unwrap_or_else(|e| panic!("cannot open the test database {}: {e}", self.database))
    }

    pub fn catalog(&self) -> Catalog {
        Catalog::load(&self.content()).unwrap()
    }

    /// The live showtime ids, in start order.
    pub fn showtimes(&self) -> Vec<String> {
        self.store().run(|s| s.live_showtimes(now())).unwrap().into_iter().map(|s| s.id.0).collect()
    }

    pub fn count(&self, sql: &str) -> i64 {
        rusqlite::Connection::open(self.db()).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// The real `tiketa-booking`, started on a free loopback port.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts the binary and waits for its "listening on" line.
    pub fn start(fixture: &Fixture, extra: &[&str]) -> Server {
        Self::start_with(fixture, extra, |_| {})
    }

    /// [`Server::start`] with the log (stderr, at `warn` and above) sent to `stderr`.
    pub fn start_logging(fixture: &Fixture, extra: &[&str], stderr: impl Into<Stdio>) -> Server {
        Self::start_with(fixture, extra, |command| {
            command.stderr(stderr);
        })
    }

    /// [`Server::start`] on the real clock instead of [`NOW`]: for holds that must end (the
    /// fixture's showtimes, in 2030, are all still to come).
    pub fn start_live(fixture: &Fixture, extra: &[&str]) -> Server {
        Self::launch(fixture, None, extra, |_| {})
    }

    /// [`Server::start`], with a last word on the command (its environment, limits, output).
    pub fn start_with(fixture: &Fixture, extra: &[&str], configure: impl FnOnce(&mut Command)) -> Server {
        Self::launch(fixture, Some(NOW), extra, configure)
    }

    fn launch(fixture: &Fixture, now: Option<&str>, extra: &[&str], configure: impl FnOnce(&mut Command)) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tiketa-booking"));
        command
            .args(["--db", &fixture.db_arg])
            .args(["--content", fixture.content().to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0", "--post-limit", "0", "--hold-limit", "0"])
            .args(now.map(|now| ["--now", now]).iter().flatten())
            .args(extra)
            .current_dir(fixture.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("PORT")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        configure(&mut command);
        let mut child = command.spawn().unwrap();
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("tiketa-booking listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        // Keep reading stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in stdout.lines() {});
        Server { child, addr: url.parse().unwrap() }
    }

    /// Kills the process with SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        self.signal_term();
        self.wait_exit(Duration::from_secs(20))
    }

    /// Sends SIGTERM and returns at once.
    pub fn signal_term(&self) {
        // SAFETY: kill(2) with a pid this test spawned and has not yet reaped.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
    }

    /// Waits for the process to exit; returns whether it exited cleanly.
    pub fn wait_exit(&mut self, patience: Duration) -> bool {
        // The exit has no other signal a test can wait on without taking the child's stdout:
        // poll it, with a deadline.
        let status = wait_for("tiketa-booking to exit", patience, || self.child.try_wait().unwrap());
        status.success()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `POST /api/showtimes/{showtime}/bookings` with the JSON `body`, on `client`: the reply.
pub fn post_booking(client: &test_support::Client, showtime: &str, body: &serde_json::Value) -> test_support::Reply {
    let body = body.to_string();
    client
        .send(
            "POST",
            &format!("/api/showtimes/{showtime}/bookings"),
            &[("Content-Type", "application/json")],
            Some(body.as_bytes()),
        )
        .unwrap()
}

/// A booking body.
pub fn booking(name: &str, seats: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "name": name, "seats": seats })).unwrap()
}

/// Polls `check` until it gives `Some`, and returns that; panics naming `what` after
/// `patience`. For events that have no other signal (a process's exit, a file's size); the poll
/// interval is short, so a test waits for the event, never for a fixed time.
pub fn wait_for<T>(what: &str, patience: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {patience:?} for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
