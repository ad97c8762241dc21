//! Seat holds: `hold` and `release`, one transaction each, and the hold facts a booking needs.
//!
//! A hold gathers its facts in one pipelined round trip after locking its showtime
//! ([`super::showtime_lock`]): the showtime, the requested seats booked, and the live hold
//! rows that are the token's own or on a requested seat. [`decide::hold`] decides; the write
//! is one statement that deletes the showtime's ended rows, upserts the new seats and
//! notifies. The upsert overwrites a row only if its hold has ended (`ON CONFLICT ... WHERE`):
//! a live row of another token is never taken over, even by a transaction that did not see it;
//! such a seat is simply not written, the statement's count says so, and the hold is decided
//! again (then refused as [`HoldOutcome::SeatsHeld`]). The primary key over (showtime, seat)
//! makes a second inserter of the same seat wait for the first's COMMIT before it decides
//! whether its row conflicts, so two holds of one seat by two tokens never both win.
//!
//! A release deletes the token's rows (and the showtime's ended ones) and reads what the token
//! still holds, in one round trip; it needs no lock, since freeing seats cannot conflict.
//!
//! Times are kept in microseconds, so answers carry times as a later read gives them
//! ([`as_stored`]).

use std::collections::HashSet;

use chrono::{DateTime, SubsecRound, Utc};
use deadpool_postgres::{GenericClient, Pool, Transaction};
use tokio_postgres::Statement;

use super::bookings_read::held_among;
use super::errors::Fault;
use super::listen::{CHANNEL, Notify};
use super::observers::Observers;
use super::showtime_lock;
use super::transaction::{ATTEMPTS, Work, backoff, in_observed_transaction};
use crate::booking::TokenHash;
use crate::booking::decide::{self, HoldDecision, HoldFacts};
use crate::booking::hold::{Hold, HoldOutcome, NewHold, ReleaseHold};
use crate::booking::record::NewBooking;
use crate::store::StoreError;

/// An instant as PostgreSQL keeps it (`timestamptz` has microseconds).
pub(super) fn as_stored(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// How one attempt at a hold ended.
enum Holding {
    /// `changed`: seats were written, so the transaction commits and others are told.
    Decided { outcome: HoldOutcome, changed: bool },
    /// A seat decided free was held live by another token when written: decide again.
    Conflict,
}

struct HoldInput<'a> {
    new: &'a NewHold,
    notify: &'a Notify,
}

/// See [`crate::store::Store::hold`]. `true` with the outcome when seats were written.
pub(super) async fn hold(
    pool: &Pool,
    notify: &Notify,
    observers: &Observers,
    new: &NewHold,
) -> Result<(HoldOutcome, bool), StoreError> {
    let new = NewHold { expires_at: as_stored(new.expires_at), ..new.clone() };
    let input = HoldInput { new: &new, notify };
    let changed = |h: &Holding| matches!(h, Holding::Decided { changed: true, .. });
    for attempt in 1..=ATTEMPTS {
        let holding =
            in_observed_transaction(pool, observers, &input, hold_in, changed, |h| usize::from(changed(h))).await?;
        match holding {
            Holding::Decided { outcome, changed } => return Ok((outcome, changed)),
            Holding::Conflict => tokio::time::sleep(backoff(attempt)).await,
        }
    }
    Err(StoreError::Busy)
}

/// The token's live rows and the live rows on the requested seats: `(seat, own, expires_at,
/// held_at)`.
const LIVE_HOLDS: &str = "
    SELECT seat, token_hash = $2, expires_at, held_at FROM seat_holds
    WHERE showtime_id = $1 AND (token_hash = $2 OR seat = ANY($3)) AND expires_at > $4";

