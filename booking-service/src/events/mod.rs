//! Live seats: what `GET /api/showtimes/{id}/events` streams to open booking pages.
//!
//! One [`Hub`] per process subscribes once to the store's change feed (which carries every
//! instance's commits: SQLite's `data_version`, PostgreSQL's `LISTEN`) and fans out per
//! showtime: a showtime with open streams has one [`tokio::sync::watch`] channel, dropped with
//! its last stream. On a change the hub reads that showtime's seats once, however many streams
//! watch it, and publishes the new [`SeatState`]; each stream diffs it against what it last sent
//! ([`stream`]). Holds end without any write, so the hub also wakes when the next hold of a
//! watched showtime ends (and when the showtime starts) and publishes again from what it read,
//! without asking the database. Nothing here outlives the process that a page could depend on:
//! a page that reconnects to another instance gets its state from there.

mod hub;
mod state;
pub mod stream;

pub use hub::{Hub, Seen, Watch};
pub use state::{Change, SeatState, Snapshot};
