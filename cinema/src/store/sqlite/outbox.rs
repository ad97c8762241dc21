//! The outbox in SQLite (see [`crate::outbox`] for what it is for).
//!
//! Every write here runs on the booking writer's connection, inside its transaction
//! ([`super::bookings_writer`]): a confirmation commits with its booking, a cancellation notice
//! with its cancellation, and a claim is one `BEGIN IMMEDIATE` transaction like any booking
//! batch, which SQLite serialises across every process on the file, so two senders never claim
//! one message. Times are epoch milliseconds.

use rusqlite::{Connection, OptionalExtension, params};

use super::bookings_read::timestamp_millis;
use crate::booking::{ManageToken, decide};
use crate::outbox::{
    MAX_ERROR_CHARS, MailBooking, MailClaim, MailId, MailKind, MailOutcome, MailResult, NewMail, OutboxCounts,
    QueuedMail, Recovery, UNREADABLE_RETRY,
};
use crate::schedule::ShowtimeId;

/// Queues a message, due at once.
pub(crate) fn queue(conn: &Connection, mail: &NewMail) -> rusqlite::Result<()> {
    let at = mail.now.timestamp_millis();
    conn.prepare_cached(
        "INSERT INTO outbox (kind, recipient, payload, created_at, due_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![mail.kind.as_str(), mail.recipient, MailBooking::to_payload(&mail.bookings), at])?;
    Ok(())
}

/// Whether any message is due for a claim at `now`: asked on a read connection first, so an
/// idle sender's poll (every second, per instance) never takes the write lock that every
/// process on the file shares with bookings.
pub(crate) fn any_due(conn: &Connection, now: chrono::DateTime<chrono::Utc>) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM outbox
             WHERE sent_at IS NULL AND due_at <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1))",
    )?
    .query_row([now.timestamp_millis()], |r| r.get(0))
}

/// Claims due messages for a sender (see [`crate::store::Store::claim_mail`]).
pub(crate) fn claim(conn: &Connection, claim: &MailClaim) -> rusqlite::Result<Vec<QueuedMail>> {
    let now = claim.now.timestamp_millis();
    let rows: Vec<(i64, String, String, String, u32, i64)> = conn
        .prepare_cached(
            "SELECT id, kind, recipient, payload, attempts, created_at FROM outbox
             WHERE sent_at IS NULL AND due_at <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
             ORDER BY id LIMIT ?2",
        )?
        .query_map(params![now, claim.limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut claimed = Vec::with_capacity(rows.len());
    for (id, kind, recipient, payload, attempts, created_at) in rows {
        let read = MailKind::parse(&kind)
            .ok_or_else(|| format!("unknown mail kind {kind:?}"))
            .and_then(|kind| MailBooking::from_payload(&payload).map(|bookings| (kind, bookings)));
        match read {
            Ok((kind, bookings)) => {
                conn.prepare_cached("UPDATE outbox SET claimed_by = ?2, claimed_until = ?3 WHERE id = ?1")?
                    .execute(params![id, claim.sender.0, claim.lease_until.timestamp_millis()])?;
                claimed.push(QueuedMail {
                    id: MailId(id),
                    kind,
                    recipient,
                    bookings,
                    attempts,
                    created_at: timestamp_millis(created_at)?,
                });
            }
            Err(why) => {
                tracing::error!("outbox message {id} cannot be read ({why}); it is set aside for an hour");
                conn.prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, due_at = ?3 WHERE id = ?1",
                )?
                .execute(params![id, why, now + UNREADABLE_RETRY.num_milliseconds()])?;
            }
        }
    }
    Ok(claimed)
}

/// Records how a send went, if `result.sender` still holds the claim.
pub(crate) fn finish(conn: &Connection, result: &MailResult) -> rusqlite::Result<bool> {
    let id = result.id.0;
    let changed = match &result.outcome {
        MailOutcome::Sent { at } => {
            let payload: Option<String> = conn
                .prepare_cached("SELECT payload FROM outbox WHERE id = ?1 AND claimed_by = ?2 AND sent_at IS NULL")?
                .query_row(params![id, result.sender.0], |r| r.get(0))
                .optional()?;
            let Some(payload) = payload else { return Ok(false) };
            // The tokens go; the references stay, so the operator can see what was sent.
            let kept = MailBooking::from_payload(&payload)
                .map(|b| MailBooking::to_payload(&MailBooking::without_tokens(&b)))
                .unwrap_or_else(|_| String::from("{\"bookings\":[]}"));
            conn.prepare_cached(
                "UPDATE outbox SET sent_at = ?2, payload = ?3, claimed_by = NULL, claimed_until = NULL WHERE id = ?1",
            )?
            .execute(params![id, at.timestamp_millis(), kept])?
        }
        MailOutcome::Failed { error, retry_at } => {
            let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
            conn.prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, due_at = ?4,
                     claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?1 AND claimed_by = ?2 AND sent_at IS NULL",
            )?
            .execute(params![id, result.sender.0, error, retry_at.timestamp_millis()])?
        }
    };
    Ok(changed == 1)
}

