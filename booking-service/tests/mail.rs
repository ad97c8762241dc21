//! Mail, end to end: the real `tiketa-booking` and a real SMTP server on loopback
//! (`test_support::smtp`, Python's aiosmtpd; skipped with a note where it is missing, required
//! under CI), or the `.eml` files of the outbox folder.
//!
//! A booking with an email makes exactly one confirmation (its headers, both parts, the hostile
//! name escaped, a manage link that opens the booking through the service); a cancellation
//! sends a notice; a SIGKILL between the booking's commit and the send still delivers it after
//! a restart, once; an SMTP server that refuses at first gets every message in the end; two
//! instances on one database deliver each message once. Every wait is for an event (the SMTP
//! server's line, a file, the outbox's counts), with a deadline, never a fixed sleep.

#[macro_use]
mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use cinema::outbox::{OutboxCounts, Recovery};
use common::pair::Pair;
use common::{Fixture, SHOW, Server, wait_for};
use mail_parser::{Message, MessageParser, MimeHeaders};
use regex::Regex;
use serde_json::{Value, json};
use test_support::Client;
use test_support::smtp::{Behaviour, SmtpSink, eml_files};

/// How long a test waits for anything before it fails (never a synchronisation).
const PATIENCE: Duration = Duration::from_secs(30);
/// A name that would break HTML, headers or the text direction if it were not handled.
const HOSTILE: &str = "<script>alert(\"x\")</script> & 'Ali' \u{5e9}\u{5dc}\u{5d5}\u{5dd}";
const FROM: &str = "The Time Gallery <tickets@tiketa.example>";
const BASE_URL: &str = "https://tiketa.example";

on_both_stores!(
    a_booking_with_an_email_sends_one_confirmation_over_smtp_and_a_cancellation_a_notice,
    a_booking_with_an_email_writes_one_eml_file_without_smtp,
    a_sigkill_between_commit_and_send_delivers_once_after_a_restart,
    a_refusing_smtp_server_is_retried_and_nothing_is_lost,
    two_instances_deliver_each_message_once,
    a_recovery_message_carries_links_that_open_the_bookings,
);

/// The flags that send mail to `sink`.
fn smtp_flags(sink: &SmtpSink) -> Vec<String> {
    ["--smtp-url", &sink.url(), "--mail-from", FROM, "--base-url", BASE_URL].map(str::to_string).to_vec()
}

fn args(flags: &[String]) -> Vec<&str> {
    flags.iter().map(String::as_str).collect()
}

