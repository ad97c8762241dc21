//! The schedule in PostgreSQL: the `showtimes` table, and `roll`.
//!
//! A roll is one transaction under the advisory lock [`lock::ROLL`], so two rolls from two
//! machines (a cron job on each, say) serialise in the database: the second waits, then finds
//! the first's showtimes and creates none. Showtimes are inserted `ON CONFLICT DO NOTHING`
//! from one statement over arrays, so the horizon is one round trip, and an archived showtime
//! keeps its row and is never created again. The showtimes the plan no longer has are retired
//! or kept as [`retire`] says, and what can no longer matter is purged ([`purge`]).

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool, Transaction};
use tokio_postgres::Row;

use super::bookings_read::within_range;
use super::listen::Notify;
use super::transaction::{Work, in_transaction};
use super::{lock, retire};
use crate::box_office::{IDEMPOTENCY_KEPT_FOR, Purged, SENT_MAIL_KEPT_FOR};
use crate::schedule::{Showtime, ShowtimeId};
use crate::store::{RollReport, StoreError};

/// The columns [`showtime_from_row`] reads, in its order.
pub(super) const COLUMNS: &str = "id, film_slug, studio, local_date, slot, starts_at, ends_at, archived";

/// Reads a row selected with [`COLUMNS`] (from column `at` on).
pub(super) fn showtime_from_row(row: &Row, at: usize) -> Result<Showtime, tokio_postgres::Error> {
    let studio: i32 = row.try_get(at + 2)?;
    Ok(Showtime {
        id: ShowtimeId(row.try_get(at)?),
        film_slug: row.try_get(at + 1)?,
        // The column is written only from a u32; a negative studio is impossible short of
        // editing the table by hand, and then 0 names no studio rather than wrapping around.
        studio: u32::try_from(studio).unwrap_or(0),
        local_date: row.try_get(at + 3)?,
        slot: row.try_get(at + 4)?,
        starts_at: row.try_get(at + 5)?,
        ends_at: row.try_get(at + 6)?,
        archived: row.try_get(at + 7)?,
    })
}

/// One showtime, archived or not.
pub(super) async fn showtime(
    client: &impl GenericClient,
    id: &ShowtimeId,
) -> Result<Option<Showtime>, tokio_postgres::Error> {
    let stmt = client.prepare_cached(&format!("SELECT {COLUMNS} FROM showtimes WHERE id = $1")).await?;
    client.query_opt(&stmt, &[&id.as_str()]).await?.map(|r| showtime_from_row(&r, 0)).transpose()
}

/// The showtimes neither archived nor started by `now`, by start time then studio.
pub(super) async fn live_showtimes(
    client: &impl GenericClient,
    now: DateTime<Utc>,
) -> Result<Vec<Showtime>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM showtimes WHERE NOT archived AND starts_at > $1 ORDER BY starts_at, studio"
        ))
        .await?;
    client.query(&stmt, &[&now]).await?.iter().map(|r| showtime_from_row(r, 0)).collect()
}

/// Every showtime starting in `[from, to)`, archived ones included, by start then studio.
pub(super) async fn showtimes_between(
    client: &impl GenericClient,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Showtime>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM showtimes WHERE starts_at >= $1 AND starts_at < $2 ORDER BY starts_at, studio"
        ))
        .await?;
    let (from, to) = (within_range(from), within_range(to));
    client.query(&stmt, &[&from, &to]).await?.iter().map(|r| showtime_from_row(r, 0)).collect()
}

/// A roll's report, and the showtimes it retired (for the store's own seat index: the other
/// instances hear of them from the roll's notifications).
pub(super) struct Rolled {
    pub(super) report: RollReport,
    pub(super) retired: Vec<ShowtimeId>,
}

