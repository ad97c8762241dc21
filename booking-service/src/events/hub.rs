//! The fan-out: one change-feed subscriber per process, one watch channel per watched showtime.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cinema::booking::decide::is_closed;
use cinema::booking::{BookingError, Desk, ShowtimeSeats};
use cinema::schedule::ShowtimeId;
use cinema::store::ChangeStream;
use cinema::store::changes::Received;
use futures_util::FutureExt;
use tokio::sync::{Notify, watch};

use super::state::SeatState;
use crate::clock::Clock;

/// What the streams of one showtime are told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Not read yet (only while the first stream of a showtime opens).
    Pending,
    Open(Arc<SeatState>),
    /// Started, archived or gone: the streams end.
    Closed,
}

/// The channel of one watched showtime, alive while a stream holds it.
pub struct Watch {
    id: ShowtimeId,
    sender: watch::Sender<Seen>,
    /// The seats last read, to publish again as their holds end (never re-read for that).
    read: Mutex<Option<ShowtimeSeats>>,
    /// Held while reading and publishing, so that a later read is never overwritten by an
    /// earlier one (the first stream's read racing the fan-out's).
    refreshing: tokio::sync::Mutex<()>,
}

/// Live seats for every open stream of this process.
pub struct Hub {
    desk: Arc<Desk>,
    clock: Clock,
    watched: Mutex<HashMap<ShowtimeId, Weak<Watch>>>,
    /// Tells the fan-out that a showtime is newly watched (its holds may end sooner).
    added: Notify,
    /// The fan-out, started with the first stream.
    fan_out: OnceLock<()>,
    /// Where the fan-out's changes come from: the store's change feed (a test gives its own).
    subscribe: Box<dyn Fn() -> ChangeStream + Send + Sync>,
    /// True once the service is stopping: every stream ends.
    stopping: watch::Sender<bool>,
}

impl Hub {
    pub fn new(desk: Arc<Desk>, clock: Clock) -> Arc<Self> {
        let store = desk.store().clone();
        Self::with_changes(desk, clock, Box::new(move || store.changes()))
    }

    /// A hub whose fan-out subscribes with `subscribe` instead of to the store's feed.
    fn with_changes(
        desk: Arc<Desk>,
        clock: Clock,
        subscribe: Box<dyn Fn() -> ChangeStream + Send + Sync>,
    ) -> Arc<Self> {
        Arc::new(Hub {
            desk,
            clock,
            watched: Mutex::new(HashMap::new()),
            added: Notify::new(),
            fan_out: OnceLock::new(),
            subscribe,
            stopping: watch::channel(false).0,
        })
    }

    /// The channel of `showtime`, once it holds the showtime's state; or why the showtime
    /// cannot be watched (unknown or closed: the route answers those as JSON errors, not as a
    /// stream). Only the first stream of a showtime reads the seats; the others share its read.
    pub async fn watch(self: &Arc<Self>, showtime: &str) -> Result<(Arc<Watch>, watch::Receiver<Seen>), BookingError> {
        if showtime.is_empty() || !ShowtimeId::is_well_formed(showtime) {
            return Err(BookingError::ShowtimeNotFound(showtime.chars().take(160).collect()));
        }
        self.fan_out.get_or_init(|| {
            // Subscribed before any read, so no change can fall between a read and the feed.
            let feed = (self.subscribe)();
            tokio::spawn(fan_out(self.clone(), feed));
        });
        let id = ShowtimeId(showtime.to_string());
        let (channel, fresh) = {
            let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
            match watched.get(&id).and_then(Weak::upgrade) {
                Some(channel) => (channel, false),
                None => {
                    let channel = Arc::new(Watch {
                        id: id.clone(),
                        sender: watch::channel(Seen::Pending).0,
                        read: Mutex::new(None),
                        refreshing: tokio::sync::Mutex::new(()),
                    });
                    watched.insert(id.clone(), Arc::downgrade(&channel));
                    (channel, true)
                }
            }
        };
        let receiver = channel.sender.subscribe();
        if fresh {
            self.refresh(&channel).await?;
            self.added.notify_one();
        } else {
            // Wait for the first stream's read, if it is still under way.
            drop(channel.refreshing.lock().await);
            if *channel.sender.borrow() == Seen::Pending {
                self.refresh(&channel).await?;
            }
        }
        match &*channel.sender.borrow() {
            Seen::Closed => return Err(BookingError::ShowtimeClosed(id.0)),
            Seen::Pending | Seen::Open(_) => {}
        }
        Ok((channel, receiver))
    }

