//! The change-feed listener: how one instance learns of every other instance's seat changes.
//!
//! Every transaction that takes or frees seats, or holds or releases them, calls
//! `pg_notify('tiketa_seats', payload)`
//! ([`Notify`]); PostgreSQL delivers a notification only when (and if) that transaction
//! commits, to every connection that ran `LISTEN tiketa_seats`. Each store keeps one such
//! connection of its own, outside the pool ([`Listener`]), and reads the notifications from
//! the connection's message stream (`AsyncMessage::Notification`). For a notification from
//! another instance it evicts the showtime from the store's seat index and publishes it on the
//! change feed; its own commits it has already applied to the index and published after
//! COMMIT, so it skips those (the payload names the instance: `"<showtime id> <instance>"`).
//!
//! While the listener is not connected, notifications are lost, so the cache may not be
//! trusted: on a drop it stops serving seat maps from memory at once ([`Listener::is_live`]
//! turns false; the store reads the database instead), clears the index, and reconnects with
//! a growing backoff (up to [`MAX_BACKOFF`]). Once `LISTEN` is back it clears the index again
//! (anything read during the outage may be stale) and serves from memory again. A server that
//! vanishes without closing the socket (a network partition) is noticed by TCP keepalives
//! within about [`super::KEEPALIVE_DEAD_AFTER`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::{GenericClient, Transaction};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, NoTls, Notification};

use crate::schedule::ShowtimeId;
use crate::store::ChangeFeed;
use crate::store::seat_cache::SeatIndex;

/// The channel seat changes are announced on.
pub(super) const CHANNEL: &str = "tiketa_seats";
/// The first pause before reconnecting; it doubles on each failure.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause between two attempts to reconnect.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Announces a committed seat change from inside the transaction that makes it.
#[derive(Clone)]
pub(super) struct Notify {
    instance: String,
}

impl Notify {
    pub(super) fn new(instance: String) -> Self {
        Notify { instance }
    }

    /// Queues the notification; PostgreSQL sends it when the transaction commits.
    pub(super) async fn send(&self, tx: &Transaction<'_>, showtime: &ShowtimeId) -> Result<(), tokio_postgres::Error> {
        let stmt = tx.prepare_cached("SELECT pg_notify($1, $2)").await?;
        tx.execute(&stmt, &[&CHANNEL, &self.payload(showtime)]).await?;
        Ok(())
    }

    /// The payload for a change to `showtime` (for a statement that notifies by itself).
    pub(super) fn payload(&self, showtime: &ShowtimeId) -> String {
        format!("{} {}", showtime.as_str(), self.instance)
    }
}

/// The showtime a payload names, and the instance that sent it (none from other senders,
/// such as an operator's `NOTIFY tiketa_seats, 'id'`, which is honoured).
fn parse(payload: &str) -> (&str, Option<&str>) {
    match payload.rsplit_once(' ') {
        Some((showtime, instance)) => (showtime, Some(instance)),
        None => (payload, None),
    }
}

/// What the listener has done so far: for logs, health and tests, which wait on it instead of
/// sleeping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerState {
    /// Connection attempts that ended (connected or failed).
    pub attempts: u64,
    /// Times `LISTEN` took effect.
    pub connected: u64,
    /// Times a listening connection was lost.
    pub dropped: u64,
    /// Whether it listens now (the seat index may be trusted).
    pub live: bool,
}

/// The listening task of one store.
pub(super) struct Listener {
    live: Arc<AtomicBool>,
    state: watch::Receiver<ListenerState>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// What the task shares with the store.
struct Shared {
    config: tokio_postgres::Config,
    instance: String,
    seats: Arc<SeatIndex>,
    feed: ChangeFeed,
    live: Arc<AtomicBool>,
    state: watch::Sender<ListenerState>,
}

impl Listener {
    /// Spawns the task on the current tokio runtime; it connects at once.
    pub(super) fn spawn(
        config: tokio_postgres::Config,
        instance: String,
        seats: Arc<SeatIndex>,
        feed: ChangeFeed,
    ) -> Self {
        let live = Arc::new(AtomicBool::new(false));
        let (state, state_rx) = watch::channel(ListenerState::default());
        let (stop, stop_rx) = watch::channel(false);
        let shared = Shared { config, instance, seats, feed, live: live.clone(), state };
        let task = tokio::spawn(run(shared, stop_rx));
        Listener { live, state: state_rx, stop, task: Mutex::new(Some(task)) }
    }

