//! Placing and cancelling bookings: one transaction each.
//!
//! `place` gathers the facts inside its transaction (an earlier use of the idempotency key, the
//! showtime, locked against holds as [`super::showtime_lock`] says, the requested seats
//! already booked, and the holds on them), asks [`decide::place`], and applies the answer: a
//! booking with a hold token also deletes every row of that token's hold on the showtime, in
//! the same statement that writes it. The decision is the rule; the database has the last word on the races a read
//! cannot see: two bookings that both found a seat free both insert it, and the unique index
//! over active seats (`booking_seats_one_holder`) makes the second wait for the first's
//! COMMIT and then refuses it; the store then reads who holds what and answers
//! [`PlaceOutcome::SeatsTaken`]. A reference drawn twice hits `bookings_reference_unique`
//! and answers [`PlaceOutcome::ReferenceTaken`].
//!
//! A keyed request first takes a transaction-scoped advisory lock on its key, then reads the
//! key: the same Idempotency-Key sent to two instances at once makes one booking, and the
//! other request, waiting on the lock until that booking's COMMIT, then reads the key and
//! replays it (without the lock it would find the seats held and answer "taken").
//!
//! A booking's confirmation (`NewBooking::mail`) is inserted into the outbox by the statement
//! that writes the booking, and a cancellation's notice by the cancelling transaction once
//! [`decide::cancel`] said `Cancel`: a refused booking or a second cancel queues nothing.
//!
//! A box-office cancellation ([`cancel_by_operator`]) is the booker's cancellation found by
//! reference alone: the same rules, the same notice, and the booking records who cancelled it
//! (`cancelled_by`).
//!
//! Every transaction that takes or frees seats also calls `pg_notify` (see [`super::listen`]),
//! which PostgreSQL delivers to the other instances only if and when it commits.

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool, Transaction};

use super::bookings_read::{booking_by_id, booking_id, booking_of_owner, held_among};
use super::errors::{Fault, fixed, violates};
use super::listen::Notify;
use super::lock;
use super::observers::Observers;
use super::transaction::{ATTEMPTS, Work, backoff, in_observed_transaction};
use super::{holds, outbox, showtime_lock};
use crate::booking::decide::{self, CancelDecision, CancelFacts, PlaceDecision, PlaceFacts};
use crate::booking::record::{CancelOutcome, NewBooking, PlaceOutcome};
use crate::booking::{BookingReference, Fingerprint, ManageToken, SealedToken};
use crate::box_office::CancelledBy;
use crate::outbox::{MailBooking, NewMail};
use crate::store::StoreError;

/// How one attempt at placing ended.
// Lives for one attempt, on the stack; boxing the outcome would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Placing {
    Decided(PlaceOutcome),
    /// The seat index refused a seat another transaction took since this one read: roll back,
    /// then find out which seats are held.
    SeatConflict,
    /// The key was used by a transaction this one did not wait for: run again to replay it.
    KeyConflict,
}

struct PlaceInput<'a> {
    booking: &'a NewBooking,
    notify: &'a Notify,
}

/// The earlier uses of these keys (a batch's), by key id.
pub(super) async fn earlier_uses(
    tx: &impl GenericClient,
    keys: &[[u8; 32]],
) -> Result<std::collections::HashMap<[u8; 32], Earlier>, Fault> {
    let ids: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
    let stmt = tx
        .prepare_cached(
            "SELECT key_id, fingerprint, booking_id, sealed_token FROM idempotency_keys WHERE key_id = ANY($1)",
        )
        .await?;
    let mut found = std::collections::HashMap::new();
    for row in tx.query(&stmt, &[&ids]).await? {
        let key: [u8; 32] = fixed(row.try_get(0)?, "idempotency key id")?;
        found.insert(
            key,
            Earlier {
                fingerprint: Fingerprint(fixed(row.try_get(1)?, "idempotency fingerprint")?),
                booking_id: row.try_get(2)?,
                sealed_token: SealedToken(fixed(row.try_get(3)?, "sealed token")?),
            },
        );
    }
    Ok(found)
}

