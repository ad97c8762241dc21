//! The ticket a booking carries, on the real `tiketa-booking` (SQLite, and PostgreSQL when
//! `TIKETA_TEST_DATABASE_URL` is set): every booking reply has the check-in code, the QR code
//! and a calendar link with the token the request proved, as the OpenAPI document says; the QR
//! code decodes (with `rqrr`, from the SVG drawn into pixels here) to the reference and the
//! check-in code; the booking's calendar file parses (with `icalendar`) with the showtime's
//! instants and a stable UID, for the token's holder only.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cinema::booking::CheckInCode;
use cinema::booking::check_in::parse_ticket_payload;
use common::{Fixture, SHOW, Server};
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, EventLike};
use serde_json::{Value, json};
use test_support::{Client, Reply};

on_both_stores!(
    every_booking_reply_carries_the_ticket_and_a_calendar_link_with_the_proven_token,
    the_ticket_qr_code_decodes_to_the_reference_and_the_check_in_code,
    the_calendar_file_parses_with_the_showtime_instants_and_a_stable_uid,
    the_calendar_file_answers_a_wrong_token_as_the_manage_route_does,
    a_cancelled_booking_keeps_its_calendar_file_marked_cancelled,
);

/// Books `seats` of [`SHOW`] for Ana, with an email and an idempotency key.
fn book(client: &Client, seats: &[&str], key: &str) -> Reply {
    let body = json!({ "name": "Ana Lima", "email": "ana@example.com", "seats": seats }).to_string();
    let headers = [("Content-Type", "application/json"), ("Idempotency-Key", key)];
    let reply =
        client.send("POST", &format!("/api/showtimes/{SHOW}/bookings"), &headers, Some(body.as_bytes())).unwrap();
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply
}

/// The OpenAPI document's `Booking` schema: its required fields and all its fields.
fn documented_booking() -> (BTreeSet<String>, BTreeSet<String>) {
    let doc: Value = serde_json::from_str(booking_service::api::openapi::DOCUMENT).unwrap();
    let schema = &doc["components"]["schemas"]["Booking"];
    let names = |v: &Value| -> BTreeSet<String> {
        v.as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect()
    };
    let properties = schema["properties"].as_object().unwrap().keys().cloned().collect();
    (names(&schema["required"]), properties)
}

/// Asserts that `booking` has every required field of the document and no other field.
fn assert_documented(booking: &Value) {
    let (required, properties) = documented_booking();
    let fields: BTreeSet<String> = booking.as_object().unwrap().keys().cloned().collect();
    assert!(required.is_subset(&fields), "missing {:?} in {booking}", required.difference(&fields).collect::<Vec<_>>());
    assert!(fields.is_subset(&properties), "undocumented {:?}", fields.difference(&properties).collect::<Vec<_>>());
}

fn calendar_url(reference: &str, token: &str) -> String {
    format!("/api/bookings/{reference}/calendar.ics?token={token}")
}

fn every_booking_reply_carries_the_ticket_and_a_calendar_link_with_the_proven_token(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let created = book(&client, &["C3", "C4"], "tickets-1").json();
    assert_documented(&created);
    let reference = created["reference"].as_str().unwrap();
    let token = created["manage_token"].as_str().unwrap();
    let code = created["check_in_code"].as_str().unwrap();
    assert_eq!(CheckInCode::parse(code).map(|c| c.as_str().to_string()).as_deref(), Some(code), "written form");
    assert_eq!(created["calendar_url"], calendar_url(reference, token));
    assert!(created["ticket_svg"].as_str().unwrap().contains("<svg"));
    assert!(!created["ticket_svg"].as_str().unwrap().contains(token), "the ticket never carries the token");

    // A replay is the same reply, ticket and link included.
    let replayed = book(&client, &["C3", "C4"], "tickets-1");
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.json(), created);

    // GET and DELETE with the token, in the header or the query: the same ticket, and a link
    // with the token they proved; never the token as a field.
    let path = format!("/api/bookings/{}", reference.to_lowercase());
    for reply in [
        client.send("GET", &path, &[("X-Manage-Token", token)], None).unwrap(),
        client.get(&format!("{path}?token={token}")).unwrap(),
        client.send("DELETE", &path, &[("X-Manage-Token", token)], None).unwrap(),
    ] {
        assert_eq!(reply.status, 200, "{}", reply.text());
        let booking = reply.json();
        assert_documented(&booking);
        assert_eq!(booking["manage_token"], Value::Null);
        assert_eq!(booking["reference"], reference, "the canonical reference, whatever case was asked");
        assert_eq!(booking["check_in_code"], code);
        assert_eq!(booking["ticket_svg"], created["ticket_svg"]);
        assert_eq!(booking["calendar_url"], calendar_url(reference, token));
    }
}

