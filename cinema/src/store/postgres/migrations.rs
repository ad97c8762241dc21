//! Versioned schema migrations, tracked in the one-row table `tiketa_schema`.
//!
//! Each migration runs in its own transaction together with the version bump, so a crash
//! mid-migration leaves the previous version intact. Every such transaction first takes a
//! transaction-scoped advisory lock ([`lock::MIGRATE`]), so two instances starting at once on a
//! fresh database migrate it once: the second waits, then finds the version already bumped.
//! Append; never edit a released step.
//!
//! The tables mean what SQLite's do (`store/sqlite/migrations.rs`), with PostgreSQL's types:
//! instants as `timestamptz`, hashes and sealed tokens as `bytea` with their lengths checked,
//! flags as `boolean`.

use deadpool_postgres::Pool;

use super::errors::{pool_error, store_error};
use super::lock;
use crate::store::{OpenMode, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: the schedule, and bookings. A seat row is active while its booking is; the partial
    // unique index lets a seat be held by at most one active booking, whatever the code above
    // it does. Idempotency records keep a key's derived id and the sealed token, never the key
    // or the token. `position` keeps a booking's seats in the order they were requested.
    "CREATE TABLE showtimes (
        id         text PRIMARY KEY,
        film_slug  text NOT NULL,
        studio     integer NOT NULL,
        local_date date NOT NULL,
        slot       time NOT NULL,
        starts_at  timestamptz NOT NULL,
        ends_at    timestamptz NOT NULL,
        archived   boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL
    );
    CREATE INDEX showtimes_live ON showtimes (starts_at) WHERE NOT archived;
    CREATE TABLE bookings (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        reference    text NOT NULL CONSTRAINT bookings_reference_unique UNIQUE,
        showtime_id  text NOT NULL REFERENCES showtimes (id),
        name         text NOT NULL,
        email        text,
        token_hash   bytea NOT NULL CHECK (octet_length(token_hash) = 32),
        created_at   timestamptz NOT NULL,
        cancelled_at timestamptz
    );
    CREATE TABLE booking_seats (
        booking_id  bigint NOT NULL REFERENCES bookings (id),
        position    integer NOT NULL,
        showtime_id text NOT NULL,
        seat        text NOT NULL,
        active      boolean NOT NULL DEFAULT true,
        PRIMARY KEY (booking_id, position)
    );
    CREATE UNIQUE INDEX booking_seats_one_holder ON booking_seats (showtime_id, seat) WHERE active;
    CREATE TABLE idempotency_keys (
        key_id       bytea PRIMARY KEY CHECK (octet_length(key_id) = 32),
        fingerprint  bytea NOT NULL CHECK (octet_length(fingerprint) = 32),
        booking_id   bigint NOT NULL REFERENCES bookings (id),
        sealed_token bytea NOT NULL,
        created_at   timestamptz NOT NULL
    );",
    // 2: seat holds. One row per held seat, so the primary key lets a seat be held by at most
    // one token whatever the code above it does; a row whose `expires_at` has passed holds
    // nothing (readers compare with their clock) and is overwritten or deleted by the next
    // hold on the showtime. `held_at` orders a token's seats as they were held.
    // `timestamptz` keeps microseconds.
    "CREATE TABLE seat_holds (
        showtime_id text NOT NULL REFERENCES showtimes (id),
        seat        text NOT NULL,
        token_hash  bytea NOT NULL CHECK (octet_length(token_hash) = 32),
        expires_at  timestamptz NOT NULL,
        held_at     timestamptz NOT NULL,
        PRIMARY KEY (showtime_id, seat)
    );
    CREATE INDEX seat_holds_token ON seat_holds (showtime_id, token_hash);",
    // 3: tickets and mail (issue 11), as SQLite's migration 6: a booking's check-in code
    // (bookings made before get one here), the hash of the manage token the latest recovery
    // mail sent, and the outbox (see `outbox.rs`).
    "ALTER TABLE bookings ADD COLUMN check_in_code text;
    ALTER TABLE bookings ADD COLUMN recovered_token_hash bytea CHECK (octet_length(recovered_token_hash) = 32);
    UPDATE bookings SET check_in_code = substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || '-' || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || '-' || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || '-' || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1) || substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::integer, 1);
    ALTER TABLE bookings ALTER COLUMN check_in_code SET NOT NULL;
    ALTER TABLE bookings ADD CONSTRAINT bookings_check_in_code_unique UNIQUE (check_in_code);
    CREATE INDEX bookings_email ON bookings (lower(email)) WHERE email IS NOT NULL;
    CREATE TABLE outbox (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind          text NOT NULL,
        recipient     text NOT NULL,
        payload       text NOT NULL,
        created_at    timestamptz NOT NULL,
        attempts      integer NOT NULL DEFAULT 0,
        due_at        timestamptz NOT NULL,
        claimed_by    text,
        claimed_until timestamptz,
        sent_at       timestamptz,
        last_error    text
    );
    CREATE INDEX outbox_due ON outbox (due_at) WHERE sent_at IS NULL;",
    // 4: the operator's side (issue 12): when a booking was checked in at the door, and who
    // cancelled it (every booking cancelled before this was cancelled by its booker, the only
    // one who could). The indexes serve what a roll does: find a showtime's bookings before
    // retiring it (also the door list, and the check a showtime's deletion makes of the
    // foreign key), and purge old idempotency records and old sent mail.
    "ALTER TABLE bookings ADD COLUMN checked_in_at timestamptz;
    ALTER TABLE bookings ADD COLUMN cancelled_by text CHECK (cancelled_by IN ('booker', 'operator'));
    UPDATE bookings SET cancelled_by = 'booker' WHERE cancelled_at IS NOT NULL;
    ALTER TABLE bookings ADD CONSTRAINT bookings_cancelled_by_whom
        CHECK ((cancelled_at IS NULL) = (cancelled_by IS NULL));
    CREATE INDEX bookings_showtime ON bookings (showtime_id);
    CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
    CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;",
    // 5: a film's showtimes by start (issue 13): the generator reads the schedule a film at a
    // time (10,000 reads at 10,000 films), and `GET /api/showtimes?film=` and the door's list of
    // one studio ask the same; without it each read walked every live showtime. Archived rows
    // are indexed too: the door lists a day's started showtimes.
    "CREATE INDEX showtimes_film ON showtimes (film_slug, starts_at);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to date. [`OpenMode::Existing`] refuses a database without Tiketa's
