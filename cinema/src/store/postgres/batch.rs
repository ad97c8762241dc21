//! Group commit: the bookings waiting at one moment are placed in one transaction.
//!
//! Each booking in a transaction of its own pays for its statements, its commit's flush and,
//! above all, `NOTIFY`'s lock: PostgreSQL holds a global lock from a notifying transaction's
//! pre-commit until its commit is flushed, so notifying transactions commit one at a time
//! (see BENCHMARKS.md). As the SQLite writer does, this writer takes every booking queued when
//! it is free (up to [`MAX_BATCH`]) and places them together: one fact query per kind for the
//! whole batch, the decisions of [`decide::place`] in queue order (a seat taken by an earlier
//! booking of the batch counts as taken for a later one, a hold ended by an earlier booking
//! of the batch holds nothing for a later one, a key used earlier in the batch is replayed),
//! one statement that writes every accepted booking, its seats, its key, its confirmation if
//! it carries one, and one notification per showtime, and one COMMIT. Answers go out only
//! after COMMIT returned; the store's observers hear of the commit as one of that many writes.
//!
//! A batch the database refuses (another instance took a seat between the fact query and the
//! insert, a reference or check-in code drawn twice, a deadlock, a connection lost before
//! COMMIT) is rolled back whole and each of its bookings placed again in a transaction of its
//! own ([`super::bookings::place`]), so one conflict never fails the others; a drawn value
//! taken then answers [`PlaceOutcome::ReferenceTaken`] for that booking alone, and the desk
//! draws again. A batch whose COMMIT fails answers each booking with the
//! error, as a single booking would: whether it was kept is unknown, and a client's retry with
//! its `Idempotency-Key` finds out.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use deadpool_postgres::{Pool, Transaction};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Statement;

use super::bookings::{self, Earlier, earlier_uses, whole_seconds};
use super::errors::Fault;
use super::listen::{CHANNEL, Notify};
use super::lock;
use super::observers::Observers;
use super::{holds, showtime_lock};
use crate::booking::SealedToken;
use crate::booking::decide::{self, PlaceDecision, PlaceFacts};
use crate::booking::record::{NewBooking, PlaceOutcome};
use crate::outbox::{MailBooking, NewMail};
use crate::store::StoreError;

/// The most bookings placed in one transaction: bounds the latency a batch adds.
pub(super) const MAX_BATCH: usize = 256;

/// How many bookings may wait for the writer before new ones are refused as busy.
const QUEUE: usize = 8192;

type Answer = oneshot::Sender<Result<PlaceOutcome, StoreError>>;

/// The handle the store places bookings through; the writer task runs until it is dropped.
pub(super) struct Batcher {
    jobs: mpsc::Sender<(NewBooking, Answer)>,
}

impl Batcher {
    /// Starts the writer task on the current runtime.
    pub(super) fn spawn(pool: Pool, notify: Notify, observers: Arc<Observers>) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, Arc::new(notify), observers, queue));
        Batcher { jobs }
    }

    /// Places a booking with whatever else is queued; answered after its batch's COMMIT.
    pub(super) async fn place(&self, booking: NewBooking) -> Result<PlaceOutcome, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.jobs.try_send((booking, answer)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Busy,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(
    pool: Pool,
    notify: Arc<Notify>,
    observers: Arc<Observers>,
    mut queue: mpsc::Receiver<(NewBooking, Answer)>,
) {
    let mut batch = Vec::new();
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        if jobs.len() == 1 {
            let (booking, answer) = jobs.into_iter().next().expect("one job");
            let _ = answer.send(bookings::place(&pool, &notify, &observers, &booking).await);
            continue;
        }
        let (bookings, answers): (Vec<NewBooking>, Vec<Answer>) = jobs.into_iter().unzip();
        match place_batch(&pool, &notify, &observers, &bookings).await {
            Ok(outcomes) => {
                for (answer, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = answer.send(Ok(outcome));
                }
            }
            Err(Refused::AtCommit(e)) => {
                tracing::error!("a batch of {} bookings failed at COMMIT: {e}", bookings.len());
                // What a single booking would answer (an unreachable server says so), for each.
                let error = super::errors::store_error(e);
                let unavailable = match &error {
                    StoreError::Unavailable(reason) => Some(reason.clone()),
                    _ => None,
                };
                let message = error.to_string();
                for answer in answers {
                    let _ = answer.send(Err(match &unavailable {
                        Some(reason) => StoreError::Unavailable(reason.clone()),
                        None => StoreError::Backend(message.clone().into()),
                    }));
                }
            }
            Err(Refused::Before(reason)) => {
                tracing::debug!("a batch of {} bookings was refused ({reason}); placing each alone", bookings.len());
                // Each in a task of its own, at once: they overlap on the server as far as
                // the pool allows, and this writer goes back to the queue.
                for (booking, answer) in bookings.into_iter().zip(answers) {
                    let (pool, notify, observers) = (pool.clone(), notify.clone(), observers.clone());
                    tokio::spawn(async move {
                        let _ = answer.send(bookings::place(&pool, &notify, &observers, &booking).await);
                    });
                }
            }
        }
    }
}

