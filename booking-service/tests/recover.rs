//! `POST /api/bookings/recover` through warp's test harness on a SQLite fixture: the same reply
//! for an address with bookings and one without, `422` for what is not an address, `429` per
//! address (whatever its case, from any client) and per client (whatever the address), and the
//! queued message: one recovery row carrying fresh tokens for the address's live bookings only,
//! each of which opens its booking. Then end to end on the real `tiketa-booking` (SQLite, and
//! PostgreSQL when `TIKETA_TEST_DATABASE_URL` is set): the message arrives as an `.eml` file
//! for the known address only, its link opens the booking, and the log names neither address
//! in full.

#[macro_use]
mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cinema::outbox::MailBooking;
use common::in_process::{Api, api, body};
use common::{Fixture, SHOW, Server, wait_for};
use mail_parser::MessageParser;
use regex::Regex;
use serde_json::{Value, json};
use test_support::Client;
use test_support::smtp::eml_files;
use warp::http::Response;
use warp::hyper::body::Bytes;

on_both_stores!(a_recovery_request_mails_working_links_to_a_known_address_only);

const PATH: &str = "/api/bookings/recover";

/// How long the queued message may take to appear before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// A recovery request for `email` from `client`.
async fn recover(api: &Api, client: &str, email: &str) -> Response<Bytes> {
    send(api, client, "application/json", json!({ "email": email }).to_string().as_bytes()).await
}

async fn send(api: &Api, client: &str, content_type: &str, body: &[u8]) -> Response<Bytes> {
    warp::test::request()
        .method("POST")
        .path(PATH)
        .remote_addr(format!("{client}:5000").parse().unwrap())
        .header("content-type", content_type)
        .body(body)
        .reply(&api.filter)
        .await
}

/// Books `seats` of `showtime` for `email`; answers the booking's reply.
async fn book(api: &Api, showtime: &str, seats: &[&str], email: &str) -> Value {
    let res = warp::test::request()
        .method("POST")
        .path(&format!("/api/showtimes/{showtime}/bookings"))
        .header("content-type", "application/json")
        .body(json!({ "name": "Ana Lima", "email": email, "seats": seats }).to_string())
        .reply(&api.filter)
        .await;
    assert_eq!(res.status(), 201, "{:?}", res.body());
    body(&res)
}

async fn open(api: &Api, reference: &str, token: &str) -> Response<Bytes> {
    warp::test::request()
        .path(&format!("/api/bookings/{reference}"))
        .header("x-manage-token", token)
        .reply(&api.filter)
        .await
}

fn assert_error(res: &Response<Bytes>, status: u16, code: &str) {
    assert_eq!(res.status(), status, "{:?}", res.body());
    assert_eq!(body(res)["error"]["code"], code, "{:?}", res.body());
}