/// Books `seats` for `name` with `email`; answers the `201` body.
fn book(client: &Client, name: &str, email: Option<&str>, seats: &[&str]) -> Value {
    let body = json!({ "name": name, "email": email, "seats": seats });
    let reply = client
        .send(
            "POST",
            &format!("/api/showtimes/{SHOW}/bookings"),
            &[("Content-Type", "application/json")],
            Some(&serde_json::to_vec(&body).unwrap()),
        )
        .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

fn counts(fixture: &Fixture) -> OutboxCounts {
    fixture.store().run(|s| s.outbox_counts()).unwrap()
}

/// Waits until the outbox has nothing pending and `sent` messages sent.
fn wait_all_sent(fixture: &Fixture, sent: u64) {
    wait_for(&format!("{sent} messages sent and none pending"), PATIENCE, || {
        let c = counts(fixture);
        (c.pending == 0 && c.sent == sent).then_some(())
    });
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::default().parse(raw).expect("a message that parses")
}

/// The manage links in a text: (reference, token).
fn manage_links(text: &str) -> Vec<(String, String)> {
    let re = Regex::new(r"https://tiketa\.example/booking/\?ref=(TK-[0-9A-Z-]+)&token=([0-9a-f]+)").unwrap();
    re.captures_iter(text).map(|c| (c[1].to_string(), c[2].to_string())).collect()
}

/// The reference a message is about (from its subject or first manage link).
fn reference_of(message: &Message<'_>) -> String {
    let text = message.body_text(0).unwrap();
    Regex::new(r"Reference: +(TK-[0-9A-Z-]+)").unwrap().captures(&text).expect("a reference")[1].to_string()
}

fn a_booking_with_an_email_sends_one_confirmation_over_smtp_and_a_cancellation_a_notice(fixture: Fixture) {
    let Some(sink) = SmtpSink::start(&fixture.dir.path().join("smtp"), Behaviour::Accept { refuse_first: 0 }) else {
        return;
    };
    let server = Server::start(&fixture, &args(&smtp_flags(&sink)));
    let client = Client::new(server.addr);
    let booked = book(&client, HOSTILE, Some("dewi@example.com"), &["C4", "C5"]);
    let (reference, token) = (booked["reference"].as_str().unwrap(), booked["manage_token"].as_str().unwrap());
    sink.wait_event("received", PATIENCE);

    let raw = &sink.messages()[0];
    let head = String::from_utf8_lossy(&raw[..raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]).to_string();
    assert!(!head.contains("<script>") && !head.contains(token), "the name is encoded, the token absent:\n{head}");
    let message = parse(raw);
    assert_eq!(sink.envelope(1), ["tickets@tiketa.example", "dewi@example.com"]);
    let from = message.from().unwrap().first().unwrap();
    assert_eq!((from.name(), from.address()), (Some("The Time Gallery"), Some("tickets@tiketa.example")));
    let to = message.to().unwrap().first().unwrap();
    assert_eq!((to.name(), to.address()), (Some(HOSTILE), Some("dewi@example.com")));
    let subject = message.subject().unwrap();
    assert!(subject.starts_with("Your tickets: Aurora, Thursday 10 January, 10:00 WIB"), "{subject}");
    assert!(message.date().is_some());
    let id = message.message_id().unwrap();
    assert!(Regex::new(r"^tiketa\.confirmation\.\d+\.\d+@tiketa\.example$").unwrap().is_match(id), "{id}");

    // Both parts: the text with the name as it is, the HTML with it escaped; the QR inline;
    // the booking's calendar file attached.
    assert_eq!(message.content_type().unwrap().subtype(), Some("mixed"));
    let text = message.body_text(0).unwrap();
    let html = message.body_html(0).unwrap();
    assert!(text.contains(&format!("Hello {HOSTILE},")), "{text}");
    assert!(text.contains("Thursday 10 January 2030, 10:00 – 12:00 WIB") && text.contains("C4, C5"), "{text}");
    assert!(text.contains(reference) && html.contains(reference));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Ali&#39;"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    let attachments: Vec<_> = message.attachments().collect();
    let image = attachments.iter().find(|a| a.content_id().is_some()).expect("the ticket's QR code");
    assert_eq!(image.content_type().unwrap().subtype(), Some("svg+xml"));
    assert!(html.contains(&format!("cid:{}", image.content_id().unwrap())), "{html}");
    let ics = attachments.iter().find(|a| a.content_type().unwrap().subtype() == Some("calendar")).expect("the .ics");
    assert_eq!(ics.attachment_name(), Some(format!("{reference}.ics").as_str()));
    let ics = ics.text_contents().expect("a text attachment");
    assert!(!ics.contains(token), "the calendar file carries no token:\n{ics}");
    assert!(ics.contains(&format!("UID:booking-{reference}@")), "{ics}");

    // The manage link is the booking's and opens it through the service; the token is in it,
    // nowhere else.
    let links = manage_links(&text);
    assert_eq!(links, [(reference.to_string(), token.to_string())]);
    let opened = client.get(&format!("/api/bookings/{reference}?token={token}")).unwrap();
    assert_eq!(opened.status, 200, "{}", opened.text());
    assert_eq!(opened.json()["reference"], reference);
    let token_uses = text.matches(token).count();
    let link_uses = text.matches(&format!("token={token}")).count();
    assert_eq!((token_uses, link_uses), (1, 1), "the manage link only:\n{text}");
    assert!(!html.replace(&format!("token={token}"), "").contains(token), "{html}");

    // A booking without an email sends nothing: the next message to arrive is the notice.
    book(&client, "No Mail", None, &["D4"]);
    let cancelled = client.send("DELETE", &format!("/api/bookings/{reference}?token={token}"), &[], None).unwrap();
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    sink.wait_event("received", PATIENCE);
    wait_all_sent(&fixture, 2);
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "one confirmation, one notice");
    let notice = parse(&messages[1]);
    assert!(notice.subject().unwrap().starts_with("Cancelled: Aurora"), "{:?}", notice.subject());
    assert!(notice.message_id().unwrap().starts_with("tiketa.cancellation."));
    let notice_text = notice.body_text(0).unwrap();
    assert!(notice_text.contains(reference) && notice_text.contains("released"), "{notice_text}");
    assert!(!notice_text.contains(token) && !notice.body_html(0).unwrap().contains(token));
}

