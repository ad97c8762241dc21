//! `GET /metrics` on the real binary over real HTTP: refused without the operator's token,
//! never readable from the public site's origin, and with the token the Prometheus text format,
//! read back with a strict parser, whose counters equal what the test did through the API.

#[macro_use]
mod common;

use common::{Fixture, SHOW, Server, booking};
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{HistogramValue, MetricsExposition, PrometheusType, PrometheusValue};
use serde_json::{Value, json};
use test_support::{Client, EventStream, Reply};

const OPERATOR_TOKEN: &str = "metrics-test-operator-token-0123";
const JSON: (&str, &str) = ("content-type", "application/json");

on_both_stores!(the_counters_equal_what_was_done);

/// A scrape, parsed.
struct Scrape(MetricsExposition<PrometheusType, PrometheusValue>);

impl Scrape {
    fn of(reply: &Reply) -> Scrape {
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.header("content-type"), Some("text/plain; version=0.0.4"));
        let text = reply.text();
        Scrape(parse_prometheus(&text).unwrap_or_else(|e| panic!("not the Prometheus text format ({e:?}):\n{text}")))
    }

    /// The value of `family`'s sample with `labels`.
    fn value(&self, family: &str, labels: &[(&str, &str)]) -> PrometheusValue {
        let family_ = self.0.families.get(family).unwrap_or_else(|| panic!("no metric {family}"));
        family_
            .iter_samples()
            .find(|s| {
                let set = s.get_labelset().unwrap();
                labels.iter().all(|(name, value)| set.get_label_value(name) == Some(value))
            })
            .unwrap_or_else(|| panic!("no {family} with {labels:?}"))
            .value
            .clone()
    }

    /// A counter's or a gauge's value.
    fn number(&self, family: &str, labels: &[(&str, &str)]) -> f64 {
        match self.value(family, labels) {
            PrometheusValue::Counter(c) => c.value.as_f64(),
            PrometheusValue::Gauge(n) => n.as_f64(),
            other => panic!("{family} is not a counter or a gauge: {other:?}"),
        }
    }

    fn histogram(&self, family: &str, labels: &[(&str, &str)]) -> HistogramValue {
        match self.value(family, labels) {
            PrometheusValue::Histogram(h) => h,
            other => panic!("{family} is not a histogram: {other:?}"),
        }
    }

    /// Every label value of every sample.
    fn label_values(&self) -> Vec<String> {
        self.0
            .families
            .values()
            .flat_map(|f| {
                f.iter_samples().map(|s| s.get_labelset().unwrap().iter_values().cloned().collect::<Vec<_>>())
            })
            .flatten()
            .collect()
    }
}

fn scrape(client: &Client) -> Scrape {
    Scrape::of(
        &client.send("GET", "/metrics", &[("authorization", &format!("Bearer {OPERATOR_TOKEN}"))], None).unwrap(),
    )
}

fn book(client: &Client, seats: &[&str], headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![JSON];
    all.extend_from_slice(headers);
    client.send("POST", &format!("/api/showtimes/{SHOW}/bookings"), &all, Some(&booking("Ana Lima", seats))).unwrap()
}

fn holds(client: &Client, method: &str, body: Value) -> Reply {
    client.send(method, &format!("/api/showtimes/{SHOW}/holds"), &[JSON], Some(body.to_string().as_bytes())).unwrap()
}

fn code(reply: &Reply) -> (u16, String) {
    (reply.status, reply.json()["error"]["code"].as_str().unwrap_or_default().to_string())
}

