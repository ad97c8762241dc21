//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each migration runs once, in order, inside one transaction with the version bump, so a
//! crash mid-migration leaves the previous version intact. Append; never edit a released step.

use std::path::Path;

use rusqlite::Connection;

use super::{backend, retry_while_busy};
use crate::store::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: the schedule.
    "CREATE TABLE showtimes (
        id         TEXT PRIMARY KEY,
        film_slug  TEXT NOT NULL,
        studio     INTEGER NOT NULL,
        local_date TEXT NOT NULL,
        slot       TEXT NOT NULL,
        starts_at  INTEGER NOT NULL,
        ends_at    INTEGER NOT NULL,
        archived   INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX showtimes_live ON showtimes (archived, starts_at);",
    // 2: bookings. A seat row is active while its booking is; the partial unique index lets a
    // seat be held by at most one active booking, whatever the code above it does. Idempotency
    // records keep a key's derived id and the sealed token, never the key or the token.
    "CREATE TABLE bookings (
        id           INTEGER PRIMARY KEY,
        reference    TEXT NOT NULL UNIQUE,
        showtime_id  TEXT NOT NULL REFERENCES showtimes (id),
        name         TEXT NOT NULL,
        email        TEXT,
        token_hash   BLOB NOT NULL,
        created_at   INTEGER NOT NULL,
        cancelled_at INTEGER
    ) STRICT;
    CREATE TABLE booking_seats (
        booking_id  INTEGER NOT NULL REFERENCES bookings (id),
        showtime_id TEXT NOT NULL,
        seat        TEXT NOT NULL,
        active      INTEGER NOT NULL DEFAULT 1
    ) STRICT;
    CREATE UNIQUE INDEX booking_seats_one_holder ON booking_seats (showtime_id, seat) WHERE active = 1;
    CREATE INDEX booking_seats_of_booking ON booking_seats (booking_id);
    CREATE TABLE idempotency_keys (
        key_id       BLOB PRIMARY KEY,
        fingerprint  BLOB NOT NULL,
        booking_id   INTEGER NOT NULL REFERENCES bookings (id),
        sealed_token BLOB NOT NULL,
        created_at   INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;",
    // 3: one row the booking writer rewrites after a failed commit (a full disk, say) to learn
    // when writes reach the disk again, so health recovers without waiting for a booking.
    "CREATE TABLE write_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at INTEGER NOT NULL
    ) STRICT;",
    // 4: the seat change log (see `seat_changes.rs`): one row per showtime whose seats a
    // booking batch changed, so other processes on this file learn of the commit.
    // AUTOINCREMENT: numbers are never reused after pruning, so a reader's cursor stays valid.
    "CREATE TABLE seat_changes (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        showtime_id TEXT NOT NULL,
        origin      INTEGER NOT NULL,
        at          INTEGER NOT NULL
    ) STRICT;",
    // 5: seat holds (see `holds.rs`): a seat is held by at most one token at a time. Times in
    // milliseconds since the epoch, since a hold may last seconds (tests) and its expiry is told
    // to the millisecond; `held_at` orders a token's seats. A row whose `expires_at` has passed
    // holds nothing, whether or not it was deleted yet.
    "CREATE TABLE seat_holds (
        showtime_id TEXT NOT NULL,
        seat        TEXT NOT NULL,
        token_hash  BLOB NOT NULL,
        expires_at  INTEGER NOT NULL,
        held_at     INTEGER NOT NULL,
        PRIMARY KEY (showtime_id, seat)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX seat_holds_of_token ON seat_holds (showtime_id, token_hash);",
    // 6: tickets and mail (issue 11). A booking's check-in code (what its QR code carries to
    // the door, never the manage token; bookings made before get one here), the hash of the
    // manage token the latest recovery mail sent (the booking's own token keeps working), and
    // the outbox (see `outbox.rs`): messages queued in the transaction of the booking or
    // cancellation they tell of, claimed by a sender with a lease, marked sent once delivered.
    // Times in milliseconds since the epoch.
    "ALTER TABLE bookings ADD COLUMN check_in_code TEXT;
    ALTER TABLE bookings ADD COLUMN recovered_token_hash BLOB;
    UPDATE bookings SET check_in_code = substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || '-' || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || '-' || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || '-' || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + abs(random() % 30), 1);
    CREATE UNIQUE INDEX bookings_check_in_code ON bookings (check_in_code);
    CREATE INDEX bookings_email ON bookings (lower(email)) WHERE email IS NOT NULL;
    CREATE TABLE outbox (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        kind          TEXT NOT NULL,
        recipient     TEXT NOT NULL,
        payload       TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        due_at        INTEGER NOT NULL,
        claimed_by    TEXT,
        claimed_until INTEGER,
        sent_at       INTEGER,
        last_error    TEXT
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (due_at) WHERE sent_at IS NULL;",
    // 7: the operator's side (issue 12). When a booking was checked in at the door (seconds
    // since the epoch, like `created_at`), and who cancelled it (cancellations before this were
    // all the bookers'). Indexes for what the operator and the roll look up: a showtime's
    // bookings (door lists, retiring showtimes), and the idempotency records and sent mail a
    // roll purges by age.
    "ALTER TABLE bookings ADD COLUMN checked_in_at INTEGER;
    ALTER TABLE bookings ADD COLUMN cancelled_by TEXT CHECK (cancelled_by IN ('booker', 'operator'));
    UPDATE bookings SET cancelled_by = 'booker' WHERE cancelled_at IS NOT NULL;
    CREATE INDEX bookings_of_showtime ON bookings (showtime_id, created_at);
    CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
    CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend)?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew { database: path.display().to_string(), found: current, known: SCHEMA_VERSION });
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    // IMMEDIATE: two processes opening a fresh database at once must not both migrate.
    retry_while_busy(|| conn.execute_batch("BEGIN IMMEDIATE")).map_err(backend)?;
    let result = (|| {
        let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            conn.execute_batch(sql)?;
            conn.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(backend),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(backend(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OpenMode;
    use crate::store::sqlite::open_connection;

    /// A database as the build before holds left it: schema version 4, with a booking.
    fn version_4(path: &Path) {
        let conn = Connection::open(path).unwrap();
        for sql in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 4;
             INSERT INTO showtimes VALUES ('s', 'film', 1, '2030-03-01', '10:00', 1, 2, 0, 0);
             INSERT INTO bookings (reference, showtime_id, name, token_hash, created_at)
                 VALUES ('TK-2222-2222', 's', 'Ana', x'00', 0);
             INSERT INTO booking_seats (booking_id, showtime_id, seat) VALUES (1, 's', 'A1');",
        )
        .unwrap();
    }

    #[test]
    fn a_version_4_database_gains_seat_holds_and_keeps_its_bookings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        version_4(&path);
        let conn = open_connection(&path, OpenMode::Existing).unwrap();
        assert_eq!(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), SCHEMA_VERSION);
        let seat: String = conn.query_row("SELECT seat FROM booking_seats", [], |r| r.get(0)).unwrap();
        assert_eq!(seat, "A1", "the booking survived the upgrade");
        let hold = "INSERT INTO seat_holds VALUES ('s', 'A2', x'01', 1700000000123, 1700000000000)";
        conn.execute(hold, []).unwrap();
        assert!(conn.execute(hold, []).is_err(), "one row per seat");
        drop(conn);
        assert!(open_connection(&path, OpenMode::Existing).is_ok(), "opening again changes nothing");
    }

    #[test]
    fn bookings_made_before_tickets_get_a_check_in_code_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        version_4(&path);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[4]).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 5;
             INSERT INTO bookings (reference, showtime_id, name, token_hash, created_at)
                 VALUES ('TK-3333-3333', 's', 'Bo', x'00', 0);",
        )
        .unwrap();
        drop(conn);
        let conn = open_connection(&path, OpenMode::Existing).unwrap();
        let codes: Vec<String> = conn
            .prepare("SELECT check_in_code FROM bookings ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(codes.len(), 2);
        for code in &codes {
            assert!(crate::booking::CheckInCode::parse(code).is_some_and(|c| c.as_str() == code), "{code:?}");
        }
        assert_ne!(codes[0], codes[1]);
    }

    #[test]
    fn cancellations_made_before_operators_could_cancel_are_the_bookers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        version_4(&path);
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[4..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 6;
             INSERT INTO bookings (reference, showtime_id, name, token_hash, created_at, cancelled_at, check_in_code)
                 VALUES ('TK-3333-3333', 's', 'Bo', x'00', 0, 5, '2222-2222-2222-2222');",
        )
        .unwrap();
        drop(conn);
        let conn = open_connection(&path, OpenMode::Existing).unwrap();
        let rows: Vec<(String, Option<String>, Option<i64>)> = conn
            .prepare("SELECT reference, cancelled_by, checked_in_at FROM bookings ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [("TK-2222-2222".into(), None, None), ("TK-3333-3333".into(), Some("booker".into()), None)],
            "the active booking was cancelled by nobody, the cancelled one by its booker; none checked in"
        );
        let other = "UPDATE bookings SET cancelled_by = 'someone' WHERE id = 1";
        assert!(conn.execute(other, []).is_err(), "only the booker or the operator cancels");
    }

    #[test]
    fn a_database_one_version_ahead_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        version_4(&path);
        Connection::open(&path)
            .unwrap()
            .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
            .unwrap();
        let err = open_connection(&path, OpenMode::Existing).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { found, known, .. } if found == known + 1), "{err}");
    }
}
