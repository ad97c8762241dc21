//! The door on the real `tiketa-booking` (SQLite, and PostgreSQL when
//! `TIKETA_TEST_DATABASE_URL` is set), started with an operator token: bookings made through
//! the public API, then checked in through the door's: a ticket checks in once and a second
//! scan answers when the first was; a cancelled booking, a ticket for another showtime, an
//! unknown code and something that is no code are refused with their own codes; the door list
//! and the day's counts match the bookings; nothing answers without the token; and no door
//! reply carries CORS headers for the public site's origin.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use common::{Fixture, NOW, SHOW, Server};
use serde_json::{Value, json};
use test_support::{Client, Reply};

on_both_stores!(
    a_ticket_checks_in_once_and_a_second_scan_keeps_the_first_time,
    a_scanned_ticket_checks_in_and_a_forged_one_is_unknown,
    refusals_have_their_codes_and_say_why,
    the_door_list_and_the_days_counts_match_the_bookings,
    a_started_showtime_is_listed_and_still_lets_latecomers_in,
    a_days_pages_walk_each_showtime_once_and_filter_by_film_and_studio,
    the_suggested_showtime_is_the_whole_days_whatever_the_page,
    nothing_answers_without_the_operator_token,
    no_door_reply_carries_cors_headers_for_the_public_origin,
);

const TOKEN: &str = "door-test-operator-token-0123";