/// Deletes the showtime's ended rows but the requested ones (which the upsert overwrites: one
/// statement must not touch a row twice), writes the requested seats unless held live by
/// another token, and notifies; answers how many seats were written.
const WRITE_HOLD: &str = "
    WITH ended AS (
        DELETE FROM seat_holds WHERE showtime_id = $1 AND expires_at <= $5 AND NOT (seat = ANY($3))
    ), h AS (
        INSERT INTO seat_holds (showtime_id, seat, token_hash, expires_at, held_at)
        SELECT $1, s, $2, $4, $5 FROM unnest($3::text[]) AS s
        ON CONFLICT (showtime_id, seat) DO UPDATE
            SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at, held_at = EXCLUDED.held_at
            WHERE seat_holds.expires_at <= EXCLUDED.held_at
        RETURNING 1
    ), n AS (SELECT pg_notify($6, $7) WHERE EXISTS (SELECT 1 FROM h))
    SELECT (SELECT count(*) FROM h), (SELECT count(*) FROM n)";

fn hold_in<'a, 'x>(tx: &'a Transaction<'a>, input: &'a HoldInput<'x>) -> Work<'a, Holding> {
    Box::pin(async move {
        let new = input.new;
        let (lock, live) = tokio::try_join!(showtime_lock::statement(tx), tx.prepare_cached(LIVE_HOLDS))?;
        let ids = [new.showtime.as_str()];
        let token = &new.token_hash.0[..];
        // Biased: the lock is sent first, the reads after it (see showtime_lock).
        let (showtimes, taken, rows) = tokio::try_join!(
            biased;
            async { showtime_lock::locked(tx, &lock, &ids).await.map_err(Fault::from) },
            async { held_among(tx, &new.showtime, &new.seats).await.map_err(Fault::from) },
            async { tx.query(&live, &[&new.showtime.as_str(), &token, &new.seats, &new.now]).await.map_err(Fault::from) },
        )?;
        let showtime = showtimes.get(new.showtime.as_str());
        let mut own: Vec<(DateTime<Utc>, String)> = Vec::new();
        let mut own_expires_at = None;
        let mut others = HashSet::new();
        for row in &rows {
            let (seat, mine, expires_at, held_at): (String, bool, DateTime<Utc>, DateTime<Utc>) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            if mine {
                own_expires_at = Some(own_expires_at.map_or(expires_at, |e: DateTime<Utc>| e.min(expires_at)));
                own.push((held_at, seat));
            } else {
                others.insert(seat);
            }
        }
        own.sort();
        let own_seats: Vec<String> = own.iter().map(|(_, s)| s.clone()).collect();
        let held_by_others: Vec<String> = new.seats.iter().filter(|s| others.contains(*s)).cloned().collect();
        let facts = HoldFacts {
            showtime,
            requested: &new.seats,
            taken: &taken,
            held_by_others: &held_by_others,
            own: &own_seats,
            own_expires_at,
            now: new.now,
        };
        let (mut seats, expires_at) = match decide::hold(facts, new) {
            HoldDecision::Refuse(outcome) => return Ok(Holding::Decided { outcome, changed: false }),
            HoldDecision::Insert { seats, expires_at } => (seats, expires_at),
        };
        let changed = !seats.is_empty();
        if changed {
            // In seat order, so two holds over the same seats lock their index entries alike.
            seats.sort();
            let payload = input.notify.payload(&new.showtime);
            let stmt = tx.prepare_cached(WRITE_HOLD).await?;
            let row = tx
                .query_one(&stmt, &[&new.showtime.as_str(), &token, &seats, &expires_at, &new.now, &CHANNEL, &payload])
                .await?;
            if usize::try_from(row.try_get::<_, i64>(0)?).ok() != Some(seats.len()) {
                return Ok(Holding::Conflict);
            }
            let held_at = as_stored(new.now);
            own.extend(seats.into_iter().map(|s| (held_at, s)));
            own.sort();
        }
        let hold = Hold {
            expires_at: (!own.is_empty()).then_some(expires_at),
            seats: own.into_iter().map(|(_, s)| s).collect(),
        };
        Ok(Holding::Decided { outcome: HoldOutcome::Held(hold), changed })
    })
}

/// A statement's parameter.
type Param<'p> = dyn tokio_postgres::types::ToSql + Sync + 'p;

struct ReleaseInput<'a> {
    release: &'a ReleaseHold,
    notify: &'a Notify,
}