#[tokio::test]
async fn an_address_with_bookings_and_one_without_get_the_same_reply() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    book(&api, SHOW, &["A1"], "ana@example.com").await;
    let known = recover(&api, "10.0.0.1", "Ana@Example.com").await;
    let unknown = recover(&api, "10.0.0.1", "nobody@example.com").await;
    assert_eq!(known.status(), 202, "{:?}", known.body());
    assert_eq!(
        body(&known),
        json!({
            "status": "queued",
            "message": "If that address has bookings for coming showtimes, a message with their links is on its way."
        })
    );
    assert_eq!(known.body(), unknown.body(), "the very same bytes");
    assert_eq!(known.status(), unknown.status());
    assert_eq!(known.headers(), unknown.headers(), "the very same headers");
    assert_eq!(known.headers()["content-type"], "application/json");
    assert_eq!(known.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn what_is_not_an_address_gets_422_and_a_malformed_request_its_own_error() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    // One client each: every request takes a token of its client's, refused or not.
    let long = format!("{}@example.com", "a".repeat(300));
    let junk = ["", "ana", "ana@", "@example.com", "ana@localhost", "ana lima@example.com", "ana@exa mple.com", &long];
    for (i, junk) in junk.into_iter().enumerate() {
        assert_error(&recover(&api, &format!("10.0.9.{i}"), junk).await, 422, "invalid_email");
    }
    assert_error(&send(&api, "10.0.0.3", "application/json", b"{}").await, 400, "invalid_json");
    assert_error(&send(&api, "10.0.0.3", "application/json", br#"{"email": 7}"#).await, 400, "invalid_json");
    let extra = br#"{"email": "ana@example.com", "name": "Ana"}"#;
    assert_error(&send(&api, "10.0.0.3", "application/json", extra).await, 400, "invalid_json");
    assert_error(
        &send(&api, "10.0.0.4", "text/plain", br#"{"email": "ana@example.com"}"#).await,
        415,
        "unsupported_media_type",
    );
    let huge = json!({ "email": "x".repeat(20_000) }).to_string();
    assert_error(&send(&api, "10.0.0.4", "application/json", huge.as_bytes()).await, 413, "payload_too_large");
}

#[tokio::test]
async fn an_address_asked_for_too_often_gets_429_whatever_its_case_and_client() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    for (client, email) in
        [("10.0.1.1", "ana@example.com"), ("10.0.1.2", "ANA@example.com"), ("10.0.1.3", " Ana@Example.COM ")]
    {
        assert_eq!(recover(&api, client, email).await.status(), 202, "{client} {email}");
    }
    let res = recover(&api, "10.0.1.4", "ana@EXAMPLE.com").await;
    assert_error(&res, 429, "rate_limited");
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((60..=20 * 60).contains(&retry), "a third of an hour at most: {retry}");
    assert_eq!(body(&res)["error"]["retry_after"], retry);
    assert_eq!(recover(&api, "10.0.1.4", "bo@example.com").await.status(), 202, "other addresses are not affected");
}

#[tokio::test]
async fn a_client_asking_too_often_gets_429_whatever_the_address() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    for i in 0..5 {
        assert_eq!(recover(&api, "10.0.2.1", &format!("guest{i}@example.com")).await.status(), 202, "{i}");
    }
    let res = recover(&api, "10.0.2.1", "guest5@example.com").await;
    assert_error(&res, 429, "rate_limited");
    assert!(res.headers().contains_key("retry-after"));
    // Junk counts too: a client cannot probe the checks for free.
    assert_error(&recover(&api, "10.0.2.1", "junk").await, 429, "rate_limited");
    assert_eq!(recover(&api, "10.0.2.2", "guest5@example.com").await.status(), 202, "other clients are not affected");
}

#[tokio::test]
async fn a_recovery_queues_fresh_links_to_the_address_live_bookings_only() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let live = book(&api, SHOW, &["B1"], "ana@example.com").await;
    let cancelled = book(&api, SHOW, &["B2"], "ana@example.com").await;
    let other = book(&api, SHOW, &["B3"], "bo@example.com").await;
    let path = format!("/api/bookings/{}", cancelled["reference"].as_str().unwrap());
    let res = warp::test::request()
        .method("DELETE")
        .path(&path)
        .header("x-manage-token", cancelled["manage_token"].as_str().unwrap())
        .reply(&api.filter)
        .await;
    assert_eq!(res.status(), 200);

    // An unknown address first: the store's work is in order, so by the time Ana's message
    // is queued, this one's work is done too, and it must have queued nothing.
    assert_eq!(recover(&api, "10.0.3.1", "nobody@example.com").await.status(), 202);
    assert_eq!(recover(&api, "10.0.3.1", "ANA@example.com").await.status(), 202);
    let rows = queued_recoveries(&f).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (recipient, bookings) = &rows[0];
    assert!(recipient.eq_ignore_ascii_case("ana@example.com"), "{recipient}");
    assert_eq!(bookings.len(), 1, "Ana's live booking only: {bookings:?}");
    assert_eq!(bookings[0].reference.as_str(), live["reference"].as_str().unwrap());
    let token = bookings[0].token.as_ref().expect("the message carries the fresh token");
    assert_ne!(token.as_str(), live["manage_token"].as_str().unwrap(), "a fresh token");

    // The fresh token opens the booking (and its calendar link carries it); Ana's own still
    // does; neither opens Bo's.
    let reference = live["reference"].as_str().unwrap();
    let opened = open(&api, reference, token.as_str()).await;
    assert_eq!(opened.status(), 200, "{:?}", opened.body());
    assert!(body(&opened)["calendar_url"].as_str().unwrap().ends_with(&format!("?token={}", token.as_str())));
    assert_eq!(open(&api, reference, live["manage_token"].as_str().unwrap()).await.status(), 200);
    assert_eq!(open(&api, other["reference"].as_str().unwrap(), token.as_str()).await.status(), 404);
}

