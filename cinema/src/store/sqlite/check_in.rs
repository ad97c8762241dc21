//! Check-in at the door, applied inside the booking writer's transaction.
//!
//! Door scans go through the writer like bookings, so two doors scanning one ticket at once
//! are two commands applied one after the other in the writer's transaction (and across
//! processes, two write transactions SQLite runs one at a time): the first records the moment,
//! the second finds it recorded.

use chrono::DateTime;
use rusqlite::{Connection, params};

use super::bookings_read::booking_by_check_in_code;
use crate::booking::BookingRecord;
use crate::box_office::{CheckIn, CheckInOutcome};
use crate::schedule::ShowtimeId;

/// Checks `check.code`'s booking in, unless there is a [`refusal`].
pub(crate) fn check_in(conn: &Connection, check: &CheckIn) -> rusqlite::Result<CheckInOutcome> {
    let Some((id, record)) = booking_by_check_in_code(conn, &check.code)? else {
        return Ok(CheckInOutcome::Unknown);
    };
    if let Some(refuse) = refusal(&record, check.showtime.as_ref()) {
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

/// Why the ticket of `record` does not get checked in at a door letting in `door` (any
/// showtime, when the door does not say), as the answer to make of the record: `None` when it
/// gets in. A cancelled booking is refused before anything else, since that is what door staff
/// must act on.
pub(crate) fn refusal(
    record: &BookingRecord,
    door: Option<&ShowtimeId>,
) -> Option<fn(BookingRecord) -> CheckInOutcome> {
    if record.cancelled_at.is_some() {
        return Some(CheckInOutcome::Cancelled);
    }
    if door.is_some_and(|door| *door != record.showtime.id) {
        return Some(CheckInOutcome::OtherShowtime);
    }
    if record.checked_in_at.is_some() {
        return Some(CheckInOutcome::AlreadyCheckedIn);
    }
    None
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::booking::{BookingReference, CheckInCode, TokenHash};
    use crate::box_office::CancelledBy;
    use crate::schedule::Showtime;

    fn record() -> BookingRecord {
        let starts = Utc.with_ymd_and_hms(2030, 3, 1, 3, 0, 0).unwrap();
        BookingRecord {
            reference: BookingReference::parse("TK-2222-2222").unwrap(),
            showtime: Showtime::for_test("s", starts),
            seats: vec!["A1".into()],
            name: "Ana".into(),
            email: None,
            token_hash: TokenHash([0; 32]),
            check_in_code: CheckInCode::parse("2222-2222-2222-2222").unwrap(),
            created_at: starts,
            cancelled_at: None,
            cancelled_by: None,
            checked_in_at: None,
        }
    }

    #[test]
    fn a_door_lets_in_an_active_ticket_for_its_showtime_once() {
        let here = ShowtimeId("s".into());
        let there = ShowtimeId("t".into());
        let at = Some(Utc.with_ymd_and_hms(2030, 3, 1, 2, 45, 0).unwrap());
        let cancelled = BookingRecord {
            cancelled_at: at,
            cancelled_by: Some(CancelledBy::Operator),
            checked_in_at: at,
            ..record()
        };
        let checked = BookingRecord { checked_in_at: at, ..record() };
        let answer = |record: &BookingRecord, door| refusal(record, door).map(|refuse| refuse(record.clone()));
        assert_eq!(answer(&record(), Some(&here)), None, "let in");
        assert_eq!(answer(&record(), None), None, "a door that does not say lets in any showtime");
        assert_eq!(answer(&record(), Some(&there)), Some(CheckInOutcome::OtherShowtime(record())));
        assert_eq!(answer(&checked, Some(&here)), Some(CheckInOutcome::AlreadyCheckedIn(checked.clone())));
        assert_eq!(answer(&checked, Some(&there)), Some(CheckInOutcome::OtherShowtime(checked.clone())));
        for door in [Some(&here), Some(&there), None] {
            assert_eq!(answer(&cancelled, door), Some(CheckInOutcome::Cancelled(cancelled.clone())), "{door:?}");
        }
    }
}