/// Deletes the token's rows (all, or the named seats) and the showtime's ended ones, and
/// notifies when the token had any: `(token rows deleted, notifications)`.
const DELETE_HOLD: &str = "
    WITH d AS (
        DELETE FROM seat_holds
        WHERE showtime_id = $1
          AND ((token_hash = $2 AND ($3::text[] IS NULL OR seat = ANY($3))) OR expires_at <= $4)
        RETURNING token_hash = $2 AS own
    ), n AS (SELECT pg_notify($5, $6) WHERE EXISTS (SELECT 1 FROM d WHERE own))
    SELECT (SELECT count(*) FROM d WHERE own), (SELECT count(*) FROM n)";

/// What a token holds live on a showtime, in the order it was held.
const OWN_HOLD: &str = "
    SELECT seat, expires_at FROM seat_holds
    WHERE showtime_id = $1 AND token_hash = $2 AND expires_at > $3 ORDER BY held_at, seat";

/// See [`crate::store::Store::release`]. `true` with the outcome when seats were freed.
pub(super) async fn release(
    pool: &Pool,
    notify: &Notify,
    observers: &Observers,
    release: &ReleaseHold,
) -> Result<(HoldOutcome, bool), StoreError> {
    let input = ReleaseInput { release, notify };
    // Committed whenever the showtime exists (the showtime's ended rows go too); a write to
    // observers only when it freed some of the token's seats.
    let kept = |(outcome, _): &(HoldOutcome, bool)| matches!(outcome, HoldOutcome::Held(_));
    in_observed_transaction(pool, observers, &input, release_in, kept, |(_, freed)| usize::from(*freed)).await
}

