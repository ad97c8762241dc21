//! Reading bookings: the queries, and the pool of read connections they run on.
//!
//! In WAL mode readers never wait for the writer, so seat maps are served from a few read-only
//! connections while the writer commits. The pool is a stack behind a mutex held only to pop
//! or push a connection, never during a query.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::bookings_wal::ReadGate;
use super::schedule::{first_whole_second, live_showtimes, showtime};
use super::{OpenMode, backend, open_connection};
use crate::booking::record::{BookingRecord, ShowtimeSeats};
use crate::booking::{BookingReference, CheckInCode, ManageToken, OwnerHashes, TokenHash};
use crate::box_office::{BookingQuery, CancelledBy};
use crate::schedule::ShowtimeId;
use crate::store::StoreError;

/// Read connections, opened on demand and kept for reuse.
/// The page cache of each read connection, in KiB.
const READ_CACHE_KIB: u32 = 256;

pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Held shared during each read, so the writer can truncate the log between reads.
    gate: ReadGate,
}

impl ReadPool {
    pub(crate) fn new(path: &Path, gate: ReadGate) -> Self {
        ReadPool { path: path.to_path_buf(), idle: Mutex::new(Vec::new()), gate }
    }

    /// Runs `read` on an idle connection (or a new one) and returns the connection after.
    pub(crate) fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = open_connection(&self.path, OpenMode::Existing)?;
                // A small page cache each: the pool grows to as many connections as reads run
                // at once, and SQLite's default (2 MB each) made them a large part of the
                // service's memory at 10,000 films (issue 13); the OS caches the file anyway.
                c.execute_batch(&format!("PRAGMA query_only = ON; PRAGMA cache_size = -{READ_CACHE_KIB}"))
                    .map_err(backend)?;
                c
            }
        };
        let result = {
            let _reading = self.gate.read().unwrap_or_else(|p| p.into_inner());
            read(&conn).map_err(backend)
        };
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        result
    }
}

pub(crate) fn timestamp(secs: i64) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("timestamp {secs} out of range").into(),
        )
    })
}

/// An instant kept in epoch milliseconds (holds, the outbox).
pub(crate) fn timestamp_millis(ms: i64) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("time {ms} ms out of range").into(),
        )
    })
}

/// A booking's row id and record, if `token` is its manage token.
pub(crate) fn booking_of_owner(
    conn: &Connection,
    reference: &BookingReference,
    token: &ManageToken,
) -> rusqlite::Result<Option<(i64, BookingRecord)>> {
    booking_if_verified(conn, reference, |stored| crate::booking::decide::owns(token, stored))
}

/// A booking's row id and record, if `verify` accepts its stored token hash.
///
/// An unknown reference and a wrong token do the same work: one indexed lookup of the row id
/// and token hash (nothing else is read or decoded), then one call of `verify`, with `None`
/// when there is no row ([`ManageToken::verify`] then hashes against a dummy). The rest of the
/// booking, its seats and its showtime are read only for the owner, so a wrong guess never
/// costs the extra work that would tell an existing reference from an unknown one by timing.
/// `verify` is a parameter so a test can see that both paths call it.
fn booking_if_verified(
    conn: &Connection,
    reference: &BookingReference,
    verify: impl FnOnce(Option<&OwnerHashes>) -> bool,
) -> rusqlite::Result<Option<(i64, BookingRecord)>> {
    let stored = conn
        .prepare_cached("SELECT id, token_hash, recovered_token_hash FROM bookings WHERE reference = ?1")?
        .query_row([reference.as_str()], |row| {
            let hash = |i: usize, blob: &[u8]| -> rusqlite::Result<TokenHash> {
                Ok(TokenHash(blob.try_into().map_err(|_| {
                    rusqlite::Error::FromSqlConversionFailure(
                        i,
                        rusqlite::types::Type::Blob,
                        "stored token hash is malformed".into(),
                    )
                })?))
            };
            let issued = hash(1, row.get_ref(1)?.as_blob()?)?;
            let recovered = row.get_ref(2)?.as_blob_or_null()?.map(|b| hash(2, b)).transpose()?;
            Ok((row.get::<_, i64>(0)?, OwnerHashes { issued, recovered }))
        })
        .optional()?;
    let verified = verify(stored.as_ref().map(|(_, hash)| hash));
    match stored {
        Some((id, _)) if verified => Ok(Some((id, booking_by_id(conn, id)?))),
        _ => Ok(None),
    }
}

/// A booking by its reference, without any token: for the mail sender and the operator.
pub(crate) fn booking_by_reference(
    conn: &Connection,
    reference: &BookingReference,
) -> rusqlite::Result<Option<BookingRecord>> {
    Ok(booking_with_id_by_reference(conn, reference)?.map(|(_, record)| record))
}

