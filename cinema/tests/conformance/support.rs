//! What every check runs on: a fresh database with a rolled schedule, opened through
//! [`cinema::store::open`] like the binaries open it, on a runtime of its own.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cinema::booking::{
    BookingRecord, BookingReference, Fingerprint, IdempotencyRecord, ManageToken, NewBooking, SealedToken,
};
use cinema::catalog::Catalog;
use cinema::schedule::{Showtime, ShowtimeId, plan_horizon};
use cinema::store::changes::Received;
use cinema::store::{ChangeStream, DatabaseUrl, OpenMode, Store, open};

/// Midnight in the cinema's time zone (Asia/Jakarta), far enough ahead that no real clock
/// anywhere in a store decides anything here.
pub const NOW: &str = "2030-03-01T00:00:00+07:00";

/// How long a change may take to arrive before a check fails: a failure bound, never a wait.
pub const FEED_BOUND: Duration = Duration::from_secs(10);

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

pub fn now() -> DateTime<Utc> {
    at(NOW)
}

/// What keeps the database alive for the length of a check.
enum Keep {
    File(#[allow(dead_code)] tempfile::TempDir),
    Server(#[allow(dead_code)] test_support::postgres::TestDatabase),
}

/// One check's world: a store on a fresh database rolled at [`NOW`], the catalog it was
/// rolled from, and the database's URL to open more stores on it.
pub struct Env {
    // Field order is drop order: the store closes (in `Drop`) before the database goes.
    runtime: tokio::runtime::Runtime,
    store: Arc<dyn Store>,
    pub url: DatabaseUrl,
    pub catalog: Catalog,
    _content: tempfile::TempDir,
    _keep: Keep,
}

impl Env {
    /// A SQLite file in a temporary folder.
    pub fn sqlite() -> Option<Env> {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("tiketa.db"));
        Some(Env::new(url, Keep::File(dir)))
    }

    /// A fresh database on the server `TIKETA_TEST_DATABASE_URL` names; `None` (skipped)
    /// without it, except under CI.
    pub fn postgres() -> Option<Env> {
        // Before any runtime exists: the helper's client is a blocking one.
        let database = test_support::postgres::fresh_database()?;
        let url: DatabaseUrl = database.url().parse().unwrap();
        Some(Env::new(url, Keep::Server(database)))
    }

    fn new(url: DatabaseUrl, keep: Keep) -> Env {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let content = content_folder();
        let catalog = Catalog::load(content.path()).unwrap();
        let store = runtime.block_on(async {
            let store = open(&url, OpenMode::Create).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
            store.roll(plan_horizon(&catalog, now()), now()).await.unwrap();
            store
        });
        Env { runtime, store, url, catalog, _content: content, _keep: keep }
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    pub fn shared(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Another store on the same database, as a second service instance would open it.
    pub async fn open_another(&self) -> Arc<dyn Store> {
        open(&self.url, OpenMode::Existing).await.unwrap_or_else(|e| panic!("open {}: {e}", self.url))
    }

    pub fn run<T>(&self, check: impl Future<Output = T>) -> T {
        self.runtime.block_on(check)
    }

    /// The plan of the catalog at `now`.
    pub fn plan(&self, now: DateTime<Utc>) -> Vec<Showtime> {
        plan_horizon(&self.catalog, now)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.runtime.block_on(self.store.close());
    }
}

/// Two films (studios 1 and 2, each at 10:00, 14:00 and 18:00) and a two-row auditorium, written as a content folder the way
/// an operator writes one.
fn content_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("site.toml"), "").unwrap();
    std::fs::write(root.join("auditorium.txt"), "A ssss.ssss\nB ssss.ssss\n").unwrap();
    std::fs::create_dir(root.join("films")).unwrap();
    for i in 1..=2 {
        write_film(root, i);
    }
    dir
}

fn write_film(root: &Path, i: u32) {
    std::fs::write(
        root.join(format!("films/film-{i}.md")),
        format!(
            "+++\nstudio = {i}\ntitle = \"Film {i}\"\nrelease_date = \"2000-01-01\"\nruntime_min = 120\n\
             slots = [\"10:00\", \"14:00\", \"18:00\"]\ndirectors = [\"Someone\"]\ngenres = []\ntrailer_youtube_id = \"aaaaaaaaaaa\"\n+++\nA film.\n"
        ),
    )
    .unwrap();
}

/// The first showtime of the plan: film-1 at 10:00 on the first day.
pub fn show() -> ShowtimeId {
    ShowtimeId("film-1-20300301-1000".into())
}

/// Another showtime of the first day, in the other studio.
pub fn other_show() -> ShowtimeId {
    ShowtimeId("film-2-20300301-1000".into())
}

/// A booking request as the desk makes one: a fresh reference and token, no idempotency key.
pub struct Request {
    pub booking: NewBooking,
    pub token: ManageToken,
}

pub fn request(showtime: &ShowtimeId, seats: &[&str]) -> Request {
    let mut rng = rand::rng();
    let token = ManageToken::generate(&mut rng);
    Request {
        booking: NewBooking {
            showtime: showtime.clone(),
            seats: seats.iter().map(|s| s.to_string()).collect(),
            name: "Ana Lima".into(),
            email: Some("ana@example.com".into()),
            reference: BookingReference::generate(&mut rng),
            token_hash: token.hash(),
            check_in_code: cinema::booking::CheckInCode::generate(&mut rand::rng()),
            mail: None,
            idempotency: None,
            hold: None,
            now: now(),
        },
        token,
    }
}

impl Request {
    /// The same request with its confirmation to queue, as the desk sends one for a booker who
    /// gave an email.
    pub fn with_mail(mut self) -> Self {
        let b = &self.booking;
        self.booking.mail = cinema::outbox::NewMail::confirmation(b.email.as_deref(), &b.reference, &self.token, b.now);
        self
    }