    /// Tells every stream to end: the service is stopping.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Becomes true when the service stops.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// How many showtimes have open streams (for logs and tests).
    pub fn watched(&self) -> usize {
        self.live().len()
    }

    /// How many streams are open in this process.
    pub fn streams(&self) -> usize {
        self.live().iter().map(|w| w.sender.receiver_count()).sum()
    }

    fn live(&self) -> Vec<Arc<Watch>> {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched.retain(|_, w| w.strong_count() > 0);
        watched.values().filter_map(Weak::upgrade).collect()
    }

    /// Reads the showtime's seats and publishes them. An unknown or closed showtime publishes
    /// `Closed` and answers why; a failed read publishes nothing (the streams keep what they
    /// show; the next change, or `Missed`, reads again).
    async fn refresh(&self, channel: &Watch) -> Result<(), BookingError> {
        let _guard = channel.refreshing.lock().await;
        let now = self.clock.now();
        match self.desk.seats(channel.id.as_str(), now).await {
            Ok(seats) => {
                let state = SeatState::of(&seats, self.desk.seat_map().seat_count);
                *channel.read.lock().unwrap_or_else(|e| e.into_inner()) = Some(seats);
                publish(channel, Seen::Open(Arc::new(state)));
                Ok(())
            }
            Err(e @ (BookingError::ShowtimeClosed(_) | BookingError::ShowtimeNotFound(_))) => {
                publish(channel, Seen::Closed);
                Err(e)
            }
            Err(e) => {
                tracing::warn!(showtime = %channel.id.as_str(), "live seats: cannot read the seats: {e}");
                Err(e)
            }
        }
    }

    /// Publishes again what was read, as it stands at `now`: holds that ended are freed, a
    /// showtime that started closes. No database read.
    fn recheck(&self, channel: &Watch, now: DateTime<Utc>) {
        let read = channel.read.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(seats) = read else { return };
        let seen = if is_closed(&seats.showtime, now) {
            Seen::Closed
        } else {
            Seen::Open(Arc::new(SeatState::of(&seats.at(now), self.desk.seat_map().seat_count)))
        };
        publish(channel, seen);
    }