/// A booking's row id and record by its reference, without any token: for the operator's
/// cancel.
pub(crate) fn booking_with_id_by_reference(
    conn: &Connection,
    reference: &BookingReference,
) -> rusqlite::Result<Option<(i64, BookingRecord)>> {
    let id: Option<i64> = conn
        .prepare_cached("SELECT id FROM bookings WHERE reference = ?1")?
        .query_row([reference.as_str()], |r| r.get(0))
        .optional()?;
    id.map(|id| Ok((id, booking_by_id(conn, id)?))).transpose()
}

/// A booking's row id and record by the check-in code its ticket carries.
pub(crate) fn booking_by_check_in_code(
    conn: &Connection,
    code: &CheckInCode,
) -> rusqlite::Result<Option<(i64, BookingRecord)>> {
    let id: Option<i64> = conn
        .prepare_cached("SELECT id FROM bookings WHERE check_in_code = ?1")?
        .query_row([code.as_str()], |r| r.get(0))
        .optional()?;
    id.map(|id| Ok((id, booking_by_id(conn, id)?))).transpose()
}

pub(crate) fn booking_by_id(conn: &Connection, id: i64) -> rusqlite::Result<BookingRecord> {
    conn.prepare_cached(&format!("SELECT {BOOKING_COLUMNS} FROM bookings b WHERE b.id = ?1"))?
        .query_row([id], BookingRow::read)?
        .complete(conn)
}

/// The bookings `query` asks for (see [`crate::store::Store::bookings`]), by showtime start,
/// then studio, then when each was made.
pub(crate) fn bookings(conn: &Connection, query: &BookingQuery) -> rusqlite::Result<Vec<BookingRecord>> {
    let rows: Vec<BookingRow> = conn
        .prepare_cached(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings b JOIN showtimes s ON s.id = b.showtime_id
             WHERE s.starts_at >= ?1 AND s.starts_at < ?2
               AND (?3 IS NULL OR s.film_slug = ?3)
               AND (?4 IS NULL OR b.showtime_id = ?4)
               AND (?5 OR b.cancelled_at IS NULL)
             ORDER BY s.starts_at, s.studio, b.created_at, b.id"
        ))?
        .query_map(
            params![
                first_whole_second(query.from),
                first_whole_second(query.to),
                query.film,
                query.showtime.as_ref().map(ShowtimeId::as_str),
                query.include_cancelled,
            ],
            BookingRow::read,
        )?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(|row| row.complete(conn)).collect()
}

/// The columns [`BookingRow::read`] reads, of `bookings` named `b` in the query.
const BOOKING_COLUMNS: &str = "b.id, b.reference, b.showtime_id, b.name, b.email, b.token_hash, b.created_at, \
     b.cancelled_at, b.check_in_code, b.cancelled_by, b.checked_in_at";

/// A `bookings` row, before its seats and showtime are read.
struct BookingRow {
    id: i64,
    reference: BookingReference,
    showtime: ShowtimeId,
    name: String,
    email: Option<String>,
    token_hash: TokenHash,
    created_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
    check_in_code: CheckInCode,
    cancelled_by: Option<CancelledBy>,
    checked_in_at: Option<DateTime<Utc>>,
}

