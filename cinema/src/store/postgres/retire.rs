//! Retiring the live showtimes a roll's plan no longer has (a film removed from the content,
//! its slots changed), inside the roll's transaction.
//!
//! A showtime nobody booked is deleted, with its holds, so it stops being bookable at once and
//! a later content change may bring it back; one whose bookings were all cancelled is archived
//! (the cancelled records keep their showtime); one with an active booking is kept and
//! honoured, and listed in every roll's report until it starts, so an operator can tell its
//! bookers.
//!
//! The race that matters is a booking on another instance placed while the roll retires its
//! showtime: it must either commit first (and the showtime is kept) or find no showtime, never
//! fail on a foreign key nor land on a deleted or archived showtime. Every transaction that
//! takes seats locks its showtime's row `FOR NO KEY UPDATE` before it reads anything
//! ([`super::showtime_lock`]), and a roll locks its candidates `FOR UPDATE` ([`lock_changing`])
//! before it looks at their bookings, in a later statement ([`retire`]):
//! - a booking that locked first makes the roll wait for its COMMIT; the roll's next statement
//!   is a new snapshot (READ COMMITTED) and sees that booking, so the showtime is kept. (A
//!   `NOT EXISTS` in the deleting statement itself would not: its snapshot was taken before it
//!   waited, and the row it then deletes has a booking.)
//! - a booking that comes after the roll's lock waits on it; once the roll commits, the
//!   booking's locking read skips the deleted row (or reads the archived one) and is refused
//!   as [`crate::booking::PlaceOutcome::ShowtimeNotFound`] (or closed). Nor can a booking's
//!   insert slip past the lock: its foreign-key check takes `FOR KEY SHARE`, which `FOR
//!   UPDATE` excludes.
//!
//! The same lock also takes the showtimes that started, which the roll archives: one
//! statement that locks in id order, the order every booking locks its showtimes in, so a
//! roll and a batch over several showtimes wait for each other instead of deadlocking.
//!
//! Each retired showtime is announced on the change feed (see [`super::listen`]): the other
//! instances forget what they cached of it, and a seat map asked for next finds it gone.

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;

use super::errors::Fault;
use super::listen::{CHANNEL, Notify};
use super::schedule::{COLUMNS, showtime_from_row};
use crate::booking::BookingReference;
use crate::box_office::KeptShowtime;
use crate::schedule::ShowtimeId;

/// The live showtimes a roll changes, locked until it commits.
pub(super) struct Changing {
    /// Started by the roll's `now`: to archive.
    pub(super) started: Vec<String>,
    /// Not started, and not in the plan: to retire or keep.
    pub(super) unplanned: Vec<String>,
}

/// Locks (`FOR UPDATE`, in id order) every showtime that is not archived and has started by
/// `now` or is not among `planned`, and answers which is which.
pub(super) async fn lock_changing(
    tx: &Transaction<'_>,
    planned: &[&str],
    now: DateTime<Utc>,
) -> Result<Changing, tokio_postgres::Error> {
    let stmt = tx
        .prepare_cached(
            "SELECT id, starts_at <= $1 FROM showtimes
             WHERE NOT archived AND (starts_at <= $1 OR NOT (id = ANY($2)))
             ORDER BY id FOR UPDATE",
        )
        .await?;
    let mut changing = Changing { started: Vec::new(), unplanned: Vec::new() };
    for row in tx.query(&stmt, &[&now, &planned]).await? {
        let (id, started): (String, bool) = (row.try_get(0)?, row.try_get(1)?);
        if started { changing.started.push(id) } else { changing.unplanned.push(id) }
    }
    Ok(changing)
}

/// What became of an unplanned showtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Never booked: deleted, so the content can bring it back.
    Delete,
    /// Booked, every booking cancelled: archived, since the cancelled records keep it.
    Archive,
    /// Active bookings hold it: kept and reported.
    Keep,
}

fn fate(bookings: i64, active: usize) -> Fate {
    match (bookings, active) {
        (0, _) => Fate::Delete,
        (_, 0) => Fate::Archive,
        _ => Fate::Keep,
    }
}

/// What [`retire`] did.
pub(super) struct Retired {
    /// The showtimes deleted or archived.
    pub(super) ids: Vec<ShowtimeId>,
    /// The showtimes kept for their active bookings, by start time then studio.
    pub(super) kept: Vec<KeptShowtime>,
}

/// Retires or keeps the `unplanned` showtimes, which [`lock_changing`] locked in an earlier
/// statement of `tx`, and announces the retired ones.
pub(super) async fn retire(tx: &Transaction<'_>, notify: &Notify, unplanned: &[String]) -> Result<Retired, Fault> {
    let mut retired = Retired { ids: Vec::new(), kept: Vec::new() };
    if unplanned.is_empty() {
        return Ok(retired);
    }
    // A statement after the lock's: it sees every booking committed by the lock's holders.
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS},
                (SELECT count(*) FROM bookings b WHERE b.showtime_id = showtimes.id),
                ARRAY(SELECT reference FROM bookings b WHERE b.showtime_id = showtimes.id AND b.cancelled_at IS NULL
                      ORDER BY b.created_at, b.id)
             FROM showtimes WHERE id = ANY($1) ORDER BY starts_at, studio"
        ))
        .await?;
    let (mut deleted, mut archived) = (Vec::new(), Vec::new());
    for row in tx.query(&stmt, &[&unplanned]).await? {
        let showtime = showtime_from_row(&row, 0)?;
        let bookings: i64 = row.try_get(8)?;
        let active: Vec<String> = row.try_get(9)?;
        match fate(bookings, active.len()) {
            Fate::Delete => deleted.push(showtime.id.0),
            Fate::Archive => archived.push(showtime.id.0),
            Fate::Keep => {
                let bookings = active
                    .iter()
                    .map(|r| BookingReference::parse(r).ok_or(Fault::Malformed("booking reference")))
                    .collect::<Result<_, _>>()?;
                retired.kept.push(KeptShowtime { showtime, bookings });
            }
        }
    }
    let gone: Vec<&str> = deleted.iter().chain(&archived).map(String::as_str).collect();
    if gone.is_empty() {
        return Ok(retired);
    }
    // Their holds first (a hold names its showtime), live ones too: nobody can book them now.
    tx.execute("DELETE FROM seat_holds WHERE showtime_id = ANY($1)", &[&gone]).await?;
    tx.execute("DELETE FROM showtimes WHERE id = ANY($1)", &[&deleted]).await?;
    tx.execute("UPDATE showtimes SET archived = true WHERE id = ANY($1)", &[&archived]).await?;
    retired.ids = gone.iter().map(|id| ShowtimeId(id.to_string())).collect();
    let payloads: Vec<String> = retired.ids.iter().map(|id| notify.payload(id)).collect();
    tx.execute("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", &[&CHANNEL, &payloads]).await?;
    Ok(retired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_showtime_is_deleted_unbooked_archived_with_only_cancelled_bookings_and_kept_with_an_active_one() {
        assert_eq!(fate(0, 0), Fate::Delete);
        assert_eq!(fate(3, 0), Fate::Archive);
        assert_eq!(fate(3, 1), Fate::Keep);
    }
}
