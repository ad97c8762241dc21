//! `tiketa-ops` against the real service, on SQLite and (when `TIKETA_TEST_DATABASE_URL` is
//! set) PostgreSQL: bookings are made through the service's API on a rolled database, then
//! each command's output (parsed back from CSV with `csv`, and from JSON) is compared with
//! what the API says: its seat maps, its booking replies, its manage page.

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::DateTime;
use cinema::store::DatabaseUrl;
use common::{Fixture, NOW, SHOW, Server};
use serde_json::{Value, json};
use test_support::Client;

on_both_stores!(
    the_door_list_is_exactly_the_active_bookings_with_their_seats,
    the_export_has_one_row_per_booking_of_the_days_asked,
    a_box_office_cancel_frees_the_seats_and_the_booker_sees_it_cancelled,
    occupancy_counts_the_seats_the_api_shows_taken,
    a_ticket_checks_in_once_and_a_second_scan_says_when,
);

/// The second showtime of the first day, in studio 2.
const BOREALIS: &str = "borealis-20300110-1200";
/// A showtime on the second day.
const AURORA_TOMORROW: &str = "aurora-20300111-1400";
/// A showtime on the third day.
const BOREALIS_LAST_DAY: &str = "borealis-20300112-2100";

/// What `tiketa-ops` printed and how it ended.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// The CSV's rows, each a map from column name to cell.
    fn csv(&self) -> Vec<BTreeMap<String, String>> {
        let mut reader = csv::Reader::from_reader(self.stdout.as_bytes());
        let headers = reader.headers().unwrap().clone();
        reader
            .records()
            .map(|r| headers.iter().map(String::from).zip(r.unwrap().iter().map(String::from)).collect())
            .collect()
    }

    fn expect(self, code: i32) -> Self {
        assert_eq!(self.code, code, "exit code\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
}

/// The fixture's database as the tool is given it: the URL, password included.
fn database_arg(fixture: &Fixture) -> String {
    match fixture.database() {
        DatabaseUrl::Sqlite(path) => path.to_str().unwrap().to_string(),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// Runs `tiketa-ops` on the fixture at `now`.
fn ops_at(fixture: &Fixture, now: &str, args: &[&str]) -> Ran {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_tiketa-ops"))
        .args(["--content", fixture.content().to_str().unwrap(), "--now", now])
        .args(args)
        .env("DATABASE_URL", database_arg(fixture))
        .env_remove("TIKETA_CONTENT")
        .env_remove("TIKETA_NOW")
        .current_dir(fixture.dir.path())
        .output()
        .unwrap();
    Ran {
        code: output.status.code().expect("tiketa-ops exits, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Runs `tiketa-ops` on the fixture at [`NOW`], as the service runs.
fn ops(fixture: &Fixture, args: &[&str]) -> Ran {
    ops_at(fixture, NOW, args)
}

/// A booking made through the API: its reply, with the manage token.
struct Booked {
    reply: Value,
}

impl Booked {
    fn reference(&self) -> &str {
        self.reply["reference"].as_str().unwrap()
    }

    fn token(&self) -> &str {
        self.reply["manage_token"].as_str().unwrap()
    }

    fn showtime(&self) -> &str {
        self.reply["showtime"]["id"].as_str().unwrap()
    }

    fn seats(&self) -> Vec<String> {
        strings(&self.reply["seats"])
    }
}

fn strings(list: &Value) -> Vec<String> {
    list.as_array().unwrap_or_else(|| panic!("not a list: {list}")).iter().map(|v| v.as_str().unwrap().into()).collect()
}

fn book(client: &Client, showtime: &str, name: &str, email: Option<&str>, seats: &[&str]) -> Booked {
    let mut body = json!({ "name": name, "seats": seats });
    if let Some(email) = email {
        body["email"] = json!(email);
    }
    let reply = common::post_booking(client, showtime, &body);
    assert_eq!(reply.status, 201, "{}", reply.text());
    Booked { reply: reply.json() }
}

/// The booker's own view, with the token.
fn manage(client: &Client, booked: &Booked) -> Value {
    let reply = client
        .send("GET", &format!("/api/bookings/{}", booked.reference()), &[("X-Manage-Token", booked.token())], None)
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn cancel_as_booker(client: &Client, booked: &Booked) {
    let reply = client
        .send("DELETE", &format!("/api/bookings/{}", booked.reference()), &[("X-Manage-Token", booked.token())], None)
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// The API's seat map of a showtime.
fn seat_map(client: &Client, showtime: &str) -> Value {
    let reply = client.get(&format!("/api/showtimes/{showtime}/seats")).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn taken(client: &Client, showtime: &str) -> BTreeSet<String> {
    strings(&seat_map(client, showtime)["taken"]).into_iter().collect()
}

/// A rolled database with bookings on three days and two films: two wheelchair spaces among
/// them, a name a spreadsheet must quote, and one booking its booker cancelled.
struct SixBookings {
    ana: Booked,
    bo: Booked,
    cancelled: Booked,
    dewi: Booked,
    eko: Booked,
    fitri: Booked,
}

impl SixBookings {
    fn make(client: &Client) -> Self {
        let set = SixBookings {
            ana: book(client, SHOW, "Ana Lima", Some("ana@example.com"), &["C3", "C4"]),
            bo: book(client, SHOW, "bo", None, &["L1", "L17"]),
            cancelled: book(client, SHOW, "Cai Wen", Some("cai@example.com"), &["D5"]),
            dewi: book(client, BOREALIS, "Dewi", Some("dewi@example.com"), &["A1", "A2", "A3"]),
            eko: book(client, AURORA_TOMORROW, "Eko", None, &["L2", "M9"]),
            fitri: book(client, BOREALIS_LAST_DAY, "Fitri, \"Sari\"", Some("fitri@example.com"), &["B7"]),
        };
        cancel_as_booker(client, &set.cancelled);
        set
    }

    fn all(&self) -> [&Booked; 6] {
        [&self.ana, &self.bo, &self.cancelled, &self.dewi, &self.eko, &self.fitri]
    }

    fn active(&self) -> Vec<&Booked> {
        self.all().into_iter().filter(|b| b.reference() != self.cancelled.reference()).collect()
    }
}

/// A UTC instant from the API as the cinema's local `YYYY-MM-DD HH:MM`.
fn jakarta(instant: &Value) -> String {
    let at = DateTime::parse_from_rfc3339(instant.as_str().unwrap()).unwrap();
    at.with_timezone(&chrono_tz::Asia::Jakarta).format("%Y-%m-%d %H:%M").to_string()
}

fn the_door_list_is_exactly_the_active_bookings_with_their_seats(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booked = SixBookings::make(&client);

    let listed = ops(&fixture, &["door-list", SHOW, "--format", "json"]).expect(0).json();
    assert_eq!(listed["showtime"]["id"], SHOW);
    assert_eq!(listed["showtime"]["film"]["title"], "Aurora");
    assert_eq!(listed["showtime"]["studio"], 1);
    assert_eq!(listed["showtime"]["starts_at"], "2030-01-10T10:00:00+07:00");
    let on_door: BTreeMap<String, Vec<String>> = listed["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["reference"].as_str().unwrap().to_string(), strings(&b["seats"])))
        .collect();
    let expected: BTreeMap<String, Vec<String>> = booked
        .active()
        .into_iter()
        .filter(|b| b.showtime() == SHOW)
        .map(|b| (b.reference().to_string(), b.seats()))
        .collect();
    assert_eq!(on_door, expected, "the active bookings of this showtime, each with its seats");
    let seats_on_door: BTreeSet<String> = on_door.values().flatten().cloned().collect();
    assert_eq!(seats_on_door, taken(&client, SHOW), "the seats the API shows taken, no more, no fewer");

    // Text: the heading says which screening, each active booking is on a line by name with
    // its seats, the cancelled one is not.
    let text = ops(&fixture, &["door-list", SHOW]).expect(0).stdout;
    let heading = text.lines().next().unwrap();
    for part in ["Aurora", "studio 1", "Thu 10 Jan 2030, 10:00 WIB", SHOW] {
        assert!(heading.contains(part), "{part:?} in the heading {heading:?}");
    }
    let ana = text.lines().find(|l| l.contains(booked.ana.reference())).expect("Ana's line");
    assert!(ana.contains("Ana Lima") && ana.contains("C3 C4") && ana.trim_end().ends_with("no"), "{ana}");
    assert!(!text.contains(booked.cancelled.reference()) && !text.contains("Cai Wen"), "{text}");
    assert!(text.contains("2 bookings, 4 seats, 0 checked in"), "{text}");

    // CSV: one row per active booking, seats as on the ticket.
    let rows = ops(&fixture, &["door-list", SHOW, "--format", "csv"]).expect(0).csv();
    let csv: BTreeMap<String, String> = rows.iter().map(|r| (r["reference"].clone(), r["seats"].clone())).collect();
    let expected: BTreeMap<String, String> = expected.into_iter().map(|(r, s)| (r, s.join(" "))).collect();
    assert_eq!(csv, expected);

    // A checked-in booking shows when (the cinema's time).
    ops_at(&fixture, "2030-01-10T09:41:00+07:00", &["check-in", booked.bo.reply["check_in_code"].as_str().unwrap()])
        .expect(0);
    let text = ops(&fixture, &["door-list", SHOW]).expect(0).stdout;
    let bo = text.lines().find(|l| l.contains(booked.bo.reference())).expect("Bo's line");
    assert!(bo.trim_end().ends_with("09:41 WIB"), "{bo}");
    assert!(text.contains("1 checked in"), "{text}");

    // An unknown showtime is an error that says what to check; a malformed one is a usage error.
    let unknown = ops(&fixture, &["door-list", "aurora-20300110-1100"]).expect(3);
    assert!(unknown.stderr.contains("no showtime aurora-20300110-1100"), "{}", unknown.stderr);
    assert!(unknown.stdout.is_empty());
    ops(&fixture, &["door-list", "Aurora 10:00"]).expect(2);
}

fn the_export_has_one_row_per_booking_of_the_days_asked(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booked = SixBookings::make(&client);

    // The horizon's three days: every active booking, each row as the API shows the booking.
    let rows =
        ops(&fixture, &["bookings", "--from", "2030-01-10", "--to", "2030-01-12", "--format", "csv"]).expect(0).csv();
    let by_reference: BTreeMap<&str, &BTreeMap<String, String>> =
        rows.iter().map(|r| (r["reference"].as_str(), r)).collect();
    assert_eq!(rows.len(), by_reference.len(), "one row per booking");
    let active: BTreeSet<&str> = booked.active().iter().map(|b| b.reference()).collect();
    assert_eq!(by_reference.keys().copied().collect::<BTreeSet<_>>(), active);
    for b in booked.active() {
        let (row, api) = (by_reference[b.reference()], manage(&client, b));
        assert_eq!(row["showtime"], b.showtime());
        assert_eq!(row["film"], api["showtime"]["film"]["title"].as_str().unwrap());
        assert_eq!(row["starts"], jakarta(&api["showtime"]["starts_at"]));
        assert_eq!(row["seats"], strings(&api["seats"]).join(" "));
        assert_eq!(row["name"], api["name"].as_str().unwrap());
        assert_eq!(row["email"], api["email"].as_str().unwrap_or(""));
        assert_eq!(row["status"], "active");
        assert_eq!(row["created"], jakarta(&api["created_at"]));
        assert_eq!((row["cancelled at"].as_str(), row["cancelled by"].as_str()), ("", ""));
        assert_eq!(row["checked in at"], "");
    }
    assert_eq!(by_reference[booked.fitri.reference()]["name"], "Fitri, \"Sari\"", "quoted and read back whole");

    // Cancelled ones too, when asked: with when and by whom.
    let all = ops(&fixture, &["bookings", "--from", "2030-01-10", "--to", "2030-01-12", "--include-cancelled"])
        .expect(0)
        .stdout;
    assert!(all.contains(booked.cancelled.reference()), "{all}");
    let rows = ops(
        &fixture,
        &["bookings", "--from", "2030-01-10", "--to", "2030-01-12", "--include-cancelled", "--format", "csv"],
    )
    .expect(0)
    .csv();
    assert_eq!(rows.len(), 6);
    let cancelled = rows.iter().find(|r| r["reference"] == booked.cancelled.reference()).unwrap();
    let api = manage(&client, &booked.cancelled);
    assert_eq!(api["status"], "cancelled");
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["cancelled by"].as_str()),
        ("cancelled", "booker"),
        "{cancelled:?}"
    );
    assert_eq!(cancelled["cancelled at"], jakarta(&api["cancelled_at"]));

    // --to is included, --from too: one day is the bookings of that day's showtimes.
    let day_two =
        ops(&fixture, &["bookings", "--from", "2030-01-11", "--to", "2030-01-11", "--format", "csv"]).expect(0).csv();
    assert_eq!(day_two.iter().map(|r| r["reference"].as_str()).collect::<Vec<_>>(), [booked.eko.reference()]);
    // Without dates: the seven days ending today (the 10th): the first day's bookings only.
    let default = ops(&fixture, &["bookings", "--format", "json"]).expect(0).json();
    let default: BTreeSet<&str> =
        default.as_array().unwrap().iter().map(|b| b["reference"].as_str().unwrap()).collect();
    assert_eq!(default, [booked.ana.reference(), booked.bo.reference(), booked.dewi.reference()].into());

    // One film's, as JSON: the same bookings the API shows for it.
    let borealis =
        ops(&fixture, &["bookings", "--to", "2030-01-12", "--film", "borealis", "--format", "json"]).expect(0).json();
    let borealis = borealis.as_array().unwrap();
    assert_eq!(
        borealis.iter().map(|b| b["reference"].as_str().unwrap()).collect::<BTreeSet<_>>(),
        [booked.dewi.reference(), booked.fitri.reference()].into()
    );
    for b in borealis {
        assert_eq!(b["film"], json!({ "slug": "borealis", "title": "Borealis" }));
        assert_eq!(b["status"], "active");
    }
    let dewi = borealis.iter().find(|b| b["reference"] == booked.dewi.reference()).unwrap();
    assert_eq!(dewi["seats"], json!(["A1", "A2", "A3"]));
    assert_eq!(dewi["email"], "dewi@example.com");
    assert_eq!(dewi["showtime"]["starts_at"], "2030-01-10T12:00:00+07:00");

    let backwards = ops(&fixture, &["bookings", "--from", "2030-01-12", "--to", "2030-01-10"]).expect(2);
    assert!(backwards.stderr.contains("--from 2030-01-12 is after --to 2030-01-10"), "{}", backwards.stderr);
    ops(&fixture, &["bookings", "--from", "10/01/2030"]).expect(2);
}

fn a_box_office_cancel_frees_the_seats_and_the_booker_sees_it_cancelled(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booked = SixBookings::make(&client);
    assert!(taken(&client, SHOW).contains("C3"));

    let done = ops(&fixture, &["cancel", &booked.ana.reference().to_lowercase()]).expect(0);
    for part in ["Cancelled", booked.ana.reference(), "Ana Lima", "Aurora", "10:00", "C3 C4"] {
        assert!(done.stdout.contains(part), "{part:?} in {}", done.stdout);
    }
    // The service learns of another process's commits through the store's change feed, within
    // a second.
    let taken_now = common::wait_for("the service to see C3 and C4 freed", Duration::from_secs(5), || {
        Some(taken(&client, SHOW)).filter(|taken| !taken.contains("C3") && !taken.contains("C4"))
    });
    assert!(taken_now.contains("L1"), "the other bookings keep theirs");
    assert_eq!(manage(&client, &booked.ana)["status"], "cancelled", "the booker's page says so");
    book(&client, SHOW, "Next in line", None, &["C3", "C4"]);

    // Recorded as the operator's, and said so on a second try, which changes nothing.
    let rows =
        ops(&fixture, &["bookings", "--to", "2030-01-10", "--include-cancelled", "--format", "csv"]).expect(0).csv();
    let row = rows.iter().find(|r| r["reference"] == booked.ana.reference()).unwrap();
    assert_eq!((row["status"].as_str(), row["cancelled by"].as_str()), ("cancelled", "operator"));
    let again = ops(&fixture, &["cancel", booked.ana.reference(), "--format", "json"]).expect(5).json();
    assert_eq!(again["outcome"], "already_cancelled");
    assert_eq!(again["cancelled_by"], "operator");
    let by_booker = ops(&fixture, &["cancel", booked.cancelled.reference()]).expect(5);
    assert!(by_booker.stdout.contains("already cancelled by the booker"), "{}", by_booker.stdout);

    // Unknown, malformed and started: each its own answer.
    let unknown = ops(&fixture, &["cancel", "TK-2222-2222"]).expect(3);
    assert!(unknown.stderr.contains("no booking TK-2222-2222"), "{}", unknown.stderr);
    ops(&fixture, &["cancel", "2222-2222"]).expect(2);
    let started = ops_at(&fixture, "2030-01-10T12:05:00+07:00", &["cancel", booked.dewi.reference()]).expect(4);
    assert!(started.stdout.contains("has started"), "{}", started.stdout);
    assert_eq!(manage(&client, &booked.dewi)["status"], "active", "nothing changed");
    assert!(taken(&client, BOREALIS).contains("A1"));
}

fn occupancy_counts_the_seats_the_api_shows_taken(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    SixBookings::make(&client);

    // What the API says, per film and local day: showtimes, taken seats, wheelchair spaces
    // taken (cells of kind "wheelchair" on its seat map).
    let list = client.get("/api/showtimes").unwrap().json();
    let mut expected: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    let mut seats_total = 0;
    for show in list["showtimes"].as_array().unwrap() {
        let id = show["id"].as_str().unwrap();
        let map = seat_map(&client, id);
        let wheelchair: BTreeSet<&str> = map["seat_map"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row["cells"].as_array().unwrap())
            .filter(|cell| cell["kind"] == "wheelchair")
            .map(|cell| cell["id"].as_str().unwrap())
            .collect();
        let taken = strings(&map["taken"]);
        let day = jakarta(&show["starts_at"])[..10].to_string();
        let entry = expected.entry((day, show["film"]["slug"].as_str().unwrap().to_string())).or_default();
        entry.0 += 1;
        entry.1 += taken.len() as u64;
        entry.2 += taken.iter().filter(|seat| wheelchair.contains(seat.as_str())).count() as u64;
        seats_total = show["seats_total"].as_u64().unwrap();
    }
    assert_eq!(expected.len(), 6, "two films on three days");

    let rows = ops(&fixture, &["occupancy", "--format", "json"]).expect(0).json();
    let mut got = BTreeMap::new();
    for row in rows.as_array().unwrap() {
        let key = (row["date"].as_str().unwrap().to_string(), row["film"]["slug"].as_str().unwrap().to_string());
        let (showtimes, sold) = (row["showtimes"].as_u64().unwrap(), row["seats_sold"].as_u64().unwrap());
        assert_eq!(row["capacity"].as_u64().unwrap(), showtimes * seats_total, "{row}");
        let fill = (sold as f64 * 1000.0 / (showtimes * seats_total) as f64).round() / 10.0;
        assert_eq!(row["fill_rate_percent"].as_f64().unwrap(), fill, "{row}");
        got.insert(key, (showtimes, sold, row["wheelchair_sold"].as_u64().unwrap()));
    }
    assert_eq!(got, expected);
    assert_eq!(expected[&("2030-01-10".into(), "aurora".into())], (5, 4, 2), "C3 C4, and L1 L17: wheelchair spaces");

    // The same numbers as CSV and text, and --days narrows the days.
    let csv = ops(&fixture, &["occupancy", "--days", "1", "--format", "csv"]).expect(0).csv();
    assert_eq!(csv.len(), 2, "one day, two films");
    let aurora = csv.iter().find(|r| r["film"] == "Aurora").unwrap();
    assert_eq!((aurora["seats sold"].as_str(), aurora["wheelchair sold"].as_str()), ("4", "2"));
    let text = ops(&fixture, &["occupancy", "--days", "1"]).expect(0).stdout;
    assert!(text.contains("Occupancy from 2030-01-10 to 2030-01-10"), "{text}");
    ops(&fixture, &["occupancy", "--days", "0"]).expect(2);
}

fn a_ticket_checks_in_once_and_a_second_scan_says_when(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booked = SixBookings::make(&client);
    let code = booked.ana.reply["check_in_code"].as_str().unwrap();
    let at_the_door = "2030-01-10T09:41:00+07:00";

    // Typed as door staff type it: lowercase, spaces for dashes.
    let typed = code.replace('-', " ").to_lowercase();
    let first = ops_at(&fixture, at_the_door, &["check-in", &typed, "--showtime", SHOW]).expect(0);
    for part in ["Checked in", booked.ana.reference(), "Ana Lima", "C3 C4"] {
        assert!(first.stdout.contains(part), "{part:?} in {}", first.stdout);
    }
    // Scanned: the QR code's text. Already, and when, in the cinema's time.
    let payload = format!("TIKETA:{}:{code}", booked.ana.reference());
    let again = ops_at(&fixture, "2030-01-10T09:50:00+07:00", &["check-in", &payload]).expect(5);
    assert!(again.stdout.contains("Already checked in at 09:41 WIB"), "{}", again.stdout);
    let json = ops(&fixture, &["check-in", code, "--format", "json"]).expect(5).json();
    assert_eq!(json["outcome"], "already_checked_in");
    assert_eq!(json["checked_in_at"], "2030-01-10T09:41:00+07:00");
    assert_eq!(json["status"], "checked_in");

    // The export says so too.
    let rows = ops(&fixture, &["bookings", "--to", "2030-01-10", "--format", "csv"]).expect(0).csv();
    let ana = rows.iter().find(|r| r["reference"] == booked.ana.reference()).unwrap();
    assert_eq!((ana["status"].as_str(), ana["checked in at"].as_str()), ("checked in", "2030-01-10 09:41"));

    // Refusals: another showtime's door, a cancelled booking, a code no ticket has.
    let dewi = booked.dewi.reply["check_in_code"].as_str().unwrap();
    let other = ops_at(&fixture, at_the_door, &["check-in", dewi, "--showtime", SHOW, "--format", "json"]).expect(4);
    assert_eq!(other.json()["outcome"], "other_showtime");
    let cancelled = booked.cancelled.reply["check_in_code"].as_str().unwrap();
    let refused = ops_at(&fixture, at_the_door, &["check-in", cancelled]).expect(4);
    assert!(refused.stdout.contains("was cancelled"), "{}", refused.stdout);
    let unknown = ops(&fixture, &["check-in", "2222-2222-2222-2222"]).expect(3);
    assert!(unknown.stdout.contains("no ticket has the check-in code 2222-2222-2222-2222"), "{}", unknown.stdout);
    ops(&fixture, &["check-in", "not a code"]).expect(2);
    // None of those checked anything in.
    let rows = ops(&fixture, &["bookings", "--to", "2030-01-12", "--format", "csv"]).expect(0).csv();
    let checked: Vec<&str> =
        rows.iter().filter(|r| !r["checked in at"].is_empty()).map(|r| r["reference"].as_str()).collect();
    assert_eq!(checked, [booked.ana.reference()]);
}

/// Bookings made by several threads against the running service, each acknowledged (201)
/// reference recorded, while `tiketa-ops backup` copies the SQLite file: the copy opens, passes
/// `integrity_check`, and holds every booking acknowledged before the backup began.
#[test]
fn a_backup_while_bookings_are_made_holds_every_acknowledged_booking() {
    const THREADS: usize = 4;
    let fixture = Fixture::new();
    let server = Server::start(&fixture, &[]);
    let showtimes = fixture.showtimes();
    let seats: Vec<String> = fixture.catalog().seat_map.seat_ids().map(String::from).collect();

    let acknowledged = Arc::new(Mutex::new(Vec::<(String, Instant)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (ack, acks) = mpsc::channel::<()>();
    let bookers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (acknowledged, stop, ack, addr) = (acknowledged.clone(), stop.clone(), ack.clone(), server.addr);
            // Each thread books its own showtimes, two seats at a time: no conflicts, so every
            // request is a booking.
            let mine: Vec<String> = showtimes.iter().skip(thread).step_by(THREADS).cloned().collect();
            let seats = seats.clone();
            std::thread::spawn(move || {
                let client = Client::new(addr);
                'all: for showtime in &mine {
                    for pair in seats.chunks(2) {
                        if stop.load(Ordering::Relaxed) {
                            break 'all;
                        }
                        let pair: Vec<&str> = pair.iter().map(String::as_str).collect();
                        let booked = book(&client, showtime, "Racer", None, &pair);
                        acknowledged.lock().unwrap().push((booked.reference().to_string(), Instant::now()));
                        let _ = ack.send(());
                    }
                }
            })
        })
        .collect();
    drop(ack);
    // Under way before the backup begins.
    for _ in 0..40 {
        acks.recv_timeout(Duration::from_secs(30)).expect("bookings are being acknowledged");
    }

    let copy = fixture.dir.path().join("backups/tiketa-copy.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let before: Vec<String> = acknowledged.lock().unwrap().iter().map(|(r, _)| r.clone()).collect();
    let began = Instant::now();
    let ran = ops(&fixture, &["backup", copy.to_str().unwrap(), "--format", "json"]);
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    for booker in bookers {
        booker.join().unwrap();
    }
    let report = ran.expect(0).json();
    let during = acknowledged.lock().unwrap().iter().filter(|(_, at)| (began..ended).contains(at)).count();
    assert!(during > 0, "bookings were acknowledged while the backup ran");

    let db = rusqlite::Connection::open_with_flags(&copy, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let mut statement = db.prepare("SELECT reference FROM bookings").unwrap();
    let in_copy: BTreeSet<String> = statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let missing: Vec<&String> = before.iter().filter(|r| !in_copy.contains(*r)).collect();
    assert!(missing.is_empty(), "{} of {} acknowledged bookings missing: {missing:?}", missing.len(), before.len());
    assert_eq!(report["bookings"].as_u64().unwrap(), in_copy.len() as u64, "{report}");
    assert_eq!(report["bytes"].as_u64().unwrap(), std::fs::metadata(&copy).unwrap().len(), "{report}");

    // A second backup to the same file is refused, the copy left as it was.
    let again = ops(&fixture, &["backup", copy.to_str().unwrap()]).expect(1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
}

/// PostgreSQL has its own tool for this: the tool says which, and fails.
#[test]
fn a_backup_of_postgresql_names_pg_dump() {
    let Some(fixture) = Fixture::postgres() else { return };
    let copy = fixture.dir.path().join("copy.db");
    let ran = ops(&fixture, &["backup", copy.to_str().unwrap()]);
    assert_ne!(ran.code, 0);
    assert!(ran.stderr.contains("pg_dump"), "{}", ran.stderr);
    assert!(!copy.exists());
}

#[test]
fn help_lists_every_subcommand_with_examples() {
    let help = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_tiketa-ops")).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let top = help(&["--help"]);
    let subcommands = ["door-list", "bookings", "cancel", "occupancy", "check-in", "backup"];
    for name in subcommands {
        assert!(top.lines().any(|l| l.trim_start().starts_with(name)), "{name} listed in\n{top}");
        assert!(top.contains(&format!("tiketa-ops {name} ")), "an example of {name}");
        let own = help(&[name, "--help"]);
        assert!(own.contains("Example"), "{name} --help has examples:\n{own}");
    }
    for part in ["--format", "--db", "DATABASE_URL", "--content", "--now", "Exit codes", "time zone"] {
        assert!(top.contains(part), "{part:?} in\n{top}");
    }
    assert!(help(&["bookings", "--help"]).contains("Both ends are included"));
}