/// See [`crate::store::Store::place`]: one booking in a transaction of its own.
pub(super) async fn place(
    pool: &Pool,
    notify: &Notify,
    observers: &Observers,
    booking: &NewBooking,
) -> Result<PlaceOutcome, StoreError> {
    let input = PlaceInput { booking, notify };
    let placed = |p: &Placing| matches!(p, Placing::Decided(PlaceOutcome::Placed(_)));
    for attempt in 1..=ATTEMPTS {
        let placing =
            in_observed_transaction(pool, observers, &input, place_in, placed, |p| usize::from(placed(p))).await?;
        match placing {
            Placing::Decided(outcome) => return Ok(outcome),
            Placing::KeyConflict => {}
            Placing::SeatConflict => {
                let client = pool.get().await.map_err(super::errors::pool_error)?;
                let held =
                    held_among(&client, &booking.showtime, &booking.seats).await.map_err(super::errors::store_error)?;
                if !held.is_empty() {
                    return Ok(PlaceOutcome::SeatsTaken(held));
                }
                // A seat asked for twice collides with itself.
                let mut seen = std::collections::HashSet::new();
                let twice: Vec<String> = booking.seats.iter().filter(|s| !seen.insert(*s)).cloned().collect();
                if !twice.is_empty() {
                    return Ok(PlaceOutcome::SeatsTaken(twice));
                }
                // Freed again since: decide afresh.
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
    Err(StoreError::Busy)
}

fn place_in<'a, 'x>(tx: &'a Transaction<'a>, input: &'a PlaceInput<'x>) -> Work<'a, Placing> {
    Box::pin(async move {
        let b = input.booking;
        // The facts in one round trip: the queries are pipelined on the connection and run in
        // order, so the key is read only once its lock is held.
        // The statements first (no round trip once cached), so that the biased join below
        // sends the key's lock, then the showtime's lock, then the reads, in that order:
        // the same order as a batch's, and the reads see every commit made under the locks.
        let (key_stmt, lock_stmt, holds_stmt) =
            tokio::try_join!(tx.prepare_cached(KEY_LOCK), showtime_lock::statement(tx), holds::holds_statement(tx))?;
        let key_lock = async {
            match &b.idempotency {
                Some(idem) => {
                    tx.execute(&key_stmt, &[&lock::idempotency_key(&idem.key_id)]).await?;
                    earlier_use(tx, &idem.key_id).await
                }
                None => Ok(None),
            }
        };
        let ids = [b.showtime.as_str()];
        let pairs: Vec<&str> = vec![b.showtime.as_str(); b.seats.len()];
        let seats: Vec<&str> = b.seats.iter().map(String::as_str).collect();
        let (earlier, mut showtimes, taken, holds) = tokio::try_join!(
            biased;
            key_lock,
            async { showtime_lock::locked(tx, &lock_stmt, &ids).await.map_err(Fault::from) },
            async { held_among(tx, &b.showtime, &b.seats).await.map_err(Fault::from) },
            async { holds::holds_among(tx, &holds_stmt, &pairs, &seats).await.map_err(Fault::from) },
        )?;
        let showtime = showtimes.remove(b.showtime.as_str());
        // A replay answers with the earlier booking whatever its seats' state now.
        let (taken, held) =
            if earlier.is_some() { (Vec::new(), Vec::new()) } else { (taken, holds::blocking(&holds, b)) };
        let decision =
            decide::place(PlaceFacts::of(b, earlier.as_ref().map(|e| e.fingerprint), showtime.as_ref(), &taken, &held));
        if let Some(refused) = decision.refusal() {
            return Ok(Placing::Decided(refused));
        }
        if let (PlaceDecision::Replay, Some(earlier)) = (&decision, earlier) {
            let booking = booking_by_id(tx, earlier.booking_id).await?;
            return Ok(Placing::Decided(PlaceOutcome::Replayed { booking, sealed_token: earlier.sealed_token }));
        }
        let showtime = showtime.expect("Insert is decided for an existing showtime");

        // Stored in whole seconds, as the SQLite store does; the record says what a read would.
        let created_at = whole_seconds(b.now);
        // The booking, its seats (in seat order, so two bookings that overlap lock the index's
        // entries in the same order and wait for each other instead of deadlocking), its key
        // and the notification, in one statement: one round trip, all or nothing.
        let payload = input.notify.payload(&b.showtime);
        let (reference, showtime_id, token_hash) = (b.reference.as_str(), b.showtime.as_str(), &b.token_hash.0[..]);
        // An unkeyed booking binds NULLs for the key's record, which then writes no row.
        let key_id = b.idempotency.as_ref().map(|k| &k.key_id[..]);
        let fingerprint = b.idempotency.as_ref().map(|k| &k.fingerprint.0[..]);
        let sealed_token = b.idempotency.as_ref().map(|k| &k.sealed_token.0[..]);
        let hold = b.hold.as_ref().map(|h| &h.0[..]);
        // A booking without mail binds NULLs for it, which then writes no row.
        let mail_kind = b.mail.as_ref().map(|m| m.kind.as_str());
        let mail_recipient = b.mail.as_ref().map(|m| m.recipient.as_str());
        let mail_payload = b.mail.as_ref().map(|m| MailBooking::to_payload(&m.bookings));
        let mail_at = b.mail.as_ref().map(|m| m.now);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 18] = [
            &reference,
            &showtime_id,
            &b.name,
            &b.email,
            &token_hash,
            &created_at,
            &b.seats,
            &super::listen::CHANNEL,
            &payload,
            &key_id,
            &fingerprint,
            &sealed_token,
            &hold,
            &b.check_in_code.as_str(),
            &mail_kind,
            &mail_recipient,
            &mail_payload,
            &mail_at,
        ];
        let stmt = tx.prepare_cached(INSERT_BOOKING).await?;
        let inserted = tx.query_one(&stmt, &params).await;
        match inserted {
            Ok(_) => {}
            // A check-in code drawn twice is as unlikely, and answered the same: draw again.
            Err(e) if violates(&e, "bookings_reference_unique") || violates(&e, "bookings_check_in_code_unique") => {
                return Ok(Placing::Decided(PlaceOutcome::ReferenceTaken));
            }
            Err(e) if violates(&e, "booking_seats_one_holder") => return Ok(Placing::SeatConflict),
            Err(e) if violates(&e, "idempotency_keys_pkey") => return Ok(Placing::KeyConflict),
            Err(e) => return Err(e.into()),
        }
        Ok(Placing::Decided(PlaceOutcome::Placed(b.placed(showtime))))
    })
}

/// A booking with its seats, its idempotency key's record (`$10`..`$12`, NULL for a booking
/// without a key, which then writes none), the end of its hold (`$13`, the hold token's hash:
/// all that token's rows on the showtime; NULL deletes none), its confirmation mail (`$15`..`$18`:
/// kind, recipient, payload, queued at; NULL for a booking without mail, which then queues
/// none) and its notification, in one statement: the mail is queued exactly when the booking
/// is written.
/// Data-modifying `WITH` parts always run to completion; the notification is selected so that
/// it runs too.
const INSERT_BOOKING: &str = "
    WITH b AS (
        INSERT INTO bookings (reference, showtime_id, name, email, token_hash, created_at, check_in_code)
        VALUES ($1, $2, $3, $4, $5, $6, $14) RETURNING id
    ), s AS (
        INSERT INTO booking_seats (booking_id, position, showtime_id, seat)
        SELECT b.id, o.position::integer, $2, o.seat
        FROM b, unnest($7::text[]) WITH ORDINALITY AS o (seat, position) ORDER BY o.seat
        RETURNING 1
    ), k AS (
        INSERT INTO idempotency_keys (key_id, fingerprint, booking_id, sealed_token, created_at)
        SELECT $10::bytea, $11::bytea, b.id, $12::bytea, $6 FROM b WHERE $10::bytea IS NOT NULL
        RETURNING 1
    ), h AS (
        DELETE FROM seat_holds WHERE showtime_id = $2 AND token_hash = $13::bytea
        RETURNING 1
    ), m AS (
        INSERT INTO outbox (kind, recipient, payload, created_at, due_at)
        SELECT $15::text, $16::text, $17::text, $18::timestamptz, $18::timestamptz FROM b WHERE $15::text IS NOT NULL
        RETURNING 1
    ), n AS (SELECT pg_notify($8, $9) FROM b)
    SELECT b.id, (SELECT count(*) FROM s), (SELECT count(*) FROM k), (SELECT count(*) FROM h), (SELECT count(*) FROM m),
        (SELECT count(*) FROM n)
    FROM b";

/// Waits for an idempotency key's lock ([`lock::idempotency_key`]).
pub(super) const KEY_LOCK: &str = "SELECT pg_advisory_xact_lock($1)";

/// An earlier use of an idempotency key, as stored.
pub(super) struct Earlier {
    pub(super) fingerprint: Fingerprint,
    pub(super) booking_id: i64,
    pub(super) sealed_token: SealedToken,
}

async fn earlier_use(tx: &Transaction<'_>, key_id: &[u8; 32]) -> Result<Option<Earlier>, Fault> {
    let stmt = tx
        .prepare_cached("SELECT fingerprint, booking_id, sealed_token FROM idempotency_keys WHERE key_id = $1")
        .await?;
    let Some(row) = tx.query_opt(&stmt, &[&&key_id[..]]).await? else {
        return Ok(None);
    };
    Ok(Some(Earlier {
        fingerprint: Fingerprint(fixed(row.try_get(0)?, "idempotency fingerprint")?),
        booking_id: row.try_get(1)?,
        sealed_token: SealedToken(fixed(row.try_get(2)?, "sealed token")?),
    }))
}

/// Who is cancelling, and what proves they may.
enum Canceller<'a> {
    /// The booker, with a manage token: found as [`booking_of_owner`] finds it.
    Booker(&'a ManageToken),
    /// An operator at the box office: any booking, by its reference alone.
    Operator,
}

impl Canceller<'_> {
    fn recorded_as(&self) -> CancelledBy {
        match self {
            Canceller::Booker(_) => CancelledBy::Booker,
            Canceller::Operator => CancelledBy::Operator,
        }
    }
}