    /// The next moment something changes without a write: a hold ends, or a showtime starts.
    fn next_moment(&self, watched: &[Arc<Watch>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        watched
            .iter()
            .filter_map(|w| {
                let read = w.read.lock().unwrap_or_else(|e| e.into_inner());
                let seats = read.as_ref()?;
                let starts = seats.showtime.starts_at;
                Some(seats.next_expiry(now).map_or(starts, |expiry| expiry.min(starts)))
            })
            .min()
    }
}

/// Publishes `seen` unless it is what the streams already have (a change to another showtime's
/// seats, a hold renewed at the same seats).
fn publish(channel: &Watch, seen: Seen) {
    channel.sender.send_if_modified(|current| {
        if *current == seen {
            false
        } else {
            *current = seen;
            true
        }
    });
}

/// The one subscriber of the change feed: reads each changed, watched showtime once per burst
/// of changes, and wakes at the next moment something ends by itself.
async fn fan_out(hub: Arc<Hub>, mut feed: ChangeStream) {
    let mut stopping = hub.stopping();
    loop {
        let watched = hub.live();
        let now = hub.clock.now();
        // A fixed clock never reaches its next moment: look again now and then all the same.
        let wait = hub
            .next_moment(&watched, now)
            .map_or(Duration::from_secs(3600), |at| (at - now).to_std().unwrap_or(Duration::ZERO));
        drop(watched);
        tokio::select! {
            biased;
            _ = stopping.changed() => return,
            received = feed.recv() => {
                let mut changed = HashSet::new();
                let mut everything = false;
                let mut next = Some(received);
                // Drain what is queued already: a burst of bookings reads each showtime once.
                while let Some(received) = next {
                    match received {
                        Received::Changed(change) => {
                            changed.insert(change.showtime);
                        }
                        Received::Missed => everything = true,
                        Received::Closed => {
                            tracing::debug!("live seats: the store closed its change feed");
                            return;
                        }
                    }
                    next = feed.recv().now_or_never();
                }
                for channel in hub.live() {
                    if everything || changed.contains(&channel.id) {
                        // Errors are logged, and the streams keep what they show.
                        let _ = hub.refresh(&channel).await;
                    }
                }
            }
            () = tokio::time::sleep(wait.max(Duration::from_millis(1))) => {
                let now = hub.clock.now();
                for channel in hub.live() {
                    hub.recheck(&channel, now);
                }
            }
            () = hub.added.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use cinema::booking::BookingRequest;
    use cinema::schedule::Showtime;
    use cinema::seat_map::SeatMap;
    use cinema::store::{ChangeFeed, DatabaseUrl, OpenMode};

    use super::*;

    /// A hub on a new SQLite database holding one showtime that starts `in_ms` from now.
    async fn hub_with_showtime(dir: &Path, in_ms: i64) -> (Arc<Hub>, String) {
        let (desk, id) = desk_with_showtime(dir, in_ms).await;
        (Hub::new(desk, Clock::System), id)
    }

    async fn desk_with_showtime(dir: &Path, in_ms: i64) -> (Arc<Desk>, String) {
        let store = cinema::store::open(&DatabaseUrl::Sqlite(dir.join("t.db")), OpenMode::Create).await.unwrap();
        let starts_at = Utc::now() + chrono::Duration::milliseconds(in_ms);
        let id = "f-20300101-1000".to_string();
        let showtime = Showtime {
            id: ShowtimeId(id.clone()),
            film_slug: "f".into(),
            studio: 1,
            local_date: starts_at.date_naive(),
            slot: starts_at.time(),
            starts_at,
            ends_at: starts_at + chrono::Duration::hours(2),
            archived: false,
        };
        store.roll(vec![showtime], Utc::now()).await.unwrap();
        let map = SeatMap::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/auditorium.txt")).unwrap();
        (Arc::new(Desk::new(store, Arc::new(map))), id)
    }

    #[tokio::test]
    async fn a_missed_change_reads_every_watched_showtime_again() {
        let dir = tempfile::tempdir().unwrap();
        let (desk, id) = desk_with_showtime(dir.path(), 3_600_000).await;
        // The hub listens to a feed of the test's own, so the store's news of the booking below
        // never reaches it: only `missed` can make it read the seats again.
        let feed = ChangeFeed::default();
        let hub = {
            let feed = feed.clone();
            Hub::with_changes(desk.clone(), Clock::System, Box::new(move || feed.subscribe()))
        };
        let (_channel, mut states) = hub.watch(&id).await.unwrap();
        let taken_a1 = |seen: &Seen| matches!(seen, Seen::Open(s) if s.snapshot().taken.contains("A1"));
        assert!(!taken_a1(&states.borrow_and_update()));
        let request = BookingRequest { name: "Ana".into(), email: None, seats: vec!["A1".into()], hold_token: None };
        desk.book(&id, &request, None, Utc::now()).await.unwrap();
        feed.publish(ShowtimeId("another-20300101-1000".into()));
        feed.missed();
        tokio::time::timeout(Duration::from_secs(10), states.changed()).await.unwrap().unwrap();
        assert!(taken_a1(&states.borrow()), "read again after a missed change: {:?}", *states.borrow());
    }

    #[tokio::test]
    async fn a_watched_showtime_closes_when_it_starts_with_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let (hub, id) = hub_with_showtime(dir.path(), 1500).await;
        let (_channel, mut states) = hub.watch(&id).await.unwrap();
        assert!(matches!(&*states.borrow_and_update(), Seen::Open(_)));
        let _second = hub.watch(&id).await.unwrap();
        assert_eq!((hub.watched(), hub.streams()), (1, 2), "one channel for both streams");
        tokio::time::timeout(Duration::from_secs(10), states.changed()).await.unwrap().unwrap();
        assert_eq!(*states.borrow(), Seen::Closed, "the start closes the streams");
        assert!(matches!(hub.watch(&id).await, Err(BookingError::ShowtimeClosed(_))));
    }

    #[tokio::test]
    async fn a_channel_goes_with_its_last_stream_and_bad_ids_are_never_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (hub, id) = hub_with_showtime(dir.path(), 3_600_000).await;
        let first = hub.watch(&id).await.unwrap();
        drop(first);
        assert_eq!(hub.watched(), 0);
        assert!(matches!(hub.watch("../x").await, Err(BookingError::ShowtimeNotFound(_))));
        assert!(matches!(hub.watch("f-20300101-1100").await, Err(BookingError::ShowtimeNotFound(_))));
        assert_eq!(hub.watched(), 0);
    }
}