    /// Whether every other writer's commits reach this store now, so its seat index is right.
    pub(super) fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    pub(super) fn state(&self) -> watch::Receiver<ListenerState> {
        self.state.clone()
    }

    /// Stops the task and waits for it to close its connection.
    pub(super) async fn stop(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn run(shared: Shared, mut stop: watch::Receiver<bool>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let started = Instant::now();
        let ended = listen(&shared, &mut stop).await;
        // From here until LISTEN is back, other instances' commits go unseen.
        let was_live = shared.live.swap(false, Ordering::SeqCst);
        shared.seats.clear();
        shared.feed.missed();
        shared.state.send_modify(|s| {
            s.live = false;
            s.dropped += u64::from(was_live);
        });
        match ended {
            Ended::Stopped => return,
            Ended::Failed(e) if was_live => {
                tracing::warn!(
                    "the PostgreSQL listener lost its connection ({e}); seat maps are read from the database until it is back"
                )
            }
            Ended::Failed(e) => tracing::warn!("the PostgreSQL listener cannot connect ({e}); retrying in {backoff:?}"),
        }
        // A connection that lasted resets the backoff; one that keeps failing waits longer.
        if started.elapsed() > MAX_BACKOFF {
            backoff = MIN_BACKOFF;
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

enum Ended {
    Stopped,
    Failed(String),
}

/// One connection's life: connect, `LISTEN`, then handle notifications until it ends.
async fn listen(shared: &Shared, stop: &mut watch::Receiver<bool>) -> Ended {
    let connected = tokio::select! {
        c = shared.config.connect(NoTls) => c,
        _ = stop.wait_for(|stop| *stop) => return Ended::Stopped,
    };
    let (client, mut connection) = match connected {
        Ok(c) => c,
        Err(e) => {
            shared.state.send_modify(|s| s.attempts += 1);
            return Ended::Failed(e.to_string());
        }
    };
    // The connection is driven here; notifications come out of its message stream.
    let (notes, mut received) = mpsc::unbounded_channel::<Notification>();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if notes.send(n).is_err() {
                        return Ok(());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            }
        }
    });
    if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
        shared.state.send_modify(|s| s.attempts += 1);
        driver.abort();
        return Ended::Failed(e.to_string());
    }
    // Listening: every commit from now on is heard. What was cached before may be stale.
    shared.seats.clear();
    shared.feed.missed();
    shared.live.store(true, Ordering::SeqCst);
    shared.state.send_modify(|s| {
        s.attempts += 1;
        s.connected += 1;
        s.live = true;
    });
    let ended = loop {
        tokio::select! {
            note = received.recv() => match note {
                Some(note) => heard(shared, note.payload()),
                None => break Ended::Failed("the server closed the connection".into()),
            },
            _ = stop.wait_for(|stop| *stop) => break Ended::Stopped,
        }
    };
    drop(client);
    match driver.await {
        Ok(Err(e)) if matches!(ended, Ended::Failed(_)) => Ended::Failed(e.to_string()),
        _ => ended,
    }
}

/// Another writer changed a showtime's seats: forget it and tell subscribers.
fn heard(shared: &Shared, payload: &str) {
    let (showtime, from) = parse(payload);
    if from == Some(shared.instance.as_str()) {
        return;
    }
    shared.seats.evict([showtime]);
    shared.feed.publish(ShowtimeId(showtime.to_string()));
}

#[cfg(test)]
mod tests {
    #[test]
    fn payloads_name_the_showtime_and_the_sender() {
        assert_eq!(super::parse("film-1-20261124-1000 a1b2"), ("film-1-20261124-1000", Some("a1b2")));
        assert_eq!(super::parse("film-1-20261124-1000"), ("film-1-20261124-1000", None));
    }
}