fn a_booking_with_an_email_writes_one_eml_file_without_smtp(fixture: Fixture) {
    // No --smtp-url: .eml files in var/outbox beside the SQLite file (and, for PostgreSQL,
    // var/outbox in the working folder, which the tests' servers run in).
    let outbox = fixture.dir.path().join("var/outbox");
    let server = Server::start(&fixture, &[]);
    let client = Client::new(server.addr);
    let first = book(&client, "Dewi", Some("dewi@example.com"), &["C4"]);
    wait_for("one .eml file", PATIENCE, || (eml_files(&outbox).len() == 1).then_some(()));
    // Nothing for a booking without an email: the next file is the third booking's.
    book(&client, "No Mail", None, &["C5"]);
    let third = book(&client, "Ana", Some("ana@example.com"), &["C6"]);
    let files = wait_for("two .eml files", PATIENCE, || Some(eml_files(&outbox)).filter(|f| f.len() == 2));
    wait_all_sent(&fixture, 2);
    let file_name = Regex::new(r"^\d{8}-\d{6}-\d+-confirmation\.eml$").unwrap();
    let link = Regex::new(r"http://127\.0\.0\.1:8080/booking/\?ref=(TK-[0-9A-Z-]+)&token=[0-9a-f]+").unwrap();
    let mut about = HashSet::new();
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        assert!(file_name.is_match(&name), "{name}");
        let raw = std::fs::read(&file).unwrap();
        let message = parse(&raw);
        // The default sender: the cinema, at the site's host (site.toml's base_url).
        let from = message.from().unwrap().first().unwrap();
        assert_eq!((from.name(), from.address()), (Some("The Time Gallery"), Some("tickets@127.0.0.1")));
        let text = message.body_text(0).unwrap();
        assert!(link.is_match(&text), "{text}");
        about.insert(reference_of(&message));
    }
    let expected: HashSet<String> =
        [&first, &third].iter().map(|b| b["reference"].as_str().unwrap().to_string()).collect();
    assert_eq!(about, expected);
    // No temp file is left behind.
    let names: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