/// See [`crate::store::Store::roll`].
pub(super) async fn roll(
    pool: &Pool,
    notify: &Notify,
    plan: &[Showtime],
    now: DateTime<Utc>,
) -> Result<Rolled, StoreError> {
    let input = (plan, now, notify);
    in_transaction(pool, &input, |tx, (plan, now, notify)| roll_in(tx, notify, plan, *now), |_| true).await
}

fn roll_in<'a>(
    tx: &'a Transaction<'a>,
    notify: &'a Notify,
    plan: &'a [Showtime],
    now: DateTime<Utc>,
) -> Work<'a, Rolled> {
    Box::pin(async move {
        tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&lock::CLASS, &lock::ROLL]).await?;
        let planned: Vec<&str> = plan.iter().map(|s| s.id.as_str()).collect();
        let changing = retire::lock_changing(tx, &planned, now).await?;
        let archived =
            tx.execute("UPDATE showtimes SET archived = true WHERE id = ANY($1)", &[&changing.started]).await?;
        // Ended holds hold nothing (see `holds.rs`); a hold deletes its own showtime's as it
        // goes, and this deletes the rest (showtimes nobody held a seat of since), so the table
        // stays the size of the holds in play. No notification: nothing anyone sees changed.
        let ended_holds = tx.execute("DELETE FROM seat_holds WHERE expires_at <= $1", &[&now]).await?;
        let future: Vec<&Showtime> = plan.iter().filter(|s| !s.has_started(now)).collect();
        let ids: Vec<&str> = future.iter().map(|s| s.id.as_str()).collect();
        let films: Vec<&str> = future.iter().map(|s| s.film_slug.as_str()).collect();
        // Studios are small numbers; one that does not fit an integer column is refused below.
        let studios: Vec<i32> = future.iter().map(|s| i32::try_from(s.studio).unwrap_or(-1)).collect();
        let dates: Vec<_> = future.iter().map(|s| s.local_date).collect();
        let slots: Vec<_> = future.iter().map(|s| s.slot).collect();
        let starts: Vec<_> = future.iter().map(|s| s.starts_at).collect();
        let ends: Vec<_> = future.iter().map(|s| s.ends_at).collect();
        let created = tx
            .execute(
                "INSERT INTO showtimes (id, film_slug, studio, local_date, slot, starts_at, ends_at, archived, created_at)
                 SELECT id, film, studio, day, slot, starts, ends, false, $8
                 FROM unnest($1::text[], $2::text[], $3::integer[], $4::date[], $5::time[], $6::timestamptz[], $7::timestamptz[])
                      AS plan (id, film, studio, day, slot, starts, ends)
                 WHERE studio >= 0
                 ON CONFLICT (id) DO NOTHING",
                &[&ids, &films, &studios, &dates, &slots, &starts, &ends, &now],
            )
            .await?;
        let retired = retire::retire(tx, notify, &changing.unplanned).await?;
        let (idempotency_keys, sent_mail) = purge(tx, now).await?;
        let report = RollReport {
            archived: archived as usize,
            created: created as usize,
            retired: retired.ids.len(),
            kept: retired.kept,
            purged: Purged { idempotency_keys, holds: ended_holds as usize, sent_mail },
        };
        Ok(Rolled { report, retired: retired.ids })
    })
}

/// Deletes what can no longer matter: idempotency records older than
/// [`IDEMPOTENCY_KEPT_FOR`] (a client retries within minutes), and outbox rows sent more than
/// [`SENT_MAIL_KEPT_FOR`] ago. Answers how many of each.
async fn purge(tx: &Transaction<'_>, now: DateTime<Utc>) -> Result<(usize, usize), tokio_postgres::Error> {
    let keys =
        tx.execute("DELETE FROM idempotency_keys WHERE created_at < $1", &[&(now - IDEMPOTENCY_KEPT_FOR)]).await?;
    let mail = tx.execute("DELETE FROM outbox WHERE sent_at < $1", &[&(now - SENT_MAIL_KEPT_FOR)]).await?;
    Ok((keys as usize, mail as usize))
}