#[test]
fn without_the_operator_token_the_metrics_are_refused() {
    let f = Fixture::new();
    let server = Server::start(&f, &["--operator-token", OPERATOR_TOKEN]);
    let client = Client::new(server.addr);
    for authorization in [None, Some("Bearer wrong-token-0123456789"), Some(OPERATOR_TOKEN), Some("Basic b3A6b3A=")] {
        let headers: Vec<(&str, &str)> = authorization.map(|a| ("authorization", a)).into_iter().collect();
        for method in ["GET", "HEAD", "POST"] {
            // An empty body, not none: without one the client sends a chunked body whose end
            // may come after the refusal, and the server then closes the connection.
            let body = (method == "POST").then_some(&b""[..]);
            let reply = client
                .send(method, "/metrics", &headers, body)
                .unwrap_or_else(|e| panic!("{method} with {authorization:?}: no reply: {e}"));
            assert_eq!(reply.status, 401, "{method} with {authorization:?}");
            assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"tiketa-operator\""));
            if method != "HEAD" {
                assert_eq!(code(&reply).1, "operator_token_required");
                assert!(!reply.text().contains("tiketa_"), "no metric leaks into a refusal");
            }
        }
    }
    let bearer = format!("Bearer {OPERATOR_TOKEN}");
    assert_eq!(client.send("GET", "/metrics", &[("authorization", &bearer)], None).unwrap().status, 200);
    assert_eq!(client.send("HEAD", "/metrics", &[("authorization", &bearer)], None).unwrap().status, 200);
    let post = client.send("POST", "/metrics", &[("authorization", &bearer)], Some(b"")).unwrap();
    assert_eq!(code(&post), (405, "method_not_allowed".into()));

    // No token configured: the door is shut, and says how to open it.
    let unconfigured = Server::start(&f, &[]);
    let reply = Client::new(unconfigured.addr).send("GET", "/metrics", &[("authorization", &bearer)], None).unwrap();
    assert_eq!(code(&reply), (401, "operator_token_required".into()));
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("TIKETA_OPERATOR_TOKEN"));
}

#[test]
fn the_public_sites_origin_can_never_read_the_metrics() {
    let f = Fixture::new();
    let origin = f.catalog().settings.base_url;
    let server = Server::start(&f, &["--operator-token", OPERATOR_TOKEN]);
    let client = Client::new(server.addr);
    // The same origin is allowed on the public API, so the refusal below is the operator route's.
    let public = client.send("GET", "/api/showtimes", &[("origin", origin.as_str())], None).unwrap();
    assert_eq!(public.header("access-control-allow-origin"), Some(origin.as_str()));
    let bearer = format!("Bearer {OPERATOR_TOKEN}");
    let reply = client.send("GET", "/metrics", &[("origin", &origin), ("authorization", &bearer)], None).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), None);
    let refused = client.send("GET", "/metrics", &[("origin", origin.as_str())], None).unwrap();
    assert_eq!((refused.status, refused.header("access-control-allow-origin")), (401, None));
    let preflight = client
        .send(
            "OPTIONS",
            "/metrics",
            &[
                ("origin", origin.as_str()),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization"),
            ],
            None,
        )
        .unwrap();
    assert_eq!(preflight.header("access-control-allow-origin"), None, "status {}", preflight.status);
}