pub(crate) fn counts(conn: &Connection) -> rusqlite::Result<OutboxCounts> {
    conn.prepare_cached(
        "SELECT count(*) FILTER (WHERE sent_at IS NULL), count(*) FILTER (WHERE sent_at IS NULL AND attempts > 0),
                count(*) FILTER (WHERE sent_at IS NOT NULL)
         FROM outbox",
    )?
    .query_row([], |r| {
        Ok(OutboxCounts {
            pending: r.get::<_, i64>(0)? as u64,
            failing: r.get::<_, i64>(1)? as u64,
            sent: r.get::<_, i64>(2)? as u64,
        })
    })
}

/// Gives each recoverable booking of the address a fresh manage token and queues one message
/// with their links (see [`crate::store::Store::recover`]).
pub(crate) fn recover(conn: &Connection, recovery: &Recovery) -> rusqlite::Result<usize> {
    let candidates: Vec<(i64, String, String, bool)> = conn
        .prepare_cached(
            "SELECT id, reference, showtime_id, cancelled_at IS NOT NULL FROM bookings
             WHERE email IS NOT NULL AND lower(email) = lower(?1) ORDER BY id",
        )?
        .query_map([&recovery.email], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut bookings = Vec::new();
    for (id, reference, showtime, cancelled) in candidates {
        let Some(showtime) = super::schedule::showtime(conn, &ShowtimeId(showtime))? else { continue };
        if !decide::recoverable(cancelled, &showtime, recovery.now) {
            continue;
        }
        let Some(reference) = crate::booking::BookingReference::parse(&reference) else { continue };
        let token = ManageToken::generate(&mut rand::rng());
        conn.prepare_cached("UPDATE bookings SET recovered_token_hash = ?2 WHERE id = ?1")?
            .execute(params![id, &token.hash().0[..]])?;
        bookings.push(MailBooking { reference, token: Some(token) });
    }
    let count = bookings.len();
    if count > 0 {
        queue(
            conn,
            &NewMail { kind: MailKind::Recovery, recipient: recovery.email.clone(), bookings, now: recovery.now },
        )?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::booking::BookingReference;
    use crate::outbox::SenderId;
    use crate::store::OpenMode;
    use crate::store::sqlite::open_connection;

    #[test]
    fn a_sent_message_keeps_its_references_and_loses_its_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_connection(&dir.path().join("t.db"), OpenMode::Create).unwrap();
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let (reference, token) =
            (BookingReference::generate(&mut rand::rng()), ManageToken::generate(&mut rand::rng()));
        queue(&conn, &NewMail::confirmation(Some("ana@example.com"), &reference, &token, now).unwrap()).unwrap();
        let payload = || conn.query_row("SELECT payload FROM outbox", [], |r| r.get::<_, String>(0)).unwrap();
        assert!(payload().contains(token.as_str()), "kept until sent");
        let sender = SenderId("a".into());
        let claim = MailClaim { sender: sender.clone(), now, lease_until: now, limit: 1 };
        let mail =
            super::claim(&conn, &MailClaim { lease_until: now + chrono::Duration::minutes(1), ..claim }).unwrap();
        assert!(finish(&conn, &MailResult { id: mail[0].id, sender, outcome: MailOutcome::Sent { at: now } }).unwrap());
        assert!(!payload().contains(token.as_str()), "{}", payload());
        assert!(payload().contains(reference.as_str()));
    }

    /// An idle sender polls every second: with nothing due, its claim must not wait for the
    /// write lock (held here by another process's transaction), which bookings need.
    #[test]
    fn an_idle_claim_answers_without_the_write_lock() {
        use crate::store::Store;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(open_connection(&path, OpenMode::Create).unwrap());
        let store = crate::store::sqlite::SqliteDatabase::open(&path, OpenMode::Existing).unwrap();
        let other = open_connection(&path, OpenMode::Existing).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let now = Utc::now();
        let claim = MailClaim { sender: SenderId("a".into()), now, lease_until: now, limit: 1 };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        // Through the writer, this would wait out the busy timeout for the lock, then fail.
        assert_eq!(runtime.block_on(store.claim_mail(claim)).unwrap(), Vec::new());
        other.execute_batch("ROLLBACK").unwrap();
        runtime.block_on(store.close()).unwrap();
    }
}