/// The recovery messages in the fixture's outbox (recipient and bookings), once there is one;
/// fails after [`PATIENCE`]. The message is queued after the reply, by a task of the service,
/// with no signal a test can wait on but the row itself.
async fn queued_recoveries(f: &Fixture) -> Vec<(String, Vec<MailBooking>)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let connection = rusqlite::Connection::open(f.db()).unwrap();
        let mut query =
            connection.prepare("SELECT recipient, payload FROM outbox WHERE kind = 'recovery' ORDER BY id").unwrap();
        let rows: Vec<(String, String)> =
            query.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
        if !rows.is_empty() {
            return rows
                .into_iter()
                .map(|(recipient, payload)| (recipient, MailBooking::from_payload(&payload).unwrap()))
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "no recovery message queued after {PATIENCE:?} (the service's log says why, if the store refused)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn a_recovery_request_mails_working_links_to_a_known_address_only(fixture: Fixture) {
    let outbox = fixture.dir.path().join("mail");
    let flags = ["--outbox-dir", outbox.to_str().unwrap(), "--base-url", "https://tiketa.example"];
    let mut server = Server::start_with(&fixture, &flags, |command| {
        command.env("RUST_LOG", "warn,booking_service::api::recovery=debug").stderr(Stdio::piped());
    });
    let log = log_lines(&mut server);
    let client = Client::new(server.addr);
    let post = |email: &str| {
        let body = json!({ "email": email }).to_string();
        client.send("POST", PATH, &[("Content-Type", "application/json")], Some(body.as_bytes())).unwrap()
    };
    let booking = client
        .send(
            "POST",
            &format!("/api/showtimes/{SHOW}/bookings"),
            &[("Content-Type", "application/json")],
            Some(json!({ "name": "Dewi", "email": "dewi@example.com", "seats": ["H3"] }).to_string().as_bytes()),
        )
        .unwrap()
        .json();
    wait_for("the confirmation's .eml", PATIENCE, || (eml_files(&outbox).len() == 1).then_some(()));

    let unknown = post("nobody@example.com");
    let known = post("DEWI@example.com");
    assert_eq!((known.status, &known.body), (202, &unknown.body), "{}", known.text());
    let headers = |reply: &test_support::Reply| -> Vec<(String, String)> {
        reply.headers.iter().filter(|(name, _)| name != "date").cloned().collect()
    };
    assert_eq!(headers(&known), headers(&unknown));

    // Both requests' work is done once the log says so, whatever order it ran in.
    let mut said = Vec::new();
    while !(said.iter().any(|l: &String| l.contains("no booking to send"))
        && said.iter().any(|l| l.contains("recovery mail queued")))
    {
        said.push(log.recv_timeout(PATIENCE).expect("the log tells how both recoveries went"));
    }
    for line in &said {
        assert!(!line.contains("nobody@") && !line.to_lowercase().contains("dewi@"), "an address in full: {line}");
    }
    assert!(said.iter().any(|l| l.contains("recovery mail queued") && l.contains("D…@example.com")), "{said:?}");

    let files = wait_for("the recovery's .eml", PATIENCE, || {
        let files = eml_files(&outbox);
        (files.len() >= 2).then_some(files)
    });
    assert_eq!(files.len(), 2, "a confirmation and one recovery message, none to the unknown address");
    let raw = std::fs::read(&files[1]).unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(message.to().unwrap().first().unwrap().address(), Some("DEWI@example.com"));
    let text = message.body_text(0).unwrap();
    let link = Regex::new(r"https://tiketa\.example/booking/\?ref=(TK-[0-9A-Z-]+)&token=([0-9a-f]{32})").unwrap();
    let links: Vec<_> = link.captures_iter(&text).map(|c| (c[1].to_string(), c[2].to_string())).collect();
    assert_eq!(links.len(), 1, "{text}");
    let (reference, token) = &links[0];
    assert_eq!(reference, booking["reference"].as_str().unwrap());
    let opened = client.get(&format!("/api/bookings/{reference}?token={token}")).unwrap();
    assert_eq!(opened.status, 200, "{}", opened.text());
}

/// The server's log, line by line, as it is written.
fn log_lines(server: &mut Server) -> mpsc::Receiver<String> {
    let stderr = server.child.stderr.take().expect("the server's stderr is piped");
    let (lines, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}