fn the_counters_equal_what_was_done(f: Fixture) {
    let server = Server::start(&f, &["--operator-token", OPERATOR_TOKEN]);
    let client = Client::new(server.addr);
    assert_eq!(client.get("/metrics").unwrap().status, 401);

    // Four bookings of seven seats, one of them sent twice under one Idempotency-Key.
    let mut placed = Vec::new();
    for seats in [&["A1", "A2"][..], &["B1"], &["C1", "C2", "C3"]] {
        let reply = book(&client, seats, &[]);
        assert_eq!(reply.status, 201, "{}", reply.text());
        placed.push(reply.json());
    }
    for _ in 0..2 {
        assert_eq!(book(&client, &["E1"], &[("idempotency-key", "metrics-once")]).status, 201);
    }
    // Two conflicts: a taken seat, and a seat under another visitor's hold.
    assert_eq!(code(&book(&client, &["A1"], &[])), (409, "seats_taken".into()));
    let hold = holds(&client, "POST", json!({"seats": ["D1"]}));
    assert_eq!(hold.status, 200, "{}", hold.text());
    assert_eq!(code(&book(&client, &["D1"], &[])), (409, "seats_held".into()));
    // Hold changes: one made (above), one refused, one given back.
    assert_eq!(code(&holds(&client, "POST", json!({"seats": ["A2"]}))), (409, "seats_taken".into()));
    let token = hold.json()["hold_token"].as_str().unwrap().to_string();
    assert_eq!(holds(&client, "DELETE", json!({"hold_token": token})).status, 200);
    // A cancellation by the booker.
    let reference = placed[2]["reference"].as_str().unwrap();
    let manage_token = placed[2]["manage_token"].as_str().unwrap();
    let cancelled = client
        .send("DELETE", &format!("/api/bookings/{reference}"), &[("x-manage-token", manage_token)], None)
        .unwrap();
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    // An open event stream, and a path no route knows.
    let stream = EventStream::open(server.addr, &format!("/api/showtimes/{SHOW}/events"), None).unwrap();
    assert_eq!(stream.status, 200);
    assert_eq!(client.get(&format!("/films/{SHOW}/")).unwrap().status, 404);

    let m = scrape(&client);
    assert_eq!(m.number("tiketa_bookings_placed_total", &[]), 4.0, "the replay is not a booking");
    assert_eq!(m.number("tiketa_seats_booked_total", &[]), 7.0);
    assert_eq!(m.number("tiketa_booking_conflicts_total", &[("reason", "seats_taken")]), 1.0);
    assert_eq!(m.number("tiketa_booking_conflicts_total", &[("reason", "seats_held")]), 1.0);
    assert_eq!(m.number("tiketa_cancellations_total", &[("by", "booker")]), 1.0);
    assert_eq!(m.number("tiketa_cancellations_total", &[("by", "operator")]), 0.0);
    let hold_changes =
        |action, outcome| m.number("tiketa_hold_changes_total", &[("action", action), ("outcome", outcome)]);
    assert_eq!(
        (hold_changes("hold", "ok"), hold_changes("hold", "seats_taken"), hold_changes("release", "ok")),
        (1.0, 1.0, 1.0)
    );
    let bookings_route = "/api/showtimes/{id}/bookings";
    let requests = |method, route, status| {
        m.number("tiketa_http_requests_total", &[("method", method), ("route", route), ("status", status)])
    };
    assert_eq!(requests("POST", bookings_route, "201"), 5.0);
    assert_eq!(requests("POST", bookings_route, "409"), 2.0);
    assert_eq!(requests("DELETE", "/api/bookings/{reference}", "200"), 1.0);
    assert_eq!(requests("POST", "/api/showtimes/{id}/holds", "200"), 1.0);
    assert_eq!(requests("GET", "/api/showtimes/{id}/events", "200"), 1.0);
    assert_eq!(requests("GET", "/metrics", "401"), 1.0);
    assert_eq!(requests("GET", "unmatched", "404"), 1.0);
    let latency = m.histogram("tiketa_http_request_duration_seconds", &[("route", bookings_route)]);
    assert_eq!(latency.count, Some(7));
    assert!(latency.buckets.iter().any(|b| b.upper_bound.is_infinite() && b.count.as_f64() == 7.0));
    assert_eq!(m.number("tiketa_event_streams_open", &[]), 1.0);
    assert_eq!(m.number("tiketa_outbox_messages", &[("state", "failing")]), 0.0);
    // Every booking write went through a commit the store reported.
    let writes = m.histogram("tiketa_store_commit_writes", &[]);
    let commits = m.histogram("tiketa_store_commit_duration_seconds", &[]);
    assert!(writes.count.unwrap() >= 1 && writes.count == commits.count, "{writes:?} {commits:?}");
    assert!(writes.sum.unwrap().as_f64() >= 5.0, "four bookings and a cancellation at least: {writes:?}");
    // No id, reference or token ever becomes a label.
    for value in m.label_values() {
        assert!(
            !value.contains(SHOW) && !value.contains(reference) && !value.contains(manage_token),
            "a raw value in a label: {value}"
        );
    }

    drop(stream);
    let again = scrape(&client);
    assert_eq!(
        again.number("tiketa_http_requests_total", &[("method", "GET"), ("route", "/metrics"), ("status", "200")]),
        1.0,
        "the first scrape is counted once answered"
    );
}
