//! Sending an address its manage links again: one transaction (see
//! [`crate::store::Store::recover`]).
//!
//! The address's bookings are found through the index on `lower(email)` and locked (in id
//! order, so two recoveries of one address wait for each other instead of deadlocking, and
//! the later one's tokens are the ones kept); PostgreSQL's `lower` may fold more than ASCII,
//! so the rows it finds are kept only if their address equals the one asked for ignoring ASCII
//! case, as the trait says. [`decide::recoverable`] picks the bookings worth a link; each gets a
//! fresh token whose hash replaces its recovered hash, and one Recovery message carries them
//! all, queued in the same transaction: a token is never kept without its mail, nor mailed
//! without being kept.

use deadpool_postgres::{Pool, Transaction};

use super::errors::Fault;
use super::outbox;
use super::schedule::showtime_from_row;
use super::transaction::{Work, in_transaction};
use crate::booking::{BookingReference, ManageToken, decide};
use crate::outbox::{MailBooking, MailKind, NewMail, Recovery};
use crate::store::StoreError;

/// See [`crate::store::Store::recover`].
pub(super) async fn recover(pool: &Pool, recovery: &Recovery) -> Result<usize, StoreError> {
    in_transaction(pool, recovery, recover_in, |carried| *carried > 0).await
}

fn recover_in<'a>(tx: &'a Transaction<'a>, recovery: &'a Recovery) -> Work<'a, usize> {
    Box::pin(async move {
        let stmt = tx
            .prepare_cached(
                "SELECT b.id, b.reference, b.email, b.cancelled_at IS NOT NULL,
                        s.id, s.film_slug, s.studio, s.local_date, s.slot, s.starts_at, s.ends_at, s.archived
                 FROM bookings b JOIN showtimes s ON s.id = b.showtime_id
                 WHERE lower(b.email) = lower($1)
                 ORDER BY b.id
                 FOR UPDATE OF b",
            )
            .await?;
        let rows = tx.query(&stmt, &[&recovery.email]).await?;
        let mut ids = Vec::new();
        let mut references = Vec::new();
        for row in &rows {
            let email: String = row.try_get(2)?;
            let cancelled: bool = row.try_get(3)?;
            let showtime = showtime_from_row(row, 4)?;
            if email.eq_ignore_ascii_case(&recovery.email) && decide::recoverable(cancelled, &showtime, recovery.now) {
                let reference: String = row.try_get(1)?;
                ids.push(row.try_get::<_, i64>(0)?);
                references.push(BookingReference::parse(&reference).ok_or(Fault::Malformed("booking reference"))?);
            }
        }
        if ids.is_empty() {
            return Ok(0);
        }
        let tokens: Vec<ManageToken> = {
            let mut rng = rand::rng();
            references.iter().map(|_| ManageToken::generate(&mut rng)).collect()
        };
        let hashes: Vec<Vec<u8>> = tokens.iter().map(|t| t.hash().0.to_vec()).collect();
        let keep = tx
            .prepare_cached(
                "UPDATE bookings SET recovered_token_hash = x.hash
                 FROM unnest($1::bigint[], $2::bytea[]) AS x (id, hash) WHERE bookings.id = x.id",
            )
            .await?;
        tx.execute(&keep, &[&ids, &hashes]).await?;
        let bookings: Vec<MailBooking> = references
            .into_iter()
            .zip(tokens)
            .map(|(reference, token)| MailBooking { reference, token: Some(token) })
            .collect();
        let carried = bookings.len();
        let mail = NewMail { kind: MailKind::Recovery, recipient: recovery.email.clone(), bookings, now: recovery.now };
        outbox::queue(tx, &mail).await?;
        Ok(carried)
    })
}
