//! The access log of the real binary, read from its stderr: one JSON object per line with
//! `--log-format json`, one event per request, and never a secret: not a manage token (sent in
//! `?token=` or in `X-Manage-Token`), not a hold token (in bodies), not the operator's token
//! (in `Authorization`). In text format with stderr piped, no colour codes.

mod common;

use std::io::Read;
use std::process::Stdio;

use common::{Fixture, SHOW, Server, booking};
use serde_json::{Value, json};
use test_support::Client;

const OPERATOR_TOKEN: &str = "access-log-operator-token-0123";

/// The server's whole log (stderr) while `work` runs against it at `info`, with `flags`.
fn log_of(flags: &[&str], work: impl FnOnce(&Client)) -> String {
    let f = Fixture::new();
    let mut args = vec!["--operator-token", OPERATOR_TOKEN];
    args.extend_from_slice(flags);
    let mut server = Server::start_with(&f, &args, |command| {
        command.env("RUST_LOG", "info").stderr(Stdio::piped());
    });
    let mut stderr = server.child.stderr.take().unwrap();
    // Read as it comes, so the server never blocks on a full pipe; the log ends when it exits.
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        stderr.read_to_string(&mut log).unwrap();
        log
    });
    work(&Client::new(server.addr));
    assert!(server.terminate(), "the server stops cleanly");
    reader.join().unwrap()
}

#[test]
fn the_json_access_log_has_every_request_and_no_token() {
    let mut secrets = Vec::new();
    let mut reference = String::new();
    let log = log_of(&["--log-format", "json"], |client| {
        let json_type = [("content-type", "application/json")];
        let made = client
            .send("POST", &format!("/api/showtimes/{SHOW}/bookings"), &json_type, Some(&booking("Ana Lima", &["A1"])))
            .unwrap();
        assert_eq!(made.status, 201, "{}", made.text());
        reference = made.json()["reference"].as_str().unwrap().to_string();
        let token = made.json()["manage_token"].as_str().unwrap().to_string();
        let hold = client
            .send("POST", &format!("/api/showtimes/{SHOW}/holds"), &json_type, Some(br#"{"seats": ["B1"]}"#))
            .unwrap();
        let hold_token = hold.json()["hold_token"].as_str().unwrap().to_string();
        let release = json!({ "hold_token": hold_token }).to_string();
        let released =
            client.send("DELETE", &format!("/api/showtimes/{SHOW}/holds"), &json_type, Some(release.as_bytes()));
        assert_eq!(released.unwrap().status, 200);
        let booking_path = format!("/api/bookings/{reference}");
        for (method, path, headers) in [
            ("GET", format!("{booking_path}?token={token}"), vec![]),
            ("GET", booking_path.clone(), vec![("x-manage-token", token.as_str())]),
            ("GET", format!("{booking_path}/calendar.ics?lang=en&token={token}"), vec![]),
            ("GET", format!("{booking_path}?%74oken={token}"), vec![]),
            ("DELETE", format!("{booking_path}?token={token}"), vec![]),
        ] {
            let reply = client.send(method, &path, &headers, None).unwrap();
            assert!(matches!(reply.status, 200 | 404), "{method} {path}: {}", reply.status);
        }
        let bearer = format!("Bearer {OPERATOR_TOKEN}");
        assert_eq!(client.send("GET", "/metrics", &[("authorization", &bearer)], None).unwrap().status, 200);
        secrets.extend([token, hold_token]);
    });
    secrets.push(OPERATOR_TOKEN.to_string());
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a token in the log ({secret}):\n{log}");
    }
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["target"] == "access").collect();
    let seen: Vec<(&str, &str, &str, u64)> = requests
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                r["route"].as_str().unwrap(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let booking_path = format!("/api/bookings/{reference}");
    let (bookings, holds) = (format!("/api/showtimes/{SHOW}/bookings"), format!("/api/showtimes/{SHOW}/holds"));
    let expected = [
        ("POST", bookings, "/api/showtimes/{id}/bookings", 201),
        ("POST", holds.clone(), "/api/showtimes/{id}/holds", 200),
        ("DELETE", holds, "/api/showtimes/{id}/holds", 200),
        ("GET", format!("{booking_path}?token=[redacted]"), "/api/bookings/{reference}", 200),
        ("GET", booking_path.clone(), "/api/bookings/{reference}", 200),
        (
            "GET",
            format!("{booking_path}/calendar.ics?lang=en&token=[redacted]"),
            "/api/bookings/{reference}/calendar.ics",
            200,
        ),
        ("GET", format!("{booking_path}?%74oken=[redacted]"), "/api/bookings/{reference}", 404),
        ("DELETE", format!("{booking_path}?token=[redacted]"), "/api/bookings/{reference}", 200),
        ("GET", "/metrics".into(), "/metrics", 200),
    ];
    let expected: Vec<(&str, &str, &str, u64)> = expected.iter().map(|(m, p, r, s)| (*m, p.as_str(), *r, *s)).collect();
    assert_eq!(seen, expected, "one event per request, in order");
    for request in &requests {
        assert_eq!(request["level"], "INFO");
        assert_eq!(request["client"], "127.0.0.1");
        assert!(request["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{request}");
        assert!(request["timestamp"].is_string(), "{request}");
    }
    assert!(requests[0]["bytes"].as_u64().is_some_and(|b| b > 100), "a booking reply's size: {}", requests[0]);
}

#[test]
fn the_text_log_has_no_colour_codes_when_stderr_is_not_a_terminal() {
    let log = log_of(&[], |client| {
        let made = client
            .send(
                "POST",
                &format!("/api/showtimes/{SHOW}/bookings"),
                &[("content-type", "application/json")],
                Some(&booking("Ana Lima", &["A1"])),
            )
            .unwrap();
        assert_eq!(made.status, 201);
    });
    assert!(!log.contains("\x1b["), "colour codes in a piped log:\n{log:?}");
    let request = log.lines().find(|l| l.contains(" access: ")).unwrap_or_else(|| panic!("no access line:\n{log}"));
    for part in ["INFO", "method=POST", "route=/api/showtimes/{id}/bookings", "status=201", "client=127.0.0.1"] {
        assert!(request.contains(part), "{part:?} not in {request:?}");
    }
    // The other lines are text too, not JSON.
    assert!(log.lines().any(|l| l.contains("serving") && !l.starts_with('{')), "{log}");
}