fn the_ticket_qr_code_decodes_to_the_reference_and_the_check_in_code(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booking = book(&client, &["D5"], "tickets-2").json();
    let svg = booking["ticket_svg"].as_str().unwrap();
    let decoded = decode_qr(svg);
    assert_eq!(
        decoded,
        format!("TIKETA:{}:{}", booking["reference"].as_str().unwrap(), booking["check_in_code"].as_str().unwrap())
    );
    let (reference, code) = parse_ticket_payload(&decoded).expect("a Tiketa ticket");
    assert_eq!(
        (reference.as_str(), code.as_str()),
        (booking["reference"].as_str().unwrap(), booking["check_in_code"].as_str().unwrap())
    );
}

fn the_calendar_file_parses_with_the_showtime_instants_and_a_stable_uid(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booking = book(&client, &["E7", "E8"], "tickets-3").json();
    let reference = booking["reference"].as_str().unwrap();
    let token = booking["manage_token"].as_str().unwrap();
    let reply = client.get(booking["calendar_url"].as_str().unwrap()).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("text/calendar; charset=utf-8"));
    assert_eq!(reply.header("content-disposition"), Some(format!("attachment; filename=\"{reference}.ics\"").as_str()));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let text = reply.text();
    assert!(!text.contains(token), "the file never carries the token: {text}");
    // 10:00 at +07:00 on 2030-01-10, written in UTC.
    assert!(text.contains("DTSTART:20300110T030000Z"), "{text}");

    let calendar: Calendar = text.parse().unwrap_or_else(|e| panic!("{e}: {text}"));
    let events: Vec<_> = calendar.events().collect();
    assert_eq!(events.len(), 1, "{text}");
    let event = events[0];
    let instant = |field: &str| -> DatePerhapsTime {
        let at: DateTime<Utc> = booking["showtime"][field].as_str().unwrap().parse().unwrap();
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))
    };
    assert_eq!(event.get_start(), Some(instant("starts_at")));
    assert_eq!(event.get_end(), Some(instant("ends_at")));
    // The real site.toml: base_url http://127.0.0.1:8080, the cinema "The Time Gallery".
    assert_eq!(event.get_uid(), Some(format!("booking-{reference}@127.0.0.1").as_str()));
    assert_eq!(event.get_summary(), Some("Aurora"));
    assert_eq!(event.get_location(), Some("Studio 1, The Time Gallery"));
    assert_eq!(event.get_url(), Some(format!("http://127.0.0.1:8080/booking/?ref={reference}").as_str()));
    let description = event.get_description().unwrap();
    for part in [reference, "E7, E8", booking["check_in_code"].as_str().unwrap()] {
        assert!(description.contains(part), "{part} in {description:?}");
    }

    // The same file every time, by the header too, in any case of the reference; HEAD has
    // GET's headers and no body.
    let path = format!("/api/bookings/{}/calendar.ics", reference.to_lowercase());
    let again = client.send("GET", &path, &[("X-Manage-Token", token)], None).unwrap();
    assert_eq!((again.status, again.text()), (200, text));
    let head = client.send("HEAD", &path, &[("X-Manage-Token", token)], None).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    for name in ["content-type", "content-disposition", "cache-control", "content-length"] {
        assert_eq!(head.header(name), reply.header(name), "{name}");
    }
}

fn the_calendar_file_answers_a_wrong_token_as_the_manage_route_does(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booking = book(&client, &["F1"], "tickets-4").json();
    let reference = booking["reference"].as_str().unwrap();
    let token = booking["manage_token"].as_str().unwrap();
    let other_token = "0123456789abcdef0123456789abcdef";
    let manage =
        client.send("GET", &format!("/api/bookings/{reference}"), &[("X-Manage-Token", other_token)], None).unwrap();
    assert_eq!(manage.status, 404);
    assert_eq!(manage.json()["error"]["code"], "booking_not_found");
    for path in [
        calendar_url(reference, other_token),
        calendar_url(reference, &token.to_uppercase()),
        calendar_url(reference, ""),
        format!("/api/bookings/{reference}/calendar.ics"),
        calendar_url("TK-2222-2222", token),
        calendar_url("nope", token),
    ] {
        let reply = client.get(&path).unwrap();
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.header("content-type"), Some("application/json"), "{path}");
        assert_eq!(reply.text(), manage.text(), "{path}: the manage route's very answer");
    }
}