    /// The same request under an idempotency key `key` (its id as the store sees it) whose
    /// request fingerprint is `fingerprint`.
    pub fn with_key(mut self, key: u8, fingerprint: u8) -> Self {
        self.booking.idempotency = Some(IdempotencyRecord {
            key_id: [key; 32],
            fingerprint: Fingerprint([fingerprint; 32]),
            sealed_token: SealedToken(self.token.to_bytes()),
        });
        self
    }
}

/// The store's answer when it must be `Placed`.
pub fn placed(outcome: cinema::booking::PlaceOutcome) -> BookingRecord {
    match outcome {
        cinema::booking::PlaceOutcome::Placed(record) => record,
        other => panic!("expected Placed, got {other:?}"),
    }
}

/// The next change on `stream`, failing the check after [`FEED_BOUND`].
pub async fn next_change(stream: &mut ChangeStream) -> Received {
    tokio::time::timeout(FEED_BOUND, stream.recv())
        .await
        .unwrap_or_else(|_| panic!("no change arrived within {FEED_BOUND:?}"))
}

/// The taken seats of a showtime, as the store answers them.
pub async fn taken(store: &dyn Store, id: &ShowtimeId) -> Vec<String> {
    store.showtime_seats(id.clone()).await.unwrap().expect("the showtime exists").taken
}

/// The record a cancel answered, when it must be `Cancelled`.
pub fn cancelled(outcome: cinema::booking::CancelOutcome) -> BookingRecord {
    match outcome {
        cinema::booking::CancelOutcome::Cancelled(record) => *record,
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

/// `plan` without `film`'s showtimes: the plan once the film is removed from the content.
pub fn without_film(plan: Vec<Showtime>, film: &str) -> Vec<Showtime> {
    plan.into_iter().filter(|s| s.film_slug != film).collect()
}

/// A showtime of the plan rolled at [`NOW`], as planned (and as a store keeps it until it
/// starts).
pub fn planned(env: &Env, id: &ShowtimeId) -> Showtime {
    env.plan(now()).into_iter().find(|s| s.id == *id).unwrap_or_else(|| panic!("{id} is not planned"))
}
