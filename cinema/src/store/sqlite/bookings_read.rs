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
use super::schedule::{live_showtimes, showtime};
use super::{OpenMode, backend, open_connection};
use crate::booking::{BookingReference, TokenHash};
use crate::schedule::ShowtimeId;
use crate::store::StoreError;
use crate::store::bookings::{BookingRecord, ShowtimeSeats};

/// Read connections, opened on demand and kept for reuse.
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
                c.execute_batch("PRAGMA query_only = ON").map_err(backend)?;
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

/// A booking's row id and record.
pub(crate) fn booking_by_reference(
    conn: &Connection,
    reference: &BookingReference,
) -> rusqlite::Result<Option<(i64, BookingRecord)>> {
    let row = conn
        .prepare_cached(&format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE reference = ?1"))?
        .query_row([reference.as_str()], BookingRow::read)
        .optional()?;
    row.map(|row| Ok((row.id, row.complete(conn)?))).transpose()
}

pub(crate) fn booking_by_id(conn: &Connection, id: i64) -> rusqlite::Result<BookingRecord> {
    conn.prepare_cached(&format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = ?1"))?
        .query_row([id], BookingRow::read)?
        .complete(conn)
}

const BOOKING_COLUMNS: &str = "id, reference, showtime_id, name, email, token_hash, created_at, cancelled_at";

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
        })
    }

    /// Adds the seats (in request order) and the showtime (showtimes are never deleted).
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
            created_at: self.created_at,
            cancelled_at: self.cancelled_at,
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
    Ok(Some(ShowtimeSeats { showtime, taken }))
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
