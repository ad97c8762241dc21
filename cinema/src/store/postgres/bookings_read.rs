//! Reading bookings and seats.
//!
//! A booking is looked up by reference in two steps so that references cannot be probed by
//! timing: first only its id and token hash (one indexed row), then
//! [`decide::owns`](crate::booking::decide::owns), which does the same work whether a hash
//! was found or not, and only for the owner the rest of the booking.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::errors::{Fault, fixed};
use super::schedule::{COLUMNS, showtime_from_row};
use crate::booking::hold::HeldSeat;
use crate::booking::record::{BookingRecord, ShowtimeSeats};
use crate::booking::{BookingReference, CheckInCode, ManageToken, OwnerHashes, TokenHash, decide};
use crate::box_office::{BookingQuery, CancelledBy};
use crate::schedule::{Showtime, ShowtimeId};

/// A booking's row id and record, if `token` is its manage token.
pub(super) async fn booking_of_owner(
    client: &impl GenericClient,
    reference: &BookingReference,
    token: &ManageToken,
) -> Result<Option<(i64, BookingRecord)>, Fault> {
    let stmt =
        client.prepare_cached("SELECT id, token_hash, recovered_token_hash FROM bookings WHERE reference = $1").await?;
    let stored = match client.query_opt(&stmt, &[&reference.as_str()]).await? {
        Some(row) => {
            let issued = TokenHash(fixed(row.try_get(1)?, "token hash")?);
            let recovered = match row.try_get::<_, Option<Vec<u8>>>(2)? {
                Some(hash) => Some(TokenHash(fixed(hash, "recovered token hash")?)),
                None => None,
            };
            Some((row.try_get::<_, i64>(0)?, OwnerHashes { issued, recovered }))
        }
        None => None,
    };
    let verified = decide::owns(token, stored.as_ref().map(|(_, hash)| hash));
    match stored {
        Some((id, _)) if verified => Ok(Some((id, booking_by_id(client, id).await?))),
        _ => Ok(None),
    }
}

/// A booking by its reference, whoever asks: for the mail sender and the operator's tools,
/// never a visitor (see [`crate::store::Store::booking_by_reference`]).
pub(super) async fn booking_by_reference(
    client: &impl GenericClient,
    reference: &BookingReference,
) -> Result<Option<BookingRecord>, Fault> {
    match booking_id(client, reference).await? {
        Some(id) => Ok(Some(booking_by_id(client, id).await?)),
        None => Ok(None),
    }
}

/// A booking's row id by its reference.
pub(super) async fn booking_id(
    client: &impl GenericClient,
    reference: &BookingReference,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let stmt = client.prepare_cached("SELECT id FROM bookings WHERE reference = $1").await?;
    client.query_opt(&stmt, &[&reference.as_str()]).await?.map(|row| row.try_get(0)).transpose()
}

/// A booking record's columns, read by [`record_from_row`]: the booking, its seats in the
/// order they were requested, and its showtime (from column 10, [`COLUMNS`]'s order). `b` is
/// the booking, `s` its showtime.
const RECORD: &str = "
    SELECT b.reference, b.name, b.email, b.token_hash, b.created_at, b.cancelled_at, b.check_in_code,
           b.cancelled_by, b.checked_in_at,
           ARRAY(SELECT seat FROM booking_seats WHERE booking_id = b.id ORDER BY position),
           s.id, s.film_slug, s.studio, s.local_date, s.slot, s.starts_at, s.ends_at, s.archived
    FROM bookings b JOIN showtimes s ON s.id = b.showtime_id";

fn record_from_row(row: &Row) -> Result<BookingRecord, Fault> {
    let reference: String = row.try_get(0)?;
    let cancelled_by = match row.try_get::<_, Option<String>>(7)? {
        Some(by) => Some(CancelledBy::parse(&by).ok_or(Fault::Malformed("canceller"))?),
        None => None,
    };
    Ok(BookingRecord {
        reference: BookingReference::parse(&reference).ok_or(Fault::Malformed("booking reference"))?,
        showtime: showtime_from_row(row, 10)?,
        seats: row.try_get(9)?,
        name: row.try_get(1)?,
        email: row.try_get(2)?,
        token_hash: TokenHash(fixed(row.try_get(3)?, "token hash")?),
        check_in_code: CheckInCode::parse(row.try_get(6)?).ok_or(Fault::Malformed("check-in code"))?,
        created_at: row.try_get(4)?,
        cancelled_at: row.try_get(5)?,
        cancelled_by,
        checked_in_at: row.try_get(8)?,
    })
}