/// The service with the operator token, its clock at `now`.
fn door_server(fixture: &Fixture, now: &str) -> Server {
    Server::start_with(fixture, &["--now", now], |command| {
        command.env("TIKETA_OPERATOR_TOKEN", TOKEN);
    })
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

/// Books `seats` of `showtime` for `name` through the public API: the booking's reply.
fn book(client: &Client, showtime: &str, name: &str, seats: &[&str]) -> Value {
    let reply = common::post_booking(client, showtime, &json!({ "name": name, "seats": seats }));
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

fn cancel(client: &Client, booking: &Value) {
    let path = format!("/api/bookings/{}", booking["reference"].as_str().unwrap());
    let token = booking["manage_token"].as_str().unwrap();
    let reply = client.send("DELETE", &path, &[("X-Manage-Token", token)], None).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
}

fn check_in(client: &Client, code: &str, showtime: &str) -> Reply {
    let body = json!({ "code": code, "showtime": showtime }).to_string();
    let auth = bearer();
    let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    client.send("POST", "/api/door/check-in", &headers, Some(body.as_bytes())).unwrap()
}

fn door_get(client: &Client, path: &str) -> Reply {
    client.send("GET", path, &[("Authorization", &bearer())], None).unwrap()
}

/// Asserts that `value` has every required field of the document's schema `name` (with its
/// `allOf` parts) and no field it does not document.
fn assert_documented(value: &Value, name: &str) {
    let doc: Value = serde_json::from_str(booking_service::api::openapi::DOCUMENT).unwrap();
    let schema = &doc["components"]["schemas"][name];
    let parts: Vec<&Value> = match schema["allOf"].as_array() {
        Some(parts) => parts.iter().map(|p| resolve(&doc, p)).collect(),
        None => vec![schema],
    };
    let (mut required, mut properties) = (Vec::new(), Vec::new());
    for part in parts {
        required.extend(part["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()));
        properties.extend(part["properties"].as_object().unwrap().keys().cloned());
    }
    let fields: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    for field in &required {
        assert!(fields.contains(field), "{name}: {field} missing in {value}");
    }
    for field in &fields {
        assert!(properties.contains(field), "{name}: {field} undocumented");
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(path) => path.trim_start_matches("#/").split('/').fold(doc, |v, key| &v[key]),
        None => schema,
    }
}

/// Asserts an error reply: its status and code; answers its message.
fn refused(reply: &Reply, status: u16, code: &str) -> String {
    assert_eq!(reply.status, status, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_string()
}

fn code_of(booking: &Value) -> &str {
    booking["check_in_code"].as_str().unwrap()
}

/// A door list's bookings by reference.
fn door_list(client: &Client, showtime: &str) -> BTreeMap<String, Value> {
    door_lines(client, showtime).into_iter().map(|b| (b["reference"].as_str().unwrap().to_string(), b)).collect()
}

/// A door list's bookings in its order.
fn door_lines(client: &Client, showtime: &str) -> Vec<Value> {
    let reply = door_get(client, &format!("/api/door/showtimes/{showtime}/bookings"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["bookings"].as_array().unwrap().clone()
}

fn a_ticket_checks_in_once_and_a_second_scan_keeps_the_first_time(fixture: Fixture) {
    // Two doors, their clocks at 09:02 and 09:45 in Jakarta: a second scan that rewrote the
    // time would answer 09:45.
    let first_door = door_server(&fixture, "2030-01-10T09:02:00+07:00");
    let second_door = door_server(&fixture, "2030-01-10T09:45:00+07:00");
    let (first_door, second_door) = (Client::new(first_door.addr), Client::new(second_door.addr));
    let booking = book(&first_door, SHOW, "Ana Lima", &["C3", "C4"]);
    let typed = code_of(&booking).replace('-', "").to_lowercase();

    let first = check_in(&first_door, &typed, SHOW);
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    assert_eq!(first["status"], "checked_in");
    assert_eq!(first["checked_in_at"], "2030-01-10T02:02:00Z");
    assert_eq!(first["checked_in_at_local"], "09:02");
    let b = &first["booking"];
    assert_eq!(b["reference"], booking["reference"]);
    assert_eq!(b["name"], "Ana Lima");
    assert_eq!(b["seats"], json!(["C3", "C4"]));
    assert_eq!(b["showtime"]["id"], SHOW);
    assert_eq!(b["showtime"]["film"]["title"], "Aurora");
    assert_eq!(b["showtime"]["studio"], 1);
    assert_eq!(b["showtime"]["starts_label"], "10:00 WIB");
    assert!(b["showtime"]["time_label"].as_str().unwrap().starts_with("10:00 – "), "{b}");
    assert!(b.get("email").is_none() && b.get("check_in_code").is_none(), "the door sees no more than it needs");

    assert_documented(&first, "CheckIn");
    assert_documented(&first["booking"]["showtime"], "DoorShowtime");

    let again = check_in(&second_door, code_of(&booking), SHOW);
    assert_eq!(again.status, 200, "{}", again.text());
    let again = again.json();
    assert_eq!(again["status"], "already_checked_in");
    assert_eq!(again["checked_in_at"], first["checked_in_at"], "the first check-in's time is kept");
    assert_eq!(again["checked_in_at_local"], "09:02");
    assert_eq!(again["booking"]["reference"], booking["reference"]);
}

fn a_scanned_ticket_checks_in_and_a_forged_one_is_unknown(fixture: Fixture) {
    let server = door_server(&fixture, NOW);
    let client = Client::new(server.addr);
    let ana = book(&client, SHOW, "Ana Lima", &["D1"]);
    let budi = book(&client, SHOW, "Budi Santoso", &["D2"]);
    let payload = |reference: &Value, code: &str| format!("TIKETA:{}:{code}", reference.as_str().unwrap());

    // Budi's reference with Ana's code: no ticket, and Ana is not checked in by it.
    let forged = check_in(&client, &payload(&budi["reference"], code_of(&ana)), SHOW);
    refused(&forged, 404, "ticket_not_found");
    let list = door_list(&client, SHOW);
    assert!(list.values().all(|b| b["checked_in_at"].is_null()), "{list:?}");

    let scanned = check_in(&client, &payload(&ana["reference"], code_of(&ana)), SHOW);
    assert_eq!(scanned.status, 200, "{}", scanned.text());
    assert_eq!(scanned.json()["status"], "checked_in");
    assert_eq!(scanned.json()["checked_in_at_local"], "00:00", "NOW is midnight in Jakarta");
    let list = door_list(&client, SHOW);
    assert!(!list[ana["reference"].as_str().unwrap()]["checked_in_at"].is_null());
    assert!(list[budi["reference"].as_str().unwrap()]["checked_in_at"].is_null());
}

fn refusals_have_their_codes_and_say_why(fixture: Fixture) {
    let server = door_server(&fixture, NOW);
    let client = Client::new(server.addr);
    let other = fixture.showtimes().into_iter().find(|id| id != SHOW && id.starts_with("borealis-")).unwrap();

    let cancelled = book(&client, SHOW, "Citra Dewi", &["E1", "E2"]);
    cancel(&client, &cancelled);
    let message = refused(&check_in(&client, code_of(&cancelled), SHOW), 409, "ticket_cancelled");
    assert!(message.starts_with("Cancelled booking"), "{message}");
    assert!(message.contains(cancelled["reference"].as_str().unwrap()) && message.contains("E1, E2"), "{message}");

    let elsewhere = book(&client, SHOW, "Dian Sari", &["E5"]);
    let message = refused(&check_in(&client, code_of(&elsewhere), &other), 409, "ticket_for_other_showtime");
    assert_eq!(message, "This ticket is for Aurora at 10:00 WIB on Thursday 10 January (studio 1)");
    assert!(door_list(&client, SHOW)[elsewhere["reference"].as_str().unwrap()]["checked_in_at"].is_null());

    let message = refused(&check_in(&client, "2222-3333-4444-5555", SHOW), 404, "ticket_not_found");
    assert!(message.starts_with("No ticket with this code"), "{message}");

    for junk in ["hello", "TK-2222-3333", "TIKETA:nonsense", ""] {
        let message = refused(&check_in(&client, junk, SHOW), 422, "invalid_check_in_code");
        assert!(message.contains("7Q4M-2XHD-K9PA-RT3W") || message.contains("TIKETA:"), "{junk:?}: {message}");
    }
    refused(&check_in(&client, code_of(&elsewhere), "Not An Id"), 404, "showtime_not_found");

    // Bodies are checked at the edge.
    let auth = bearer();
    let post = |content_type: &str, body: &str| {
        let headers = [("Content-Type", content_type), ("Authorization", auth.as_str())];
        client.send("POST", "/api/door/check-in", &headers, Some(body.as_bytes())).unwrap()
    };
    refused(&post("application/json", r#"{"code": "2222-3333-4444-5555"}"#), 400, "invalid_json");
    refused(&post("application/json", r#"{"code": "x", "showtime": "y", "extra": 1}"#), 400, "invalid_json");
    refused(&post("text/plain", r#"{"code": "x", "showtime": "y"}"#), 415, "unsupported_media_type");
    refused(&post("application/json", &"x".repeat(20_000)), 413, "payload_too_large");
    // Other methods and paths under /api/door/ answer JSON too.
    refused(&door_get(&client, "/api/door/check-in"), 405, "method_not_allowed");
    refused(&door_get(&client, "/api/door/nothing"), 404, "not_found");
    refused(&door_get(&client, "/api/door/showtimes?date=tomorrow"), 422, "invalid_date");
    refused(&door_get(&client, "/api/door/showtimes/nobody-20300110-1000/bookings"), 404, "showtime_not_found");
}

fn the_door_list_and_the_days_counts_match_the_bookings(fixture: Fixture) {
    let server = door_server(&fixture, NOW);
    let client = Client::new(server.addr);
    let ana = book(&client, SHOW, "Ana Lima", &["F1", "F2", "F3"]);
    let budi = book(&client, SHOW, "Budi Santoso", &["F5"]);
    let citra = book(&client, SHOW, "Citra Dewi", &["F7", "F8"]);
    cancel(&client, &citra);
    assert_eq!(check_in(&client, code_of(&budi), SHOW).status, 200);

    let lines = door_lines(&client, SHOW);
    let references: Vec<&str> = lines.iter().map(|b| b["reference"].as_str().unwrap()).collect();
    assert_eq!(references, [&ana, &budi].map(|b| b["reference"].as_str().unwrap()), "active bookings, oldest first");
    let (ana_line, budi_line) = (&lines[0], &lines[1]);
    assert_eq!(ana_line["name"], "Ana Lima");
    assert_eq!(ana_line["seats"], json!(["F1", "F2", "F3"]));
    assert!(ana_line["checked_in_at"].is_null() && ana_line["checked_in_at_local"].is_null());
    assert_eq!(budi_line["name"], "Budi Santoso");
    assert_eq!(budi_line["checked_in_at_local"], "00:00");
    assert!(ana_line.get("email").is_none(), "no email on the door list");
    assert_documented(ana_line, "DoorBooking");
    // What the store holds, in its order.
    let stored = fixture
        .store()
        .run(|s| s.bookings(cinema::box_office::BookingQuery::door_list(cinema::ShowtimeId(SHOW.into()))))
        .unwrap();
    assert_eq!(stored.iter().map(|b| b.reference.as_str()).collect::<Vec<_>>(), references);
    assert_eq!(stored[1].checked_in_at.map(|t| t.to_rfc3339()), Some("2030-01-09T17:00:00+00:00".into()));

    // Today (the service's, in Jakarta) lists every showtime of the day with its counts.
    let day = door_get(&client, "/api/door/showtimes");
    assert_eq!(day.status, 200, "{}", day.text());
    let day = day.json();
    assert_documented(&day, "DoorDay");
    assert_documented(&day["showtimes"][0], "DoorDayShowtime");
    assert_eq!(day["date"], "2030-01-10");
    assert_eq!(day["today"], "2030-01-10");
    let ids: Vec<&str> = day["showtimes"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    let expected_ids: Vec<String> = fixture.showtimes().into_iter().filter(|id| id.contains("-20300110-")).collect();
    assert_eq!(ids, expected_ids, "the day's showtimes, in start order");
    assert_eq!(day["suggested"], ids[0], "at midnight, the first of the day");
    let show = day["showtimes"].as_array().unwrap().iter().find(|s| s["id"] == SHOW).unwrap();
    assert_eq!(show["bookings"], 2);
    assert_eq!(show["seats_booked"], 4);
    assert_eq!(show["bookings_checked_in"], 1);
    assert_eq!(show["seats_checked_in"], 1);
    assert_eq!(show["state"], "upcoming");
    assert_eq!(show["film"]["title"], "Aurora");
    assert_eq!(show["date_label"], "Thursday 10 January");

    // Another day by its date; a day without showtimes is an empty list.
    let next = door_get(&client, "/api/door/showtimes?date=2030-01-11").json();
    assert!(next["showtimes"].as_array().unwrap().iter().all(|s| s["date"] == "2030-01-11"));
    assert!(!next["showtimes"].as_array().unwrap().is_empty());
    let empty = door_get(&client, "/api/door/showtimes?date=2031-06-01").json();
    assert_eq!(empty["showtimes"], json!([]));
    assert_eq!(empty["suggested"], Value::Null);
}

fn a_started_showtime_is_listed_and_still_lets_latecomers_in(fixture: Fixture) {
    let early = door_server(&fixture, NOW);
    let booking = book(&Client::new(early.addr), SHOW, "Eka Putra", &["G4"]);
    drop(early);
    // 10:30 in Jakarta: SHOW (10:00) has started.
    let late = door_server(&fixture, "2030-01-10T10:30:00+07:00");
    let client = Client::new(late.addr);
    let day = door_get(&client, "/api/door/showtimes").json();
    let show = day["showtimes"].as_array().unwrap().iter().find(|s| s["id"] == SHOW).cloned();
    let show = show.unwrap_or_else(|| panic!("a started showtime is still on the door's day: {day}"));
    assert_eq!(show["state"], "running");
    assert_eq!(day["suggested"], SHOW, "just started: latecomers");
    let reply = check_in(&client, code_of(&booking), SHOW);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["checked_in_at_local"], "10:30");
}

fn nothing_answers_without_the_operator_token(fixture: Fixture) {
    let server = door_server(&fixture, NOW);
    let client = Client::new(server.addr);
    let booking = book(&client, SHOW, "Fajar", &["H1"]);
    let body = json!({ "code": code_of(&booking), "showtime": SHOW }).to_string();
    let wrong = format!("Bearer {TOKEN}x");
    for authorization in [None, Some(wrong.as_str()), Some(TOKEN), Some("Basic Zm9vOmJhcg==")] {
        for (method, path) in [
            ("GET", "/api/door/showtimes".to_string()),
            ("GET", format!("/api/door/showtimes/{SHOW}/bookings")),
            ("POST", "/api/door/check-in".to_string()),
            ("GET", "/api/door/nothing".to_string()),
        ] {
            let mut headers = vec![("Content-Type", "application/json")];
            headers.extend(authorization.map(|a| ("Authorization", a)));
            // A connection of its own: a refusal sent before the body was read may close it.
            let reply = Client::new(server.addr)
                .send(method, &path, &headers, (method == "POST").then_some(body.as_bytes()))
                .unwrap_or_else(|e| panic!("{method} {path}: no reply: {e}"));
            refused(&reply, 401, "operator_token_required");
            assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"tiketa-operator\""), "{path}");
        }
    }
    assert!(door_list(&client, SHOW).values().all(|b| b["checked_in_at"].is_null()), "nothing was checked in");

    // A service without a token shuts the door for everyone.
    let shut = Server::start(&fixture, &[]);
    let reply =
        Client::new(shut.addr).send("GET", "/api/door/showtimes", &[("Authorization", &bearer())], None).unwrap();
    let message = refused(&reply, 401, "operator_token_required");
    assert!(message.contains("TIKETA_OPERATOR_TOKEN"), "{message}");
}

fn no_door_reply_carries_cors_headers_for_the_public_origin(fixture: Fixture) {
    let server = door_server(&fixture, NOW);
    let client = Client::new(server.addr);
    let origin = cinema::site_url::origin(&fixture.catalog().settings.base_url).to_string();
    // The public routes do answer this origin: it is the site's own.
    let public = client.send("GET", "/api/health", &[("Origin", &origin)], None).unwrap();
    assert_eq!(public.header("access-control-allow-origin"), Some(origin.as_str()));

    let booking = book(&client, SHOW, "Gita", &["H5"]);
    for (method, path, request_headers) in [
        ("POST", "/api/door/check-in", "authorization, content-type"),
        ("POST", "/api/door/check-in", "content-type"),
        ("GET", "/api/door/showtimes", "authorization"),
    ] {
        let preflight = client
            .send(
                "OPTIONS",
                path,
                &[
                    ("Origin", &origin),
                    ("Access-Control-Request-Method", method),
                    ("Access-Control-Request-Headers", request_headers),
                ],
                None,
            )
            .unwrap();
        assert!(!(200..300).contains(&preflight.status), "{path} ({request_headers}): {}", preflight.status);
        assert_eq!(preflight.header("access-control-allow-origin"), None, "{path} ({request_headers})");
    }
    let auth = bearer();
    let with_origin = [("Origin", origin.as_str()), ("Authorization", auth.as_str())];
    let door_replies = [
        client.send("GET", "/api/door/showtimes", &with_origin, None).unwrap(),
        client.send("GET", &format!("/api/door/showtimes/{SHOW}/bookings"), &with_origin, None).unwrap(),
        client
            .send(
                "POST",
                "/api/door/check-in",
                &[with_origin[0], with_origin[1], ("Content-Type", "application/json")],
                Some(json!({ "code": code_of(&booking), "showtime": SHOW }).to_string().as_bytes()),
            )
            .unwrap(),
        client.send("GET", "/api/door/showtimes", &[("Origin", &origin)], None).unwrap(),
        client.send("GET", "/door/", &[("Origin", &origin)], None).unwrap(),
    ];
    for reply in door_replies {
        assert!(matches!(reply.status, 200 | 401), "{}", reply.text());
        assert_eq!(reply.header("access-control-allow-origin"), None, "{}", reply.text());
        assert_eq!(reply.header("access-control-allow-credentials"), None);
    }
}

/// The ids of a door reply's showtimes.
fn ids_of(day: &Value) -> Vec<String> {
    day["showtimes"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

/// Every page of `query` at `limit` a page, following `next_cursor`: the ids read, in order.
fn walk_day(client: &Client, query: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for _ in 0..1000 {
        let reply = door_get(client, &format!("/api/door/showtimes?{query}&limit={limit}&cursor={cursor}"));
        assert_eq!(reply.status, 200, "{}", reply.text());
        let day = reply.json();
        assert_documented(&day, "DoorDay");
        let page = ids_of(&day);
        assert!(page.len() <= limit, "a page holds at most its limit");
        ids.extend(page.iter().cloned());
        match day["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(page.len(), limit, "only a full page names a next one");
                cursor = next.to_string();
            }
            None => return ids,
        }
    }
    panic!("the cursor does not advance");
}

fn a_days_pages_walk_each_showtime_once_and_filter_by_film_and_studio(fixture: Fixture) {
    // 10:30 in Jakarta: the morning's showtimes have started (and are archived by the roll).
    let server = door_server(&fixture, "2030-01-10T10:30:00+07:00");
    let client = Client::new(server.addr);
    let whole = door_get(&client, "/api/door/showtimes?limit=300").json();
    assert_eq!(whole["next_cursor"], Value::Null, "one page holds the small day");
    let all = ids_of(&whole);
    assert!(all.len() > 3 && all.contains(&SHOW.to_string()), "{all:?}");
    let starts: Vec<(&str, &str)> = whole["showtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["starts_at"].as_str().unwrap(), s["id"].as_str().unwrap()))
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "by start, then id: {starts:?}");
    assert!(starts.windows(2).any(|w| w[0].0 == w[1].0), "the day has ties: the id breaks them");
    for limit in [1, 2, 3, all.len()] {
        assert_eq!(walk_day(&client, "date=2030-01-10", limit), all, "limit {limit}: each once, in order");
    }
    let default = door_get(&client, "/api/door/showtimes").json();
    assert_eq!(ids_of(&default), all, "today, at the default limit");

    // A film, or the studio that screens it; a studio and another's film, or an empty studio.
    let aurora: Vec<String> = all.iter().filter(|id| id.starts_with("aurora-")).cloned().collect();
    assert!(!aurora.is_empty() && aurora.len() < all.len());
    assert_eq!(walk_day(&client, "film=aurora", 1), aurora);
    assert_eq!(walk_day(&client, "studio=1", 2), aurora);
    assert_eq!(walk_day(&client, "studio=1&film=aurora", 300), aurora);
    let borealis: Vec<String> = all.iter().filter(|id| id.starts_with("borealis-")).cloned().collect();
    assert_eq!(walk_day(&client, "studio=2", 1), borealis);
    for nothing in ["studio=2&film=aurora", "studio=9", "film=nobody"] {
        let day = door_get(&client, &format!("/api/door/showtimes?{nothing}")).json();
        assert_eq!((day["showtimes"].clone(), day["suggested"].clone()), (json!([]), Value::Null), "{nothing}");
    }

    // Bad values are refused with their codes, saying how to write them.
    for (bad, code) in [
        ("studio=0", "invalid_studio"),
        ("studio=one", "invalid_studio"),
        ("limit=0", "invalid_limit"),
        ("limit=301", "invalid_limit"),
        ("cursor=nonsense", "invalid_cursor"),
    ] {
        let message = refused(&door_get(&client, &format!("/api/door/showtimes?{bad}")), 400, code);
        assert!(message.contains("leave it out"), "{bad}: {message}");
    }
}

/// The door's rule over a whole day's reply: of the showtimes not yet ended at `now`, the one
/// whose start is nearest (then the earlier, then the smaller id); when all have ended, the last.
fn expected_suggestion(day: &Value) -> Value {
    let now: chrono::DateTime<chrono::Utc> = day["now"].as_str().unwrap().parse().unwrap();
    let time = |s: &Value, field: &str| s[field].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let list = day["showtimes"].as_array().unwrap();
    let open = list.iter().filter(|s| now < time(s, "ends_at")).min_by_key(|s| {
        ((time(s, "starts_at") - now).abs(), time(s, "starts_at"), s["id"].as_str().unwrap().to_string())
    });
    open.or_else(|| list.last()).map_or(Value::Null, |s| s["id"].clone())
}

fn the_suggested_showtime_is_the_whole_days_whatever_the_page(fixture: Fixture) {
    const LATE: &str = "2030-01-10T23:59:00+07:00";
    // Before the first, with latecomers at SHOW (10:00), and when all have ended (the last).
    let moments = [("2030-01-10T00:00:00+07:00", None), ("2030-01-10T10:30:00+07:00", Some(SHOW)), (LATE, None)];
    for (now, known) in moments {
        let server = door_server(&fixture, now);
        let client = Client::new(server.addr);
        for filter in ["", "film=aurora", "studio=2"] {
            let whole = door_get(&client, &format!("/api/door/showtimes?date=2030-01-10&limit=300&{filter}")).json();
            let expected = expected_suggestion(&whole);
            assert_ne!(expected, Value::Null);
            assert_eq!(whole["suggested"], expected, "{now} {filter}");
            let first = door_get(&client, &format!("/api/door/showtimes?date=2030-01-10&limit=1&{filter}")).json();
            assert_eq!(first["suggested"], expected, "{now} {filter}: the first page of one names the whole day's");
            let cursor = first["next_cursor"].as_str().unwrap();
            let second =
                door_get(&client, &format!("/api/door/showtimes?date=2030-01-10&limit=1&{filter}&cursor={cursor}"))
                    .json();
            assert_eq!(second["suggested"], expected, "{now} {filter}: and so does the next page");
        }
        if let Some(id) = known {
            assert_eq!(
                door_get(&client, "/api/door/showtimes?date=2030-01-10&film=aurora").json()["suggested"],
                id,
                "{now}"
            );
        }
        let all_ended = door_get(&client, "/api/door/showtimes?date=2030-01-10&limit=300").json();
        if now == LATE {
            assert_eq!(all_ended["suggested"], all_ended["showtimes"].as_array().unwrap().last().unwrap()["id"]);
        }
    }
}