fn a_sigkill_between_commit_and_send_delivers_once_after_a_restart(fixture: Fixture) {
    let dir = fixture.dir.path();
    let Some(stalled) = SmtpSink::start(&dir.join("stalled"), Behaviour::Stall) else { return };
    let working = SmtpSink::start(&dir.join("working"), Behaviour::Accept { refuse_first: 0 }).unwrap();
    // A short lease, so the dead sender's claim runs out soon; a send may take most of it (and
    // should the kill come late, after the send timed out, the retry comes soon).
    let lease = ["--mail-lease", "3", "--smtp-timeout", "2.5", "--mail-retry", "0.5"].map(str::to_string);
    let mut first = Server::start(&fixture, &args(&[smtp_flags(&stalled), lease.to_vec()].concat()));
    let booked = book(&Client::new(first.addr), "Dewi", Some("dewi@example.com"), &["C4"]);
    // The sender is in the middle of the send: the server has its connection, and no answer.
    stalled.wait_event("connected", PATIENCE);
    first.kill();
    let c = counts(&fixture);
    assert_eq!((c.pending, c.sent), (1, 0), "committed, not sent");

    let second = Server::start(&fixture, &args(&[smtp_flags(&working), lease.to_vec()].concat()));
    working.wait_event("received", PATIENCE);
    wait_all_sent(&fixture, 1);
    drop(second);
    let messages = working.messages();
    assert_eq!(messages.len(), 1, "delivered once");
    assert_eq!(reference_of(&parse(&messages[0])), booked["reference"].as_str().unwrap());
    assert!(stalled.messages().is_empty());
}

fn a_refusing_smtp_server_is_retried_and_nothing_is_lost(fixture: Fixture) {
    const BOOKINGS: usize = 5;
    let Some(sink) = SmtpSink::start(&fixture.dir.path().join("smtp"), Behaviour::Accept { refuse_first: 3 }) else {
        return;
    };
    let log = fixture.dir.path().join("service.log");
    let flags = [smtp_flags(&sink), ["--mail-retry", "0.2"].map(str::to_string).to_vec()].concat();
    let server = Server::start_with(&fixture, &args(&flags), |command| {
        command.stderr(std::fs::File::create(&log).unwrap());
    });
    let client = Client::new(server.addr);
    let seats: Vec<String> = fixture.catalog().seat_map.seat_ids().take(BOOKINGS).map(str::to_string).collect();
    let booked: Vec<Value> = seats
        .iter()
        .enumerate()
        .map(|(i, seat)| book(&client, &format!("B{i}"), Some("b@example.com"), &[seat]))
        .collect();
    wait_all_sent(&fixture, BOOKINGS as u64);
    let received: Vec<String> = sink.messages().iter().map(|raw| reference_of(&parse(raw))).collect();
    let mut expected: Vec<String> = booked.iter().map(|b| b["reference"].as_str().unwrap().to_string()).collect();
    let mut got = received.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "every booking's confirmation, each once");
    // Each refusal is in the log with the message's id and the server's words, never a token.
    let text = std::fs::read_to_string(&log).unwrap();
    let refusals: Vec<&str> = text.lines().filter(|l| l.contains("mail not delivered")).collect();
    assert_eq!(refusals.len(), 3, "{text}");
    assert!(refusals.iter().all(|l| l.contains("451") && l.contains("mail=")), "{text}");
    for b in &booked {
        assert!(!text.contains(b["manage_token"].as_str().unwrap()), "a token in the log:\n{text}");
    }
}

fn two_instances_deliver_each_message_once(fixture: Fixture) {
    const BOOKINGS: usize = 40;
    let Some(sink) = SmtpSink::start(&fixture.dir.path().join("smtp"), Behaviour::Accept { refuse_first: 0 }) else {
        return;
    };
    let mut pair = Pair::start(&fixture, &args(&smtp_flags(&sink)));
    let seats: Vec<String> = fixture.catalog().seat_map.seat_ids().take(BOOKINGS).map(str::to_string).collect();
    let booked: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = [0, 1]
            .map(|half| {
                let (addr, seats) = (pair.nth(half).addr, &seats);
                s.spawn(move || {
                    let client = Client::new(addr);
                    (half..BOOKINGS)
                        .step_by(2)
                        .map(|i| book(&client, &format!("Guest {i}"), Some("guest@example.com"), &[&seats[i]]))
                        .collect::<Vec<_>>()
                })
            })
            .into_iter()
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    wait_all_sent(&fixture, BOOKINGS as u64);
    // Both stop cleanly (each finishes the send in hand), so nothing more can arrive.
    assert!(pair.a.terminate() && pair.b.terminate());
    let messages = sink.messages();
    let mut by_reference: HashMap<String, usize> = HashMap::new();
    let mut ids = HashSet::new();
    for raw in &messages {
        let message = parse(raw);
        assert!(ids.insert(message.message_id().unwrap().to_string()), "a Message-ID twice");
        *by_reference.entry(reference_of(&message)).or_default() += 1;
    }
    assert_eq!(messages.len(), BOOKINGS, "each message once");
    for b in &booked {
        assert_eq!(by_reference.get(b["reference"].as_str().unwrap()), Some(&1));
    }
}

