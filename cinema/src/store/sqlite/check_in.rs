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

/// Checks `check.code`'s booking in, if [`admit`] lets it in.
pub(crate) fn check_in(conn: &Connection, check: &CheckIn) -> rusqlite::Result<CheckInOutcome> {
    let Some((id, record)) = booking_by_check_in_code(conn, &check.code)? else {
        return Ok(CheckInOutcome::Unknown);
    };
    let record = match admit(record, check.showtime.as_ref()) {
        Ok(record) => record,
        Err(refused) => return Ok(refused),
    };
    // Kept in whole seconds, like every time of a booking.
    let now = check.now.timestamp();
    let changed = conn
        .prepare_cached("UPDATE bookings SET checked_in_at = ?2 WHERE id = ?1 AND checked_in_at IS NULL")?
        .execute(params![id, now])?;
    debug_assert_eq!(changed, 1, "the writer is the only one checking in on this transaction");
    Ok(CheckInOutcome::CheckedIn(BookingRecord { checked_in_at: DateTime::from_timestamp(now, 0), ..record }))
}

/// Whether the ticket of `record` gets in at a door letting in `door` (any showtime, when the
/// door does not say): the record back to check it in, or the answer that refuses it (or says
/// it was checked in before). A cancelled booking is refused before anything else, since that
/// is what door staff must act on.
pub(crate) fn admit(record: BookingRecord, door: Option<&ShowtimeId>) -> Result<BookingRecord, CheckInOutcome> {
    if record.cancelled_at.is_some() {
        return Err(CheckInOutcome::Cancelled(record));
    }
    if door.is_some_and(|door| *door != record.showtime.id) {
        return Err(CheckInOutcome::OtherShowtime(record));
    }
    if record.checked_in_at.is_some() {
        return Err(CheckInOutcome::AlreadyCheckedIn(record));
    }
    Ok(record)
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
        assert_eq!(admit(record(), Some(&here)), Ok(record()));
        assert_eq!(admit(record(), None), Ok(record()), "a door that does not say lets in any showtime");
        assert_eq!(admit(record(), Some(&there)), Err(CheckInOutcome::OtherShowtime(record())));
        assert_eq!(admit(checked.clone(), Some(&here)), Err(CheckInOutcome::AlreadyCheckedIn(checked.clone())));
        assert_eq!(admit(checked.clone(), Some(&there)), Err(CheckInOutcome::OtherShowtime(checked)));
        for door in [Some(&here), Some(&there), None] {
            assert_eq!(admit(cancelled.clone(), door), Err(CheckInOutcome::Cancelled(cancelled.clone())), "{door:?}");
        }
    }
}
