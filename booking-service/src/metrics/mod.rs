//! Watching the service run: the counters, gauges and histograms that `GET /metrics` serves in
//! the Prometheus text format ([`route`]).
//!
//! Every [`crate::App`] has its own [`Metrics`] with its own registry, never the `prometheus`
//! crate's global one: tests build many apps in one process, and each must count only its own
//! requests. What is counted where:
//! - bookings, conflicts, cancellations and hold changes: by their handlers in [`crate::api`],
//!   once the desk has answered (a replayed booking is not a new one);
//! - requests by route and status, and their latency: by the accept loop as each reply is ready
//!   (see [`crate::access_log`]), labelled by route template, never by raw path, so that ids,
//!   references and tokens never become label values;
//! - the store's commits: by the store itself, through [`commits::CommitMetrics`];
//! - open event streams and the outbox: read when scraped, so they cannot drift.
//!
//! Counters are this process's since it started (Prometheus sums instances and handles
//! restarts); the outbox gauges are the database's, the same on every instance.

pub mod commits;
pub mod route;

use std::time::Duration;

use cinema::booking::BookingError;
use cinema::box_office::CancelledBy;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use self::commits::CommitMetrics;

/// Every metric of one app, and the registry that serves them.
pub struct Metrics {
    registry: Registry,
    bookings: IntCounter,
    seats_booked: IntCounter,
    conflicts: IntCounterVec,
    cancellations: IntCounterVec,
    holds: IntCounterVec,
    requests: IntCounterVec,
    latency: HistogramVec,
    commit_writes: Histogram,
    commit_latency: Histogram,
    event_streams: IntGauge,
    outbox: IntGaugeVec,
}

/// The booking refusals counted as conflicts: the seats someone else has, by the error code
/// the client was sent. Listed so that each starts at 0 rather than appearing on first use.
const CONFLICTS: [&str; 2] = ["seats_taken", "seats_held"];