/// Where a replayed booking comes from.
enum Replay {
    /// An earlier booking of this batch (its index).
    InBatch(usize),
    /// A booking already in the database.
    Stored { booking_id: i64, sealed_token: SealedToken },
}

/// Why a batch was not kept.
enum Refused {
    /// Rolled back before COMMIT: nothing was kept, so each booking may be placed again.
    Before(String),
    /// COMMIT itself failed: whether the batch was kept is unknown.
    AtCommit(tokio_postgres::Error),
}

async fn place_batch(
    pool: &Pool,
    notify: &Notify,
    observers: &Observers,
    batch: &[NewBooking],
) -> Result<Vec<PlaceOutcome>, Refused> {
    let before = |e: &dyn std::fmt::Display| Refused::Before(e.to_string());
    let mut client = pool.get().await.map_err(|e| before(&e))?;
    let tx = client.transaction().await.map_err(|e| before(&e))?;
    let decided = decide_batch(&tx, notify, batch).await.map_err(|e| match e {
        Fault::Pg(e) => before(&e),
        Fault::Malformed(what) => Refused::Before(format!("a stored {what} is malformed")),
    })?;
    let committing = Instant::now();
    tx.commit().await.map_err(Refused::AtCommit)?;
    let placed = decided.iter().filter(|o| matches!(o, PlaceOutcome::Placed(_))).count();
    if placed > 0 {
        observers.committed(placed, committing.elapsed());
    }
    Ok(decided)
}