/// schema untouched (a mistyped `DATABASE_URL` must not turn some other database into an
/// empty Tiketa one); [`OpenMode::Create`] creates it. A newer schema is refused either way.
pub(super) async fn migrate(pool: &Pool, mode: OpenMode, database: &str) -> Result<(), StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    loop {
        let tx = client.transaction().await.map_err(store_error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&lock::CLASS, &lock::MIGRATE])
            .await
            .map_err(store_error)?;
        let has_schema: bool =
            tx.query_one("SELECT to_regclass('tiketa_schema') IS NOT NULL", &[]).await.map_err(store_error)?.get(0);
        if !has_schema {
            if mode == OpenMode::Existing {
                return Err(StoreError::NotTiketa { database: database.to_string() });
            }
            tx.batch_execute(
                "CREATE TABLE tiketa_schema (
                    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
                    version bigint NOT NULL
                );
                INSERT INTO tiketa_schema (version) VALUES (0);",
            )
            .await
            .map_err(store_error)?;
        }
        let found: i64 = tx.query_one("SELECT version FROM tiketa_schema", &[]).await.map_err(store_error)?.get(0);
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { database: database.to_string(), found, known: SCHEMA_VERSION });
        }
        if found == SCHEMA_VERSION {
            // Nothing to do; the (empty or schema-creating) transaction is committed.
            return tx.commit().await.map_err(store_error);
        }
        tx.batch_execute(MIGRATIONS[found as usize]).await.map_err(store_error)?;
        tx.execute("UPDATE tiketa_schema SET version = $1", &[&(found + 1)]).await.map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        tracing::info!("{database}: schema migrated to version {}", found + 1);
    }
}