/// Request latency buckets, in seconds: a seat map from memory takes well under a millisecond,
/// a booking waits for a commit (milliseconds), a slow disk or network much longer.
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Writes per commit: 1 when bookings come one by one, more when the writer groups a burst.
const WRITES_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("tiketa".into()), None).expect("a valid metrics prefix");
        let metrics = Metrics {
            bookings: IntCounter::new("bookings_placed_total", "Bookings placed (replays of an Idempotency-Key excluded).")
                .expect("a valid metric"),
            seats_booked: IntCounter::new("seats_booked_total", "Seats in the bookings placed.").expect("a valid metric"),
            conflicts: IntCounterVec::new(
                Opts::new("booking_conflicts_total", "Bookings refused because a seat was taken or held, by reason."),
                &["reason"],
            )
            .expect("a valid metric"),
            cancellations: IntCounterVec::new(
                Opts::new("cancellations_total", "Bookings cancelled through this instance, by who cancelled."),
                &["by"],
            )
            .expect("a valid metric"),
            holds: IntCounterVec::new(
                Opts::new(
                    "hold_changes_total",
                    "Hold requests (action: hold or release), by outcome (ok, or the error code sent).",
                ),
                &["action", "outcome"],
            )
            .expect("a valid metric"),
            requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests answered, by method, route template and status."),
                &["method", "route", "status"],
            )
            .expect("a valid metric"),
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time from a request's arrival to its reply's head being ready, by route template.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["route"],
            )
            .expect("a valid metric"),
            commit_writes: Histogram::with_opts(
                HistogramOpts::new("store_commit_writes", "Booking writes (bookings, holds, cancellations) per commit.")
                    .buckets(WRITES_BUCKETS.to_vec()),
            )
            .expect("a valid metric"),
            commit_latency: Histogram::with_opts(
                HistogramOpts::new("store_commit_duration_seconds", "How long the store's commits of booking writes take.")
                    .buckets(LATENCY_BUCKETS.to_vec()),
            )
            .expect("a valid metric"),
            event_streams: IntGauge::new("event_streams_open", "Live-seat event streams open on this instance.")
                .expect("a valid metric"),
            outbox: IntGaugeVec::new(
                Opts::new(
                    "outbox_messages",
                    "Mail in the outbox not sent yet (pending), and of those the ones that failed at least once (failing).",
                ),
                &["state"],
            )
            .expect("a valid metric"),
            registry,
        };
        metrics.register_all();
        for reason in CONFLICTS {
            metrics.conflicts.with_label_values(&[reason]);
        }
        for by in [CancelledBy::Booker, CancelledBy::Operator] {
            metrics.cancellations.with_label_values(&[by.as_str()]);
        }
        metrics
    }

    fn register_all(&self) {
        let collectors: [Box<dyn prometheus::core::Collector>; 11] = [
            Box::new(self.bookings.clone()),
            Box::new(self.seats_booked.clone()),
            Box::new(self.conflicts.clone()),
            Box::new(self.cancellations.clone()),
            Box::new(self.holds.clone()),
            Box::new(self.requests.clone()),
            Box::new(self.latency.clone()),
            Box::new(self.commit_writes.clone()),
            Box::new(self.commit_latency.clone()),
            Box::new(self.event_streams.clone()),
            Box::new(self.outbox.clone()),
        ];
        for collector in collectors {
            self.registry.register(collector).expect("every metric is registered once, under its own name");
        }
    }

    /// A booking of `seats` seats was placed (not a replay).
    pub fn booked(&self, seats: usize) {
        self.bookings.inc();
        self.seats_booked.inc_by(seats as u64);
    }

    /// A booking was refused: counted if it was a conflict over seats.
    pub fn booking_refused(&self, error: &BookingError) {
        let code = error.code().as_str();
        if CONFLICTS.contains(&code) {
            self.conflicts.with_label_values(&[code]).inc();
        }
    }

    /// A booking was cancelled by `by`.
    pub fn cancelled(&self, by: CancelledBy) {
        self.cancellations.with_label_values(&[by.as_str()]).inc();
    }

    /// A hold request (`action`: `hold` or `release`) was answered: with its hold, or refused.
    pub fn hold_changed(&self, action: &'static str, refused: Option<&BookingError>) {
        let outcome = refused.map_or("ok", |e| e.code().as_str());
        self.holds.with_label_values(&[action, outcome]).inc();
    }

    /// A request to `route` was answered with `status` after `latency`.
    pub fn answered(&self, method: &str, route: &str, status: u16, latency: Duration) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[route]).observe(latency.as_secs_f64());
    }

    /// What the store tells of its commits goes here.
    pub fn commits(&self) -> CommitMetrics {
        CommitMetrics::new(self.commit_writes.clone(), self.commit_latency.clone())
    }

    /// Every metric in the Prometheus text format, with the gauges read at scrape time set to
    /// `streams` and `outbox` (pending, failing; `None` when the store could not say).
    pub fn render(&self, streams: usize, outbox: Option<(u64, u64)>) -> String {
        self.event_streams.set(i64::try_from(streams).unwrap_or(i64::MAX));
        if let Some((pending, failing)) = outbox {
            self.outbox.with_label_values(&["pending"]).set(i64::try_from(pending).unwrap_or(i64::MAX));
            self.outbox.with_label_values(&["failing"]).set(i64::try_from(failing).unwrap_or(i64::MAX));
        }
        prometheus::TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .expect("the text format encodes every metric")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_served_with_the_prefix_and_starting_labels() {
        let metrics = Metrics::new();
        metrics.booked(3);
        metrics.booking_refused(&BookingError::SeatsTaken(vec!["A1".into()]));
        metrics.booking_refused(&BookingError::NoSeats { max: 8 });
        metrics.hold_changed("hold", None);
        metrics.answered("GET", "/api/health", 200, Duration::from_millis(2));
        let text = metrics.render(2, Some((5, 1)));
        for line in [
            "tiketa_bookings_placed_total 1",
            "tiketa_seats_booked_total 3",
            "tiketa_booking_conflicts_total{reason=\"seats_taken\"} 1",
            "tiketa_booking_conflicts_total{reason=\"seats_held\"} 0",
            "tiketa_cancellations_total{by=\"operator\"} 0",
            "tiketa_hold_changes_total{action=\"hold\",outcome=\"ok\"} 1",
            "tiketa_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"} 1",
            "tiketa_http_request_duration_seconds_count{route=\"/api/health\"} 1",
            "tiketa_event_streams_open 2",
            "tiketa_outbox_messages{state=\"pending\"} 5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing from:\n{text}");
        }
        assert!(!text.contains("no_seats"), "only conflicts are counted as conflicts");
    }
}
