//! One page's stream: a snapshot, then only what changed since the last event it was sent.
//!
//! The stream follows its showtime's watch channel and diffs each new state against the one
//! it last sent, so a page that missed an intermediate state (the hub published twice before
//! this stream was polled) still ends up right. It resumes without a snapshot when the page's
//! `Last-Event-ID` names the current state, ends with `closed` when the showtime starts, and
//! ends at once when the service stops (the page reconnects, to another instance if this one
//! is going away).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use serde_json::json;
use tokio::sync::watch;
use warp::sse::Event;

use super::hub::{Seen, Watch};
use super::state::SeatState;

/// How long a browser waits before reconnecting a dropped stream.
pub const RETRY: Duration = Duration::from_secs(2);

/// Where a stream is.
enum Phase {
    /// Nothing sent yet.
    Start {
        last_event_id: Option<String>,
    },
    /// The page shows this state.
    Showing(Arc<SeatState>),
    Done,
}

struct Stream_<K> {
    /// Keeps the showtime watched while this stream is open.
    _channel: Arc<Watch>,
    states: watch::Receiver<Seen>,
    stopping: watch::Receiver<bool>,
    phase: Phase,
    /// Kept for as long as the stream lives (the connection's note that a stream is open).
    _keep: K,
}

/// The events of one stream. `keep` lives as long as the stream.
pub fn events<K: Send + Sync + 'static>(
    channel: Arc<Watch>,
    states: watch::Receiver<Seen>,
    stopping: watch::Receiver<bool>,
    last_event_id: Option<String>,
    keep: K,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + Sync + 'static {
    let start = Stream_ { _channel: channel, states, stopping, phase: Phase::Start { last_event_id }, _keep: keep };
    futures_util::stream::unfold(start, |mut stream| async move {
        let event = stream.next().await?;
        Some((Ok(event), stream))
    })
}

impl<K> Stream_<K> {
    /// The next event to send; `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.stopping.borrow() {
                return None;
            }
            let seen = self.states.borrow_and_update().clone();
            let phase = std::mem::replace(&mut self.phase, Phase::Done);
            match (phase, seen) {
                (Phase::Done, _) => return None,
                (_, Seen::Closed) => return Some(closed()),
                (Phase::Start { last_event_id }, Seen::Open(state)) => {
                    self.phase = Phase::Showing(state.clone());
                    if last_event_id.as_deref() == Some(state.version()) {
                        // Nothing was missed: only tell the browser how soon to reconnect.
                        return Some(Event::default().retry(RETRY));
                    }
                    return Some(snapshot(&state));
                }
                (Phase::Showing(shown), Seen::Open(state)) => {
                    self.phase = Phase::Showing(state.clone());
                    if let Some(change) = shown.change_to(&state) {
                        return Some(
                            Event::default()
                                .event("change")
                                .json_data(change)
                                .expect("a change serialises")
                                .id(state.version()),
                        );
                    }
                }
                (phase, Seen::Pending) => self.phase = phase,
            }
            tokio::select! {
                biased;
                _ = self.stopping.changed() => return None,
                changed = self.states.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
            }
        }
    }
}

fn snapshot(state: &SeatState) -> Event {
    Event::default()
        .event("snapshot")
        .json_data(state.snapshot())
        .expect("a snapshot serialises")
        .id(state.version())
        .retry(RETRY)
}

fn closed() -> Event {
    Event::default().event("closed").data(json!({"reason": "started"}).to_string())
}