fn a_recovery_message_carries_links_that_open_the_bookings(fixture: Fixture) {
    let Some(sink) = SmtpSink::start(&fixture.dir.path().join("smtp"), Behaviour::Accept { refuse_first: 0 }) else {
        return;
    };
    let server = Server::start(&fixture, &args(&smtp_flags(&sink)));
    let client = Client::new(server.addr);
    let mine = [
        book(&client, "Dewi", Some("dewi@example.com"), &["C4"]),
        book(&client, "Dewi", Some("Dewi@Example.com"), &["C5"]),
    ];
    book(&client, "Ana", Some("ana@example.com"), &["C6"]);
    wait_all_sent(&fixture, 3);
    // What `POST /api/bookings/recover` does after its reply; the sender finds it by itself.
    let recovered =
        fixture.store().run(|s| s.recover(Recovery { email: "DEWI@example.com".into(), now: common::now() }));
    assert_eq!(recovered.unwrap(), 2);
    wait_all_sent(&fixture, 4);
    let messages = sink.messages();
    assert_eq!(messages.len(), 4);
    let message = parse(&messages[3]);
    assert_eq!(message.subject(), Some("Your bookings at The Time Gallery"));
    assert!(message.message_id().unwrap().starts_with("tiketa.recovery."));
    let to = message.to().unwrap().first().unwrap();
    // To the address as it was asked for (the store matched it ignoring case).
    assert_eq!((to.name(), to.address()), (None, Some("DEWI@example.com")));
    let text = message.body_text(0).unwrap();
    let links = manage_links(&text);
    let mut references: Vec<&str> = links.iter().map(|(r, _)| r.as_str()).collect();
    references.sort();
    let mut expected: Vec<&str> = mine.iter().map(|b| b["reference"].as_str().unwrap()).collect();
    expected.sort();
    assert_eq!(references, expected, "one link per booking of the address:\n{text}");
    for (reference, token) in &links {
        let booked = mine.iter().find(|b| b["reference"] == reference.as_str()).unwrap();
        assert_ne!(token, booked["manage_token"].as_str().unwrap(), "a fresh token");
        let opened = client.get(&format!("/api/bookings/{reference}?token={token}")).unwrap();
        assert_eq!(opened.status, 200, "{}", opened.text());
        assert_eq!(opened.json()["reference"], reference.as_str());
        // The booker's own link keeps working.
        let own = booked["manage_token"].as_str().unwrap();
        let reference = booked["reference"].as_str().unwrap();
        assert_eq!(client.get(&format!("/api/bookings/{reference}?token={own}")).unwrap().status, 200);
    }
}

#[test]
fn a_missing_mail_setting_stops_the_start_saying_what_to_do() {
    let fixture = Fixture::new();
    let start = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tiketa-booking"))
            .args(["--db", fixture.db().to_str().unwrap(), "--content", fixture.content().to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("SMTP_URL")
            .env_remove("MAIL_FROM")
            .output()
            .unwrap()
    };
    let out = start(&["--smtp-url", "smtp://127.0.0.1:2525"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mail-from"), "{}", String::from_utf8_lossy(&out.stderr));
    let file = fixture.dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = start(&["--outbox-dir", file.join("outbox").to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot create the mail folder") && stderr.contains("--outbox-dir"), "{stderr}");
}