struct CancelInput<'a> {
    reference: &'a BookingReference,
    by: Canceller<'a>,
    now: DateTime<Utc>,
    notify: &'a Notify,
}

/// See [`crate::store::Store::cancel`]. `true` with the outcome when this call freed seats
/// (false when the booking was cancelled before).
pub(super) async fn cancel(
    pool: &Pool,
    notify: &Notify,
    observers: &Observers,
    reference: &BookingReference,
    token: &ManageToken,
    now: DateTime<Utc>,
) -> Result<(CancelOutcome, bool), StoreError> {
    let input = CancelInput { reference, by: Canceller::Booker(token), now, notify };
    in_observed_transaction(pool, observers, &input, cancel_in, |(_, freed)| *freed, |(_, freed)| usize::from(*freed))
        .await
}

/// See [`crate::store::Store::cancel_by_operator`]: as [`cancel`], without the token.
pub(super) async fn cancel_by_operator(
    pool: &Pool,
    notify: &Notify,
    observers: &Observers,
    reference: &BookingReference,
    now: DateTime<Utc>,
) -> Result<(CancelOutcome, bool), StoreError> {
    let input = CancelInput { reference, by: Canceller::Operator, now, notify };
    in_observed_transaction(pool, observers, &input, cancel_in, |(_, freed)| *freed, |(_, freed)| usize::from(*freed))
        .await
}