/// The facts for the whole batch, the decisions in queue order, and the writes of the accepted.
async fn decide_batch(tx: &Transaction<'_>, notify: &Notify, batch: &[NewBooking]) -> Result<Vec<PlaceOutcome>, Fault> {
    let showtime_ids: Vec<&str> = distinct(batch.iter().map(|b| b.showtime.as_str()));
    let keys: Vec<[u8; 32]> = batch.iter().filter_map(|b| b.idempotency.map(|i| i.key_id)).collect();
    // The statements first (no round trip once cached), so that the biased join sends the
    // keys' locks, then the showtimes' locks, then the reads, in that order: the reads see
    // every commit made under those locks (see showtime_lock).
    let (keys_stmt, lock_stmt, holds_stmt) =
        tokio::try_join!(tx.prepare_cached(KEYS_LOCK), showtime_lock::statement(tx), holds::holds_statement(tx))?;
    let (pair_showtimes, pair_seats) = pairs(batch);
    let (earlier, showtimes, held, mut holds) = tokio::try_join!(
        biased;
        lock_and_read_keys(tx, &keys_stmt, &keys),
        async { showtime_lock::locked(tx, &lock_stmt, &showtime_ids).await.map_err(Fault::from) },
        read_held(tx, &pair_showtimes, &pair_seats),
        async { holds::holds_among(tx, &holds_stmt, &pair_showtimes, &pair_seats).await.map_err(Fault::from) },
    )?;

    let mut taken: HashSet<(String, String)> = held;
    // Keys used earlier in this batch: the fingerprint and the outcome index of their booking.
    let mut used_here: HashMap<[u8; 32], (crate::booking::Fingerprint, usize)> = HashMap::new();
    let mut outcomes: Vec<Option<PlaceOutcome>> = Vec::with_capacity(batch.len());
    let mut replays: Vec<(usize, Replay)> = Vec::new();
    let mut accepted: Vec<usize> = Vec::new();
    for (i, b) in batch.iter().enumerate() {
        let key = b.idempotency.map(|k| k.key_id);
        let here = key.and_then(|k| used_here.get(&k).copied());
        let stored = key.and_then(|k| earlier.get(&k));
        let showtime = showtimes.get(b.showtime.as_str());
        let requested_taken: Vec<String> =
            b.seats.iter().filter(|s| taken.contains(&(b.showtime.0.clone(), (*s).clone()))).cloned().collect();
        let earlier_fingerprint = here.map(|(f, _)| f).or(stored.map(|e| e.fingerprint));
        // A replay answers with the earlier booking whatever its seats' state now.
        let (requested_taken, requested_held) = match earlier_fingerprint {
            Some(_) => (Vec::new(), Vec::new()),
            None => (requested_taken, holds::blocking(&holds, b)),
        };
        let decision =
            decide::place(PlaceFacts::of(b, earlier_fingerprint, showtime, &requested_taken, &requested_held));
        if let Some(refused) = decision.refusal() {
            outcomes.push(Some(refused));
            continue;
        }
        if decision == PlaceDecision::Replay {
            match (here, stored) {
                // Filled in below, once the earlier booking of this batch has its record.
                (Some((_, first)), _) => replays.push((i, Replay::InBatch(first))),
                (None, Some(e)) => {
                    replays.push((i, Replay::Stored { booking_id: e.booking_id, sealed_token: e.sealed_token }))
                }
                (None, None) => unreachable!("Replay is decided for an earlier use"),
            }
            outcomes.push(None);
            continue;
        }
        let showtime = showtime.expect("Insert is decided for an existing showtime");
        for seat in &b.seats {
            taken.insert((b.showtime.0.clone(), seat.clone()));
        }
        holds::ended_by(&mut holds, b);
        if let (Some(k), Some(idem)) = (key, b.idempotency) {
            used_here.insert(k, (idem.fingerprint, i));
        }
        accepted.push(i);
        outcomes.push(Some(PlaceOutcome::Placed(b.placed(showtime.clone()))));
    }

    if !accepted.is_empty() {
        insert_accepted(tx, notify, batch, &accepted).await?;
    }
    for (i, replay) in replays {
        let replayed = match replay {
            Replay::InBatch(first) => match &outcomes[first] {
                Some(PlaceOutcome::Placed(record)) => PlaceOutcome::Replayed {
                    booking: record.clone(),
                    sealed_token: batch[first].idempotency.expect("a keyed booking").sealed_token,
                },
                _ => unreachable!("a key used in the batch belongs to a placed booking"),
            },
            Replay::Stored { booking_id, sealed_token } => PlaceOutcome::Replayed {
                booking: super::bookings_read::booking_by_id(tx, booking_id).await?,
                sealed_token,
            },
        };
        outcomes[i] = Some(replayed);
    }
    Ok(outcomes.into_iter().map(|o| o.expect("every booking of the batch is decided")).collect())
}

fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    items.filter(|i| seen.insert(*i)).collect()
}

/// Waits for the locks of a batch's keys, in the order given.
const KEYS_LOCK: &str =
    "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest($1::bigint[]) AS k ORDER BY k) AS o";