fn release_in<'a, 'x>(tx: &'a Transaction<'a>, input: &'a ReleaseInput<'x>) -> Work<'a, (HoldOutcome, bool)> {
    Box::pin(async move {
        let r = input.release;
        let showtime_sql = format!("SELECT {} FROM showtimes WHERE id = $1", super::schedule::COLUMNS);
        let (showtime, delete, own) = tokio::try_join!(
            tx.prepare_cached(&showtime_sql),
            tx.prepare_cached(DELETE_HOLD),
            tx.prepare_cached(OWN_HOLD),
        )?;
        let (id, token, payload) = (r.showtime.as_str(), &r.token_hash.0[..], input.notify.payload(&r.showtime));
        let by_id: [&Param<'_>; 1] = [&id];
        let deleting: [&Param<'_>; 6] = [&id, &token, &r.seats, &r.now, &CHANNEL, &payload];
        let owned: [&Param<'_>; 3] = [&id, &token, &r.now];
        // Biased: the delete is sent before the read of what remains.
        let (showtime, deleted, rows) = tokio::try_join!(
            biased;
            tx.query_opt(&showtime, &by_id),
            tx.query_one(&delete, &deleting),
            tx.query(&own, &owned),
        )?;
        let showtime = showtime.map(|row| super::schedule::showtime_from_row(&row, 0)).transpose()?;
        if let Err(refused) = decide::release(showtime.as_ref()) {
            return Ok((refused, false));
        }
        let mut hold = Hold::default();
        for row in &rows {
            hold.seats.push(row.try_get(0)?);
            let expires_at: DateTime<Utc> = row.try_get(1)?;
            hold.expires_at = Some(hold.expires_at.map_or(expires_at, |e: DateTime<Utc>| e.min(expires_at)));
        }
        Ok((HoldOutcome::Held(hold), deleted.try_get::<_, i64>(0)? > 0))
    })
}

/// The hold rows on requested seats, ended or not, for bookings' facts: one index probe per
/// (showtime, seat) pair.
const HOLDS_AMONG: &str = "
    SELECT h.showtime_id, h.seat, h.token_hash, h.expires_at
    FROM unnest($1::text[], $2::text[]) AS r (showtime_id, seat)
    JOIN seat_holds AS h ON h.showtime_id = r.showtime_id AND h.seat = r.seat";

/// A hold row as bookings see it.
#[derive(Debug, Clone)]
pub(super) struct HoldRow {
    pub(super) showtime: String,
    pub(super) seat: String,
    pub(super) token_hash: Vec<u8>,
    pub(super) expires_at: DateTime<Utc>,
}

pub(super) async fn holds_statement(tx: &impl GenericClient) -> Result<Statement, tokio_postgres::Error> {
    tx.prepare_cached(HOLDS_AMONG).await
}

/// The hold rows on these (showtime, seat) pairs, with the statement of [`holds_statement`].
pub(super) async fn holds_among(
    tx: &impl GenericClient,
    statement: &Statement,
    showtimes: &[&str],
    seats: &[&str],
) -> Result<Vec<HoldRow>, tokio_postgres::Error> {
    let rows = tx.query(statement, &[&showtimes, &seats]).await?;
    rows.iter()
        .map(|r| {
            Ok(HoldRow {
                showtime: r.try_get(0)?,
                seat: r.try_get(1)?,
                token_hash: r.try_get(2)?,
                expires_at: r.try_get(3)?,
            })
        })
        .collect()
}

/// The requested seats of `booking` that block it: under a live hold of another token (of any
/// token when the booking has none), in request order.
pub(super) fn blocking(rows: &[HoldRow], booking: &NewBooking) -> Vec<String> {
    let own = booking.hold.as_ref().map(|h: &TokenHash| &h.0[..]);
    let blocked: HashSet<&str> = rows
        .iter()
        .filter(|r| {
            r.showtime == booking.showtime.as_str()
                && decide::hold_is_live(r.expires_at, booking.now)
                && Some(&r.token_hash[..]) != own
        })
        .map(|r| r.seat.as_str())
        .collect();
    booking.seats.iter().filter(|s| blocked.contains(s.as_str())).cloned().collect()
}

/// Forgets the rows a placed booking's hold token had on its showtime: the booking ends that
/// hold, so later bookings of the same batch find those seats free.
pub(super) fn ended_by(rows: &mut Vec<HoldRow>, booking: &NewBooking) {
    if let Some(hold) = &booking.hold {
        rows.retain(|r| !(r.showtime == booking.showtime.as_str() && r.token_hash[..] == hold.0[..]));
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::booking::{BookingReference, TokenHash};
    use crate::schedule::ShowtimeId;

    fn row(seat: &str, token: u8, expires_at: DateTime<Utc>) -> HoldRow {
        HoldRow { showtime: "s".into(), seat: seat.into(), token_hash: vec![token; 32], expires_at }
    }

    fn booking(seats: &[&str], hold: Option<u8>, now: DateTime<Utc>) -> NewBooking {
        NewBooking {
            showtime: ShowtimeId("s".into()),
            seats: seats.iter().map(|s| s.to_string()).collect(),
            name: "Ana".into(),
            email: None,
            reference: BookingReference::generate(&mut rand::rng()),
            token_hash: TokenHash([0; 32]),
            check_in_code: crate::booking::CheckInCode::generate(&mut rand::rng()),
            mail: None,
            idempotency: None,
            hold: hold.map(|t| TokenHash([t; 32])),
            now,
        }
    }

    #[test]
    fn a_booking_is_blocked_by_live_holds_of_others_until_their_holders_booking_ends_them() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
        let later = now + chrono::Duration::minutes(10);
        let mut rows = vec![row("A1", 1, later), row("A2", 1, later), row("B1", 2, later), row("C1", 3, now)];
        let other_showtime = HoldRow { showtime: "t".into(), ..row("D1", 2, later) };
        rows.push(other_showtime);
        let anyone = booking(&["D1", "C1", "B1", "A2", "A1"], None, now);
        assert_eq!(blocking(&rows, &anyone), ["B1", "A2", "A1"], "live, this showtime, in request order");
        assert_eq!(blocking(&rows, &booking(&["A1", "B1"], Some(1), now)), ["B1"], "its own hold never blocks it");
        let holders = booking(&["A1"], Some(1), now);
        ended_by(&mut rows, &holders);
        assert_eq!(blocking(&rows, &anyone), ["B1"], "the holder's booking ended its whole hold, A2 too");
        ended_by(&mut rows, &booking(&["B1"], None, now));
        assert_eq!(blocking(&rows, &anyone), ["B1"], "a booking without a token ends nothing");
    }
}
