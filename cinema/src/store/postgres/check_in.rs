//! Checking a ticket in at the door: one transaction.
//!
//! The booking is found by its check-in code and its row locked (`FOR UPDATE`) before anything
//! is decided, and the record the decision reads is read in a later statement: two doors
//! scanning one ticket at once, on any instances, serialise on the row, and the second reads it
//! after the first's COMMIT (at READ COMMITTED each statement sees what was committed before it
//! began) and finds it checked in, so the first door's time is never overwritten. (Without the
//! lock both would read it unchecked and both answer `CheckedIn`: the two-instance test in
//! `tests/postgres.rs` sees that within a round or two.)

use deadpool_postgres::{Pool, Transaction};

use super::bookings::whole_seconds;
use super::bookings_read::booking_by_id;
use super::observers::Observers;
use super::transaction::{Work, in_observed_transaction};
use crate::booking::{BookingRecord, decide};
use crate::box_office::{CheckIn, CheckInOutcome};
use crate::store::StoreError;

/// See [`crate::store::Store::check_in`].
pub(super) async fn check_in(
    pool: &Pool,
    observers: &Observers,
    check_in: &CheckIn,
) -> Result<CheckInOutcome, StoreError> {
    let checked_in = |o: &CheckInOutcome| matches!(o, CheckInOutcome::CheckedIn(_));
    in_observed_transaction(pool, observers, check_in, check_in_in, checked_in, |o| usize::from(checked_in(o))).await
}

fn check_in_in<'a>(tx: &'a Transaction<'a>, check_in: &'a CheckIn) -> Work<'a, CheckInOutcome> {
    Box::pin(async move {
        let find = tx.prepare_cached("SELECT id FROM bookings WHERE check_in_code = $1 FOR UPDATE").await?;
        let Some(row) = tx.query_opt(&find, &[&check_in.code.as_str()]).await? else {
            return Ok(CheckInOutcome::Unknown);
        };
        let id: i64 = row.try_get(0)?;
        let record = booking_by_id(tx, id).await?;
        if let Some(refusal) = decide::check_in_refusal(&record, check_in) {
            return Ok(refusal(record));
        }
        // Kept in whole seconds, as every time of a booking is (and as the SQLite store keeps it).
        let at = whole_seconds(check_in.now);
        let stmt = tx.prepare_cached("UPDATE bookings SET checked_in_at = $2 WHERE id = $1").await?;
        tx.execute(&stmt, &[&id, &at]).await?;
        Ok(CheckInOutcome::CheckedIn(BookingRecord { checked_in_at: Some(at), ..record }))
    })
}