/// Locks every key of the batch (in one order, so two instances' batches wait for each other
/// instead of deadlocking) with `lock` ([`KEYS_LOCK`]), then reads their earlier uses.
async fn lock_and_read_keys(
    tx: &Transaction<'_>,
    lock: &Statement,
    keys: &[[u8; 32]],
) -> Result<HashMap<[u8; 32], Earlier>, Fault> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let mut locks: Vec<i64> = keys.iter().map(lock::idempotency_key).collect();
    locks.sort_unstable();
    locks.dedup();
    tx.query_one(lock, &[&locks]).await?;
    earlier_uses(tx, keys).await
}

/// Every requested (showtime, seat) pair of the batch, as two parallel lists.
fn pairs(batch: &[NewBooking]) -> (Vec<&str>, Vec<&str>) {
    let (mut showtimes, mut seats) = (Vec::new(), Vec::new());
    for b in batch {
        for seat in &b.seats {
            showtimes.push(b.showtime.as_str());
            seats.push(seat.as_str());
        }
    }
    (showtimes, seats)
}

/// Which of the requested (showtime, seat) pairs are held by active bookings: one index probe
/// per pair.
async fn read_held(
    tx: &Transaction<'_>,
    showtimes: &[&str],
    seats: &[&str],
) -> Result<HashSet<(String, String)>, Fault> {
    let stmt = tx
        .prepare_cached(
            "SELECT h.showtime_id, h.seat FROM unnest($1::text[], $2::text[]) AS r (showtime_id, seat)
             JOIN booking_seats AS h ON h.active AND h.showtime_id = r.showtime_id AND h.seat = r.seat",
        )
        .await?;
    let rows = tx.query(&stmt, &[&showtimes, &seats]).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(Fault::from)
}

/// Every accepted booking, its seats (in showtime and seat order, so overlapping batches lock
/// the index's entries in one order), its key, the end of the holds of those that had a hold
/// token (all that token's rows on the booking's showtime), the confirmations of those that
/// carry one (in queue order), and one notification per showtime: one statement.
const INSERT_BATCH: &str = "
    WITH b AS (
        INSERT INTO bookings (reference, showtime_id, name, email, token_hash, created_at, check_in_code)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[], $20::text[])
        RETURNING id, reference
    ), s AS (
        INSERT INTO booking_seats (booking_id, position, showtime_id, seat)
        SELECT b.id, x.position, x.showtime_id, x.seat
        FROM unnest($7::text[], $8::integer[], $9::text[], $10::text[]) AS x (reference, position, showtime_id, seat)
        JOIN b USING (reference)
        ORDER BY x.showtime_id, x.seat
        RETURNING 1
    ), k AS (
        INSERT INTO idempotency_keys (key_id, fingerprint, booking_id, sealed_token, created_at)
        SELECT y.key_id, y.fingerprint, b.id, y.sealed_token, y.created_at
        FROM unnest($11::text[], $12::bytea[], $13::bytea[], $14::bytea[], $15::timestamptz[])
            AS y (reference, key_id, fingerprint, sealed_token, created_at)
        JOIN b USING (reference)
        RETURNING 1
    ), h AS (
        DELETE FROM seat_holds AS h USING unnest($18::text[], $19::bytea[]) AS t (showtime_id, token_hash)
        WHERE h.showtime_id = t.showtime_id AND h.token_hash = t.token_hash
        RETURNING 1
    ), m AS (
        INSERT INTO outbox (kind, recipient, payload, created_at, due_at)
        SELECT z.kind, z.recipient, z.payload, z.queued_at, z.queued_at
        FROM unnest($21::text[], $22::text[], $23::text[], $24::text[], $25::timestamptz[]) WITH ORDINALITY
            AS z (reference, kind, recipient, payload, queued_at, position)
        JOIN b USING (reference)
        ORDER BY z.position
        RETURNING 1
    ), n AS (SELECT pg_notify($16, p) FROM unnest($17::text[]) AS p)
    SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM s), (SELECT count(*) FROM k), (SELECT count(*) FROM h),
        (SELECT count(*) FROM m), (SELECT count(*) FROM n)";

