//! The showtime lock: what keeps a booking and a hold of the same seat from both committing.
//!
//! A booking writes `booking_seats` after reading `seat_holds`; a hold writes `seat_holds`
//! after reading `booking_seats`. At READ COMMITTED two such transactions on two instances
//! could each read before the other wrote and both commit (write skew): a seat booked and
//! held by another live token at once. No unique index spans two tables, so every
//! transaction that takes seats (a booking, a batch of bookings, a hold) first locks the rows
//! of its showtimes (`FOR NO KEY UPDATE`, in id order so that two batches over the same
//! showtimes wait for each other instead of deadlocking) and reads seats only after that, in
//! later statements, which see everything committed by the lock's previous holder. The lock
//! is the read of the showtime the decision needs anyway, so it costs no statement of its
//! own; it does not block readers, nor the `FOR KEY SHARE` locks of foreign-key checks.
//!
//! What it costs: within one instance nothing waits that did not before (its writer runs one
//! batch at a time), but two instances' batches over a common showtime now run one after the
//! other from their fact query to their COMMIT instead of overlapping up to NOTIFY's commit
//! lock, and each batch writes a lock record per showtime to the WAL. Bookings could take
//! `FOR SHARE` instead (they need to exclude holds, not each other: the unique index settles
//! booking against booking), at the price of a hold waiting for a gap in a steady stream of
//! bookings; not done until a benchmark asks for it.
//!
//! Releasing a hold frees seats and cannot make a conflict, so it does not lock.
//!
//! The same lock keeps a roll from retiring a showtime under a booking: the roll locks the
//! showtimes it may retire `FOR UPDATE`, which waits for every transaction holding this lock
//! and makes later ones wait for the roll (see [`super::retire`]).
//!
//! The order matters on the wire: the queries of one transaction's facts are pipelined, and
//! the server runs them in the order they were sent. Each caller prepares its statements first
//! and then polls the lock's query first (`tokio::try_join!(biased; ...)`): a query on a
//! prepared statement is sent on its first poll, so the lock goes out before the reads. (With
//! a hold's reads sent before its lock, the two-instance race test in `tests/postgres.rs`
//! finds a seat booked and held at once within a few rounds.)

use std::collections::HashMap;

use deadpool_postgres::Transaction;
use tokio_postgres::Statement;

use super::schedule::{COLUMNS, showtime_from_row};
use crate::schedule::Showtime;

/// The statement that reads and locks showtimes, for [`locked`].
pub(super) async fn statement(tx: &Transaction<'_>) -> Result<Statement, tokio_postgres::Error> {
    tx.prepare_cached(&format!("SELECT {COLUMNS} FROM showtimes WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE"))
        .await
}

/// Reads and locks these showtimes (those that exist), by id, with `statement` from
/// [`statement`]. The lock lasts until the transaction ends.
pub(super) async fn locked(
    tx: &Transaction<'_>,
    statement: &Statement,
    ids: &[&str],
) -> Result<HashMap<String, Showtime>, tokio_postgres::Error> {
    let rows = tx.query(statement, &[&ids]).await?;
    rows.iter().map(|r| showtime_from_row(r, 0).map(|s| (s.id.0.clone(), s))).collect()
}