fn a_cancelled_booking_keeps_its_calendar_file_marked_cancelled(fixture: Fixture) {
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let booking = book(&client, &["G2"], "tickets-5").json();
    let url = booking["calendar_url"].as_str().unwrap();
    let before = client.get(url).unwrap().text();
    let path = format!("/api/bookings/{}", booking["reference"].as_str().unwrap());
    let token = booking["manage_token"].as_str().unwrap();
    assert_eq!(client.send("DELETE", &path, &[("X-Manage-Token", token)], None).unwrap().status, 200);
    let reply = client.get(url).unwrap();
    assert_eq!(reply.status, 200, "a cancelled booking still has its file");
    let (before, after): (Calendar, Calendar) = (before.parse().unwrap(), reply.text().parse().unwrap());
    let (was, is) = (before.events().next().unwrap(), after.events().next().unwrap());
    assert_eq!(was.get_summary(), Some("Aurora"));
    assert_eq!(is.get_uid(), was.get_uid(), "the same event, to be updated");
    assert_eq!(is.get_start(), was.get_start());
    assert_eq!(is.get_summary(), Some("Cancelled: Aurora"));
    assert!(is.get_description().unwrap().contains("cancelled"));
    assert_eq!(was.get_status(), None);
    assert_eq!(is.get_status(), Some(icalendar::EventStatus::Cancelled), "a calendar marks the event cancelled");
    assert!(is.get_sequence() > was.get_sequence(), "and takes it as the newer version");
}

/// The text of the one QR code drawn by `svg`.
fn decode_qr(svg: &str) -> String {
    let (width, height, pixels) = rasterise(svg);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the ticket");
    let (_meta, text) = grids[0].decode().expect("the QR code decodes");
    text
}

/// Draws the ticket's SVG into grey pixels: a white canvas of the document's `viewBox` (its
/// `width` by `height` when it has none), and the last `<path d="...">`, whose sub-paths are
/// rectangles (`M x y h w v h H x V y`, or the relative `h`/`v`/`z` forms), each filled black.
/// Each unit is drawn 4 pixels wide, so the quiet zone and modules stay crisp for the detector.
fn rasterise(svg: &str) -> (usize, usize, Vec<u8>) {
    const SCALE: usize = 4;
    let attribute = |name: &str| -> &str {
        let start = svg.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} in {svg}")) + name.len() + 3;
        &svg[start..start + svg[start..].find('"').unwrap()]
    };
    let (w, h): (usize, usize) = match svg.contains(" viewBox=\"") {
        true => {
            let sizes: Vec<usize> = attribute("viewBox").split(' ').map(|n| n.parse().unwrap()).collect();
            (sizes[2], sizes[3])
        }
        false => (attribute("width").parse().unwrap(), attribute("height").parse().unwrap()),
    };
    let (width, height) = (w * SCALE, h * SCALE);
    let mut pixels = vec![255u8; width * height];
    let mut fill = |points: &[(f64, f64)]| {
        if points.is_empty() {
            return;
        }
        let xs = points.iter().map(|p| p.0);
        let ys = points.iter().map(|p| p.1);
        let (left, right) = (xs.clone().fold(f64::MAX, f64::min), xs.fold(f64::MIN, f64::max));
        let (top, bottom) = (ys.clone().fold(f64::MAX, f64::min), ys.fold(f64::MIN, f64::max));
        for y in (top as usize * SCALE)..(bottom as usize * SCALE).min(height) {
            for x in (left as usize * SCALE)..(right as usize * SCALE).min(width) {
                pixels[y * width + x] = 0;
            }
        }
    };
    // The last path is the drawing (a white background may come first).
    let d = {
        let start = svg.rfind(" d=\"").expect("a path") + 4;
        &svg[start..start + svg[start..].find('"').unwrap()]
    };
    let mut tokens = Tokens { text: d, at: 0 };
    let (mut x, mut y) = (0.0, 0.0);
    let mut shape: Vec<(f64, f64)> = Vec::new();
    while let Some(command) = tokens.command() {
        match command {
            'M' => {
                fill(&shape);
                shape.clear();
                (x, y) = (tokens.number(), tokens.number());
            }
            'h' => x += tokens.number(),
            'v' => y += tokens.number(),
            'H' => x = tokens.number(),
            'V' => y = tokens.number(),
            'z' | 'Z' => continue,
            other => panic!("unexpected path command {other:?} in {d}"),
        }
        shape.push((x, y));
    }
    fill(&shape);
    (width, height, pixels)
}

/// The commands and numbers of an SVG path's `d`.
struct Tokens<'a> {
    text: &'a str,
    at: usize,
}

impl Tokens<'_> {
    fn skip_separators(&mut self) {
        while self.text[self.at..].starts_with([' ', ',']) {
            self.at += 1;
        }
    }

    fn command(&mut self) -> Option<char> {
        self.skip_separators();
        let c = self.text[self.at..].chars().next()?;
        assert!(c.is_ascii_alphabetic(), "a command expected at {} of {}", self.at, self.text);
        self.at += 1;
        Some(c)
    }

    fn number(&mut self) -> f64 {
        self.skip_separators();
        let rest = &self.text[self.at..];
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
            .map_or(rest.len(), |(i, _)| i);
        self.at += len;
        rest[..len].parse().unwrap_or_else(|e| panic!("a number expected at {rest:?}: {e}"))
    }
}