async fn insert_accepted(
    tx: &Transaction<'_>,
    notify: &Notify,
    batch: &[NewBooking],
    accepted: &[usize],
) -> Result<(), Fault> {
    let chosen: Vec<&NewBooking> = accepted.iter().map(|&i| &batch[i]).collect();
    let references: Vec<&str> = chosen.iter().map(|b| b.reference.as_str()).collect();
    let showtimes: Vec<&str> = chosen.iter().map(|b| b.showtime.as_str()).collect();
    let names: Vec<&str> = chosen.iter().map(|b| b.name.as_str()).collect();
    let emails: Vec<Option<&str>> = chosen.iter().map(|b| b.email.as_deref()).collect();
    let hashes: Vec<&[u8]> = chosen.iter().map(|b| &b.token_hash.0[..]).collect();
    let created: Vec<_> = chosen.iter().map(|b| whole_seconds(b.now)).collect();
    let codes: Vec<&str> = chosen.iter().map(|b| b.check_in_code.as_str()).collect();
    let (mut seat_refs, mut positions, mut seat_showtimes, mut seats) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for b in &chosen {
        for (position, seat) in b.seats.iter().enumerate() {
            seat_refs.push(b.reference.as_str());
            positions.push(position as i32 + 1);
            seat_showtimes.push(b.showtime.as_str());
            seats.push(seat.as_str());
        }
    }
    let keyed: Vec<&&NewBooking> = chosen.iter().filter(|b| b.idempotency.is_some()).collect();
    let key_refs: Vec<&str> = keyed.iter().map(|b| b.reference.as_str()).collect();
    let key_ids: Vec<&[u8]> = keyed.iter().map(|b| &b.idempotency.as_ref().expect("keyed").key_id[..]).collect();
    let fingerprints: Vec<&[u8]> =
        keyed.iter().map(|b| &b.idempotency.as_ref().expect("keyed").fingerprint.0[..]).collect();
    let sealed: Vec<&[u8]> = keyed.iter().map(|b| &b.idempotency.as_ref().expect("keyed").sealed_token.0[..]).collect();
    let key_created: Vec<_> = keyed.iter().map(|b| whole_seconds(b.now)).collect();
    let payloads: Vec<String> = distinct(showtimes.iter().copied())
        .into_iter()
        .map(|s| notify.payload(&crate::schedule::ShowtimeId(s.to_string())))
        .collect();
    let held: Vec<&&NewBooking> = chosen.iter().filter(|b| b.hold.is_some()).collect();
    let hold_showtimes: Vec<&str> = held.iter().map(|b| b.showtime.as_str()).collect();
    let hold_tokens: Vec<&[u8]> = held.iter().map(|b| &b.hold.as_ref().expect("a hold").0[..]).collect();
    let mailed: Vec<(&str, &NewMail)> =
        chosen.iter().filter_map(|b| b.mail.as_ref().map(|m| (b.reference.as_str(), m))).collect();
    let mail_refs: Vec<&str> = mailed.iter().map(|(reference, _)| *reference).collect();
    let mail_kinds: Vec<&str> = mailed.iter().map(|(_, m)| m.kind.as_str()).collect();
    let mail_recipients: Vec<&str> = mailed.iter().map(|(_, m)| m.recipient.as_str()).collect();
    let mail_payloads: Vec<String> = mailed.iter().map(|(_, m)| MailBooking::to_payload(&m.bookings)).collect();
    let mail_at: Vec<_> = mailed.iter().map(|(_, m)| m.now).collect();
    let stmt = tx.prepare_cached(INSERT_BATCH).await?;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 25] = [
        &references,
        &showtimes,
        &names,
        &emails,
        &hashes,
        &created,
        &seat_refs,
        &positions,
        &seat_showtimes,
        &seats,
        &key_refs,
        &key_ids,
        &fingerprints,
        &sealed,
        &key_created,
        &CHANNEL,
        &payloads,
        &hold_showtimes,
        &hold_tokens,
        &codes,
        &mail_refs,
        &mail_kinds,
        &mail_recipients,
        &mail_payloads,
        &mail_at,
    ];
    tx.query_one(&stmt, &params).await?;
    Ok(())
}