impl BookingRow {
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let bad = |i: usize, what: &str| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Text,
                format!("stored {what} is malformed").into(),
            )
        };
        let reference: String = row.get(1)?;
        let hash: Vec<u8> = row.get(5)?;
        Ok(BookingRow {
            id: row.get(0)?,
            reference: BookingReference::parse(&reference).ok_or_else(|| bad(1, "reference"))?,
            showtime: ShowtimeId(row.get(2)?),
            name: row.get(3)?,
            email: row.get(4)?,
            token_hash: TokenHash(hash.try_into().map_err(|_| bad(5, "token hash"))?),
            created_at: timestamp(row.get(6)?)?,
            cancelled_at: row.get::<_, Option<i64>>(7)?.map(timestamp).transpose()?,
            check_in_code: CheckInCode::parse(&row.get::<_, String>(8)?).ok_or_else(|| bad(8, "check-in code"))?,
            cancelled_by: row
                .get::<_, Option<String>>(9)?
                .map(|by| CancelledBy::parse(&by).ok_or_else(|| bad(9, "cancelled_by")))
                .transpose()?,
            checked_in_at: row.get::<_, Option<i64>>(10)?.map(timestamp).transpose()?,
        })
    }

    /// Adds the seats (in request order) and the showtime (a showtime with bookings is never
    /// deleted).
    fn complete(self, conn: &Connection) -> rusqlite::Result<BookingRecord> {
        let seats = conn
            .prepare_cached("SELECT seat FROM booking_seats WHERE booking_id = ?1 ORDER BY rowid")?
            .query_map([self.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let showtime = showtime(conn, &self.showtime)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        Ok(BookingRecord {
            reference: self.reference,
            showtime,
            seats,
            name: self.name,
            email: self.email,
            token_hash: self.token_hash,
            check_in_code: self.check_in_code,
            created_at: self.created_at,
            cancelled_at: self.cancelled_at,
            cancelled_by: self.cancelled_by,
            checked_in_at: self.checked_in_at,
        })
    }
}

pub(crate) fn showtime_seats(conn: &Connection, id: &ShowtimeId) -> rusqlite::Result<Option<ShowtimeSeats>> {
    let Some(showtime) = showtime(conn, id)? else {
        return Ok(None);
    };
    let taken = conn
        .prepare_cached("SELECT seat FROM booking_seats WHERE showtime_id = ?1 AND active = 1 ORDER BY seat")?
        .query_map([id.as_str()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let held = super::holds::held_seats(conn, id)?;
    Ok(Some(ShowtimeSeats { showtime, taken, held }))
}

pub(crate) fn live_showtimes_taken(
    conn: &Connection,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<(crate::schedule::Showtime, usize)>> {
    let showtimes = live_showtimes(conn, now)?;
    let mut count = conn.prepare_cached("SELECT COUNT(*) FROM booking_seats WHERE showtime_id = ?1 AND active = 1")?;
    showtimes
        .into_iter()
        .map(|s| {
            let taken: i64 = count.query_row(params![s.id.as_str()], |r| r.get(0))?;
            Ok((s, taken as usize))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use chrono::DateTime;

    use super::*;
    use crate::booking::BookingReference;
    use crate::booking::{NewBooking, PlaceOutcome};
    use crate::catalog::tests::catalog_of;
    use crate::schedule::plan_horizon;
    use crate::store::sqlite::{SqliteBookingStore, SqliteStore};

    /// Runs `booking_of_owner` and counts the SQLite virtual-machine instructions it executed:
    /// a deterministic measure of the database work, where wall-clock time would be flaky.
    fn work(conn: &Connection, reference: &BookingReference, token: &ManageToken) -> (u64, bool) {
        let steps = Arc::new(AtomicU64::new(0));
        let counter = steps.clone();
        conn.progress_handler(
            1,
            Some(move || {
                counter.fetch_add(1, Ordering::Relaxed);
                false
            }),
        );
        let found = booking_of_owner(conn, reference, token).unwrap().is_some();
        conn.progress_handler(0, None::<fn() -> bool>);
        (steps.load(Ordering::Relaxed), found)
    }

    #[test]
    fn an_unknown_reference_and_a_wrong_token_do_the_same_database_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let now = DateTime::parse_from_rfc3339("2026-11-24T00:00:00+07:00").unwrap().to_utc();
        SqliteStore::open(&path).unwrap().roll(&plan_horizon(&catalog_of(1, ""), now), now).unwrap();
        let store = SqliteBookingStore::open(&path).unwrap();
        let mut rng = rand::rng();
        let (reference, token) = (BookingReference::generate(&mut rng), ManageToken::generate(&mut rng));
        let placed = store
            .place(NewBooking {
                showtime: ShowtimeId("film-1-20261124-1000".into()),
                seats: vec!["A1".into(), "A2".into()],
                name: "Ana".into(),
                email: None,
                reference: reference.clone(),
                token_hash: token.hash(),
                check_in_code: crate::booking::CheckInCode::generate(&mut rand::rng()),
                mail: None,
                idempotency: None,
                hold: None,
                now,
            })
            .wait()
            .unwrap();
        assert!(matches!(placed, PlaceOutcome::Placed(_)));
        store.close();

        let conn = Connection::open(&path).unwrap();
        let unknown_reference = BookingReference::parse("TK-2222-2222").unwrap();
        let wrong_token = ManageToken::generate(&mut rng);
        // Warm the statement cache so every measured call runs prepared statements.
        work(&conn, &reference, &token);
        let unknown = work(&conn, &unknown_reference, &token);
        let wrong = work(&conn, &reference, &wrong_token);
        let owner = work(&conn, &reference, &token);
        assert_eq!((unknown.1, wrong.1, owner.1), (false, false, true));
        // A found row costs a couple more instructions (reading two columns) than a missing one;
        // the rest of the booking, its seats and showtime, which only the owner gets, cost many.
        assert!(
            wrong.0.abs_diff(unknown.0) <= 4,
            "a wrong token ({} steps) must cost what an unknown reference costs ({} steps)",
            wrong.0,
            unknown.0
        );
        assert!(owner.0 > wrong.0 + 32, "the owner's read ({} steps) reads more than a refusal ({})", owner.0, wrong.0);

        // And both refusals run the token verification: the unknown reference with no hash.
        let mut seen = Vec::new();
        for r in [&unknown_reference, &reference] {
            let found = booking_if_verified(&conn, r, |stored| {
                seen.push(stored.copied());
                false
            });
            assert!(found.unwrap().is_none());
        }
        let stored = OwnerHashes { issued: token.hash(), recovered: None };
        assert_eq!(seen, [None, Some(stored)], "verify runs once on each path");
    }
}
