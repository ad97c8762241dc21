//! Check-in at the door, applied inside the booking writer's transaction.
//!
//! Door scans go through the writer like bookings, so two doors scanning one ticket at once
//! are two commands applied one after the other in the writer's transaction (and across
//! processes, two write transactions SQLite runs one at a time): the first records the moment,
//! the second finds it recorded.

use chrono::DateTime;
use rusqlite::{Connection, params};

use super::bookings_read::booking_by_check_in_code;
use crate::booking::{BookingRecord, decide};
use crate::box_office::{CheckIn, CheckInOutcome};

/// Checks `check.code`'s booking in, unless [`decide::check_in_refusal`] refuses it.
pub(crate) fn check_in(conn: &Connection, check: &CheckIn) -> rusqlite::Result<CheckInOutcome> {
    let Some((id, record)) = booking_by_check_in_code(conn, &check.code)? else {
        return Ok(CheckInOutcome::Unknown);
    };
    if let Some(refuse) = decide::check_in_refusal(&record, check) {
        return Ok(refuse(record));
    }
    // Kept in whole seconds, like every time of a booking.
    let now = check.now.timestamp();
    let changed = conn
        .prepare_cached("UPDATE bookings SET checked_in_at = ?2 WHERE id = ?1 AND checked_in_at IS NULL")?
        .execute(params![id, now])?;
    debug_assert_eq!(changed, 1, "the writer is the only one checking in on this transaction");
    Ok(CheckInOutcome::CheckedIn(BookingRecord { checked_in_at: DateTime::from_timestamp(now, 0), ..record }))
}
