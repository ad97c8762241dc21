//! The mail outbox on PostgreSQL: queueing a message in the transaction of the change it tells
//! of, and the senders' claims (see [`crate::outbox`]).
//!
//! A claim is one statement: it picks the oldest due rows with `FOR UPDATE SKIP LOCKED`, so
//! two senders claiming at the same moment (from any instances) each take rows the other has
//! not locked instead of waiting for each other, and marks them with the sender and the end of
//! its lease. A row another sender claimed and committed after this statement's snapshot is
//! locked only after the server checks the `WHERE` again on its newest version (READ
//! COMMITTED's re-check of a locked row), which then finds it claimed and skips it: a message
//! is never handed to two senders while a lease holds.
//!
//! A result is applied only while the row still names its sender as the claimer: a claim that
//! ran out and was taken by another sender names that one, so the first sender's late result
//! changes nothing. A lease that ran out with nobody claiming since still names its sender, and
//! its result is applied: the message was sent (or not) all the same, and a Sent recorded late
//! is better than a second copy.

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool, Transaction};

use super::errors::Fault;
use super::holds::as_stored;
use super::transaction::{Work, in_transaction};
use crate::outbox::{
    MAX_ERROR_CHARS, MailBooking, MailClaim, MailId, MailKind, MailOutcome, MailResult, NewMail, OutboxCounts,
    QueuedMail, UNREADABLE_RETRY,
};
use crate::store::StoreError;

/// Queues `mail` in the transaction `tx` belongs to, due at once.
pub(super) async fn queue(tx: &impl GenericClient, mail: &NewMail) -> Result<(), Fault> {
    let stmt = tx
        .prepare_cached("INSERT INTO outbox (kind, recipient, payload, created_at, due_at) VALUES ($1, $2, $3, $4, $4)")
        .await?;
    let payload = MailBooking::to_payload(&mail.bookings);
    tx.execute(&stmt, &[&mail.kind.as_str(), &mail.recipient, &payload, &mail.now]).await?;
    Ok(())
}

/// Marks the oldest due rows (not sent, due by `$3`, no lease running at `$3`) claimed by `$1`
/// until `$2`, at most `$4` of them, and answers them.
const CLAIM: &str = "
    UPDATE outbox SET claimed_by = $1, claimed_until = $2
    WHERE id IN (
        SELECT id FROM outbox
        WHERE sent_at IS NULL AND due_at <= $3 AND (claimed_until IS NULL OR claimed_until <= $3)
        ORDER BY id LIMIT $4
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, kind, recipient, payload, attempts, created_at";

/// See [`crate::store::Store::claim_mail`].
pub(super) async fn claim(pool: &Pool, claim: &MailClaim) -> Result<Vec<QueuedMail>, StoreError> {
    if claim.limit == 0 {
        return Ok(Vec::new());
    }
    in_transaction(pool, claim, claim_in, |_| true).await
}

fn claim_in<'a>(tx: &'a Transaction<'a>, claim: &'a MailClaim) -> Work<'a, Vec<QueuedMail>> {
    Box::pin(async move {
        let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
        let stmt = tx.prepare_cached(CLAIM).await?;
        let rows = tx.query(&stmt, &[&claim.sender.0, &claim.lease_until, &claim.now, &limit]).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            match read_claimed(row) {
                Ok(mail) => claimed.push(mail),
                Err(why) => unreadable.push((id, why)),
            }
        }
        for (id, why) in unreadable {
            // Never handed out, or it would take a sender's slot on every claim: failed like a
            // send, so the operator sees why and the others go out.
            tracing::error!("outbox message {id} cannot be read ({why}); it is set aside as failed");
            let retry_at = claim.now + UNREADABLE_RETRY;
            fail(tx, id, &claim.sender.0, &why, retry_at).await?;
        }
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    })
}

fn read_claimed(row: &tokio_postgres::Row) -> Result<QueuedMail, String> {
    let kind: String = row.try_get(1).map_err(|e| e.to_string())?;
    let payload: String = row.try_get(3).map_err(|e| e.to_string())?;
    let attempts: i32 = row.try_get(4).map_err(|e| e.to_string())?;
    Ok(QueuedMail {
        id: MailId(row.try_get(0).map_err(|e| e.to_string())?),
        kind: MailKind::parse(&kind).ok_or_else(|| format!("unknown mail kind {kind:?}"))?,
        recipient: row.try_get(2).map_err(|e| e.to_string())?,
        bookings: MailBooking::from_payload(&payload)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        created_at: row.try_get(5).map_err(|e| e.to_string())?,
    })
}

/// See [`crate::store::Store::finish_mail`].
pub(super) async fn finish(pool: &Pool, result: &MailResult) -> Result<bool, StoreError> {
    in_transaction(pool, result, finish_in, |applied| *applied).await
}

fn finish_in<'a>(tx: &'a Transaction<'a>, result: &'a MailResult) -> Work<'a, bool> {
    Box::pin(async move {
        let (id, sender) = (result.id.0, &result.sender.0);
        match &result.outcome {
            MailOutcome::Sent { at } => {
                // Locked, so the payload rewritten is the one read.
                let held = tx
                    .prepare_cached(
                        "SELECT payload FROM outbox WHERE id = $1 AND claimed_by = $2 AND sent_at IS NULL FOR UPDATE",
                    )
                    .await?;
                let Some(row) = tx.query_opt(&held, &[&id, sender]).await? else {
                    return Ok(false);
                };
                let payload = sent_payload(row.try_get(0)?);
                let sent = tx
                    .prepare_cached(
                        "UPDATE outbox SET sent_at = $2, payload = $3, claimed_by = NULL, claimed_until = NULL
                         WHERE id = $1",
                    )
                    .await?;
                tx.execute(&sent, &[&id, at, &payload]).await?;
                Ok(true)
            }
            MailOutcome::Failed { error, retry_at } => Ok(fail(tx, id, sender, error, *retry_at).await?),
        }
    })
}

/// What a sent row keeps: its bookings without their tokens. A payload this build cannot read
/// keeps no token either: it is replaced by an empty list.
fn sent_payload(payload: String) -> String {
    match MailBooking::from_payload(&payload) {
        Ok(bookings) => MailBooking::to_payload(&MailBooking::without_tokens(&bookings)),
        Err(why) => {
            tracing::warn!("a sent outbox message's payload cannot be read ({why}); it is emptied");
            MailBooking::to_payload(&[])
        }
    }
}

/// Records a failed send of `id` while `sender` holds it: one more attempt, the error kept, the
/// claim dropped, due again at `retry_at`. Answers whether the row was updated.
async fn fail(
    tx: &impl GenericClient,
    id: i64,
    sender: &str,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<bool, Fault> {
    let stmt = tx
        .prepare_cached(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $3, due_at = $4,
                claimed_by = NULL, claimed_until = NULL
             WHERE id = $1 AND claimed_by = $2 AND sent_at IS NULL",
        )
        .await?;
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    Ok(tx.execute(&stmt, &[&id, &sender, &error, &as_stored(retry_at)]).await? == 1)
}

/// See [`crate::store::Store::outbox_counts`].
pub(super) async fn counts(client: &impl GenericClient) -> Result<OutboxCounts, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE sent_at IS NULL),
                    count(*) FILTER (WHERE sent_at IS NULL AND attempts > 0),
                    count(*) FILTER (WHERE sent_at IS NOT NULL)
             FROM outbox",
        )
        .await?;
    let row = client.query_one(&stmt, &[]).await?;
    let count = |i: usize| row.try_get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
    Ok(OutboxCounts { pending: count(0)?, failing: count(1)?, sent: count(2)? })
}
