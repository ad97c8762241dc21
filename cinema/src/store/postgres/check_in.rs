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
use crate::booking::BookingRecord;
use crate::box_office::{CheckIn, CheckInOutcome};
use crate::schedule::ShowtimeId;
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
        if let Some(refusal) = refusal(&record, check_in.showtime.as_ref()) {
            return Ok(refusal(record));
        }
        // Kept in whole seconds, as every time of a booking is (and as the SQLite store keeps it).
        let at = whole_seconds(check_in.now);
        let stmt = tx.prepare_cached("UPDATE bookings SET checked_in_at = $2 WHERE id = $1").await?;
        tx.execute(&stmt, &[&id, &at]).await?;
        Ok(CheckInOutcome::CheckedIn(BookingRecord { checked_in_at: Some(at), ..record }))
    })
}

/// Why a door letting in `door` (any showtime when `None`) refuses `record` now, as the
/// outcome to answer with it; `None`: check it in. A cancelled booking is refused before
/// anything else (a cancelled ticket never gets in, whichever showtime it names), then a
/// ticket for another showtime (the holder is at the wrong door, checked in there or not),
/// then one checked in before.
fn refusal(record: &BookingRecord, door: Option<&ShowtimeId>) -> Option<fn(BookingRecord) -> CheckInOutcome> {
    if record.cancelled_at.is_some() {
        Some(CheckInOutcome::Cancelled)
    } else if door.is_some_and(|door| *door != record.showtime.id) {
        Some(CheckInOutcome::OtherShowtime)
    } else if record.checked_in_at.is_some() {
        Some(CheckInOutcome::AlreadyCheckedIn)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::booking::{BookingReference, CheckInCode, TokenHash};
    use crate::box_office::CancelledBy;
    use crate::schedule::Showtime;

    fn record() -> BookingRecord {
        let starts = Utc.with_ymd_and_hms(2030, 1, 2, 19, 0, 0).unwrap();
        BookingRecord {
            reference: BookingReference::generate(&mut rand::rng()),
            showtime: Showtime::for_test("s", starts),
            seats: vec!["A1".into()],
            name: "Ana".into(),
            email: None,
            token_hash: TokenHash([0; 32]),
            check_in_code: CheckInCode::generate(&mut rand::rng()),
            created_at: starts - chrono::Duration::days(1),
            cancelled_at: None,
            cancelled_by: None,
            checked_in_at: None,
        }
    }

    /// What a door answers for `record`, as [`check_in_in`] would.
    fn answer(record: &BookingRecord, door: Option<&ShowtimeId>) -> CheckInOutcome {
        match refusal(record, door) {
            Some(refusal) => refusal(record.clone()),
            None => CheckInOutcome::CheckedIn(record.clone()),
        }
    }

    #[test]
    fn a_door_admits_an_active_booking_of_its_showtime_once_and_refuses_the_rest() {
        let fresh = record();
        let here = fresh.showtime.id.clone();
        let elsewhere = ShowtimeId("t".into());
        assert_eq!(answer(&fresh, Some(&here)), CheckInOutcome::CheckedIn(fresh.clone()));
        assert_eq!(
            answer(&fresh, None),
            CheckInOutcome::CheckedIn(fresh.clone()),
            "a door naming no showtime admits any"
        );
        assert_eq!(answer(&fresh, Some(&elsewhere)), CheckInOutcome::OtherShowtime(fresh.clone()));
        let checked = BookingRecord { checked_in_at: Some(fresh.showtime.starts_at), ..fresh.clone() };
        assert_eq!(answer(&checked, Some(&here)), CheckInOutcome::AlreadyCheckedIn(checked.clone()));
        assert_eq!(answer(&checked, Some(&elsewhere)), CheckInOutcome::OtherShowtime(checked));
        let cancelled = BookingRecord {
            cancelled_at: Some(fresh.created_at),
            cancelled_by: Some(CancelledBy::Operator),
            ..fresh.clone()
        };
        assert_eq!(answer(&cancelled, Some(&elsewhere)), CheckInOutcome::Cancelled(cancelled.clone()));
        assert_eq!(answer(&cancelled, None), CheckInOutcome::Cancelled(cancelled));
    }
}
