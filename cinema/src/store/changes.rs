//! The change feed: which showtimes' seats changed (booked, freed, held or released), from every writer.
//!
//! A store publishes here after each commit that took or freed seats, its own and (learned
//! from the database: SQLite's `data_version`, PostgreSQL's `LISTEN`) every other writer's.
//! Subscribers get "showtime X changed" and read the seats again: a small message that stays
//! correct whatever order changes arrive in. Caches use it to forget what is stale; live seat
//! maps in browsers are built on it.

use tokio::sync::broadcast;

use crate::schedule::ShowtimeId;

/// How many changes a slow subscriber may fall behind before it is told it lagged.
const BACKLOG: usize = 4096;

/// The seats of a showtime changed (taken or freed) in a committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatsChanged {
    pub showtime: ShowtimeId,
}

/// What travels on the feed: one showtime changed, or changes may have been missed.
#[derive(Debug, Clone)]
enum Message {
    Changed(SeatsChanged),
    Missed,
}

/// The publishing side, owned by a store.
#[derive(Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Message>,
}

/// One subscriber's view of the feed: changes published after it subscribed, in order.
pub struct ChangeStream {
    receiver: broadcast::Receiver<Message>,
}

/// What [`ChangeStream::recv`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Changed(SeatsChanged),
    /// Some changes were missed (the subscriber was too slow, or the store lost track of other
    /// writers for a while): treat every showtime as changed.
    Missed,
    /// The store closed: no more changes will come.
    Closed,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        ChangeFeed { sender: broadcast::channel(BACKLOG).0 }
    }
}

impl ChangeFeed {
    pub fn subscribe(&self) -> ChangeStream {
        ChangeStream { receiver: self.sender.subscribe() }
    }

    /// Tells every subscriber; nobody listening is fine.
    pub fn publish(&self, showtime: ShowtimeId) {
        let _ = self.sender.send(Message::Changed(SeatsChanged { showtime }));
    }

    /// Tells every subscriber that changes may have gone unseen (the store's link to other
    /// writers dropped, or its log was pruned past it): everything must be read again.
    pub fn missed(&self) {
        let _ = self.sender.send(Message::Missed);
    }
}

impl ChangeStream {
    /// The next change, waiting for it.
    pub async fn recv(&mut self) -> Received {
        match self.receiver.recv().await {
            Ok(Message::Changed(change)) => Received::Changed(change),
            Ok(Message::Missed) => Received::Missed,
            Err(broadcast::error::RecvError::Lagged(_)) => Received::Missed,
            Err(broadcast::error::RecvError::Closed) => Received::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_get_changes_published_after_they_subscribed() {
        let feed = ChangeFeed::default();
        feed.publish(ShowtimeId("before".into()));
        let mut stream = feed.subscribe();
        feed.publish(ShowtimeId("a".into()));
        assert_eq!(stream.recv().await, Received::Changed(SeatsChanged { showtime: ShowtimeId("a".into()) }));
        for _ in 0..BACKLOG + 1 {
            feed.publish(ShowtimeId("b".into()));
        }
        assert_eq!(stream.recv().await, Received::Missed, "a subscriber that fell behind is told");
        feed.missed();
        assert_eq!(stream.recv().await, Received::Missed, "and so is one whose store lost track");
        drop(feed);
        while stream.recv().await != Received::Closed {}
    }
}