/// One booking with its showtime and its seats in the order they were requested.
pub(super) async fn booking_by_id(client: &impl GenericClient, id: i64) -> Result<BookingRecord, Fault> {
    let stmt = client.prepare_cached(&format!("{RECORD} WHERE b.id = $1")).await?;
    record_from_row(&client.query_one(&stmt, &[&id]).await?)
}

/// See [`crate::store::Store::bookings`]: one statement, the seats of each booking included.
pub(super) async fn bookings(client: &impl GenericClient, query: &BookingQuery) -> Result<Vec<BookingRecord>, Fault> {
    let stmt = client
        .prepare_cached(&format!(
            "{RECORD}
             WHERE s.starts_at >= $1 AND s.starts_at < $2
               AND ($3::text IS NULL OR s.film_slug = $3)
               AND ($4::text IS NULL OR s.id = $4)
               AND ($5 OR b.cancelled_at IS NULL)
             ORDER BY s.starts_at, s.studio, b.created_at, b.id"
        ))
        .await?;
    let (from, to) = (within_range(query.from), within_range(query.to));
    let showtime = query.showtime.as_ref().map(ShowtimeId::as_str);
    let rows = client.query(&stmt, &[&from, &to, &query.film, &showtime, &query.include_cancelled]).await?;
    rows.iter().map(record_from_row).collect()
}

/// `at`, moved into the range of instants PostgreSQL keeps (years 4713 BC to 294276 AD, where
/// chrono's reach further): a query "from the beginning of time" asks for the earliest one
/// the server takes. No showtime is anywhere near either end.
pub(super) fn within_range(at: DateTime<Utc>) -> DateTime<Utc> {
    let earliest = NaiveDate::from_ymd_opt(-4000, 1, 1).expect("a valid date").and_time(NaiveTime::MIN).and_utc();
    let latest = NaiveDate::from_ymd_opt(200_000, 1, 1).expect("a valid date").and_time(NaiveTime::MIN).and_utc();
    at.clamp(earliest, latest)
}

/// The seats among `seats` that active bookings hold, in the order of `seats`.
pub(super) async fn held_among(
    client: &impl GenericClient,
    showtime: &ShowtimeId,
    seats: &[String],
) -> Result<Vec<String>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT seat FROM booking_seats WHERE showtime_id = $1 AND active AND seat = ANY($2)")
        .await?;
    let held: std::collections::HashSet<String> = client
        .query(&stmt, &[&showtime.as_str(), &seats])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(seats.iter().filter(|s| held.contains(*s)).cloned().collect())
}

/// A showtime, the seats its active bookings hold, and its hold rows (ended ones too: readers
/// filter them by their own clock, see [`ShowtimeSeats::at`]), each sorted by seat. One
/// statement, so the booked and the held seats are read at one instant: a booking that ends a
/// hold is seen before or after, never half.
pub(super) async fn showtime_seats(
    client: &impl GenericClient,
    id: &ShowtimeId,
) -> Result<Option<ShowtimeSeats>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS},
                ARRAY(SELECT seat FROM booking_seats WHERE showtime_id = $1 AND active ORDER BY seat),
                ARRAY(SELECT seat FROM seat_holds WHERE showtime_id = $1 ORDER BY seat),
                ARRAY(SELECT expires_at FROM seat_holds WHERE showtime_id = $1 ORDER BY seat)
             FROM showtimes WHERE id = $1"
        ))
        .await?;
    let Some(row) = client.query_opt(&stmt, &[&id.as_str()]).await? else {
        return Ok(None);
    };
    let held_seats: Vec<String> = row.try_get(9)?;
    let expiries: Vec<DateTime<Utc>> = row.try_get(10)?;
    Ok(Some(ShowtimeSeats {
        showtime: showtime_from_row(&row, 0)?,
        taken: row.try_get(8)?,
        held: held_seats.into_iter().zip(expiries).map(|(seat, expires_at)| HeldSeat { seat, expires_at }).collect(),
    }))
}

/// The live showtimes at `now`, each with its number of held seats.
pub(super) async fn live_showtimes_taken(
    client: &impl GenericClient,
    now: DateTime<Utc>,
) -> Result<Vec<(Showtime, usize)>, tokio_postgres::Error> {
    // One query for the lot: the counts come from the unique index over active seats.
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS},
                    (SELECT count(*) FROM booking_seats b WHERE b.showtime_id = showtimes.id AND b.active)
             FROM showtimes WHERE NOT archived AND starts_at > $1 ORDER BY starts_at, studio"
        ))
        .await?;
    let rows = client.query(&stmt, &[&now]).await?;
    rows.iter().map(|r| Ok((showtime_from_row(r, 0)?, usize::try_from(r.try_get::<_, i64>(8)?).unwrap_or(0)))).collect()
}