fn cancel_in<'a, 'x>(tx: &'a Transaction<'a>, input: &'a CancelInput<'x>) -> Work<'a, (CancelOutcome, bool)> {
    Box::pin(async move {
        let found = match input.by {
            Canceller::Booker(token) => booking_of_owner(tx, input.reference, token).await?,
            Canceller::Operator => match booking_id(tx, input.reference).await? {
                Some(id) => Some((id, booking_by_id(tx, id).await?)),
                None => None,
            },
        };
        let Some((id, mut record)) = found else {
            return Ok((CancelOutcome::NotFound, false));
        };
        // Lock the booking's row, and read whether it is cancelled as of that lock: two cancels
        // of one booking serialise here, and the second finds it cancelled.
        let row =
            tx.query_one("SELECT cancelled_at, cancelled_by FROM bookings WHERE id = $1 FOR UPDATE", &[&id]).await?;
        record.cancelled_at = row.try_get(0)?;
        record.cancelled_by = row.try_get::<_, Option<String>>(1)?.as_deref().and_then(CancelledBy::parse);
        let decision = decide::cancel(Some(CancelFacts {
            cancelled: record.cancelled_at.is_some(),
            showtime: &record.showtime,
            now: input.now,
        }));
        match decision {
            CancelDecision::Cancel => {}
            CancelDecision::AlreadyCancelled => return Ok((CancelOutcome::Cancelled(Box::new(record)), false)),
            CancelDecision::NotFound => return Ok((CancelOutcome::NotFound, false)),
            CancelDecision::ShowtimeClosed => return Ok((CancelOutcome::ShowtimeClosed, false)),
        }
        let cancelled_at = whole_seconds(input.now);
        let by = input.by.recorded_as();
        tx.execute(
            "UPDATE bookings SET cancelled_at = $2, cancelled_by = $3 WHERE id = $1",
            &[&id, &cancelled_at, &by.as_str()],
        )
        .await?;
        tx.execute("UPDATE booking_seats SET active = false WHERE booking_id = $1", &[&id]).await?;
        input.notify.send(tx, &record.showtime.id).await?;
        record.cancelled_at = Some(cancelled_at);
        record.cancelled_by = Some(by);
        if let Some(notice) = NewMail::cancellation(&record, input.now) {
            outbox::queue(tx, &notice).await?;
        }
        Ok((CancelOutcome::Cancelled(Box::new(record)), true))
    })
}

pub(super) fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}
