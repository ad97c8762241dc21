//! The booking writer: one thread, one connection, group commit.
//!
//! Every booking write (and every hold and release of seats, see [`super::holds`], which must
//! serialise with bookings) goes through a channel to this thread. It takes whatever commands are
//! waiting (up to [`MAX_BATCH`]), opens one `BEGIN IMMEDIATE` transaction, applies each command
//! inside its own `SAVEPOINT` (so each booking stays all-or-nothing and a refused one undoes
//! only itself), commits once, and only then answers every waiter. With `synchronous=FULL` the
//! commit is one flush to disk for the whole batch, which is how a single SQLite file takes
//! thousands of durable bookings a second: the flush is paid per batch, not per booking, and
//! the busier the service the bigger the batches. A single writer also means bookings never
//! wait on each other's locks inside the process.
//!
//! Around each batch the writer also keeps three promises that no booking commit may break:
//! it writes only into the file still at the database's path ([`super::database_file`]), it
//! records how the commit ended so health can say whether bookings would succeed
//! ([`super::bookings_health`]), and it keeps the write-ahead log small
//! ([`super::bookings_wal`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params, params_from_iter};

use super::backend;
use super::bookings_health::WriteStatus;
use super::bookings_read::{booking_by_id, booking_of_owner, booking_with_id_by_reference};
use super::bookings_wal::Wal;
use super::commit_watch::CommitWatch;
use super::database_file::DatabaseFile;
use super::pending::Reply;
use super::seat_changes::{self, Origin};
use super::{check_in, holds, outbox};
use crate::booking::Fingerprint;
use crate::booking::decide::{self, CancelDecision, CancelFacts, PlaceDecision, PlaceFacts};
use crate::booking::hold::{HoldOutcome, NewHold, ReleaseHold};
use crate::booking::record::{BookingRecord, CancelOutcome, NewBooking, PlaceOutcome};
use crate::booking::{BookingReference, ManageToken, SealedToken};
use crate::box_office::{CancelledBy, CheckIn, CheckInOutcome};
use crate::outbox::{MailClaim, MailResult, NewMail, QueuedMail, Recovery};
use crate::schedule::ShowtimeId;
use crate::store::StoreError;
use crate::store::seat_cache::{SeatChanges, SeatIndex};
use crate::store::{ChangeFeed, Commits};

/// The most commands committed in one transaction: bounds the latency one batch adds.
pub(crate) const MAX_BATCH: usize = 512;

/// A write for the writer thread.
pub(crate) enum Command {
    Place(Box<NewBooking>, Reply<PlaceOutcome>),
    Cancel {
        reference: BookingReference,
        token: ManageToken,
        now: DateTime<Utc>,
        reply: Reply<CancelOutcome>,
    },
    /// A box-office cancellation: no token, recorded as the operator's.
    CancelByOperator {
        reference: BookingReference,
        now: DateTime<Utc>,
        reply: Reply<CancelOutcome>,
    },
    CheckIn(Box<CheckIn>, Reply<CheckInOutcome>),
    Hold(Box<NewHold>, Reply<HoldOutcome>),
    Release(Box<ReleaseHold>, Reply<HoldOutcome>),
    Recover(Box<Recovery>, Reply<usize>),
    ClaimMail(Box<MailClaim>, Reply<Vec<QueuedMail>>),
    FinishMail(Box<MailResult>, Reply<bool>),
}

/// A command's outcome and what it changed, for the seat index and the change log once the
/// batch commits.
type Applied<T> = Result<(T, SeatChanges), StoreError>;

/// An applied command's answer, held until the commit.
// Answers live for one batch in one Vec; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Answer {
    Place(Reply<PlaceOutcome>, Applied<PlaceOutcome>),
    Cancel(Reply<CancelOutcome>, Applied<CancelOutcome>),
    CheckIn(Reply<CheckInOutcome>, Applied<CheckInOutcome>),
    Hold(Reply<HoldOutcome>, Applied<HoldOutcome>),
    Recover(Reply<usize>, Applied<usize>),
    Claim(Reply<Vec<QueuedMail>>, Applied<Vec<QueuedMail>>),
    Finish(Reply<bool>, Applied<bool>),
}

impl Answer {
    fn send(self) {
        match self {
            Answer::Place(r, v) => r.send(v.map(|(outcome, _)| outcome)),
            Answer::Cancel(r, v) => r.send(v.map(|(outcome, _)| outcome)),
            Answer::CheckIn(r, v) => r.send(v.map(|(outcome, _)| outcome)),
            Answer::Hold(r, v) => r.send(v.map(|(outcome, _)| outcome)),
            Answer::Recover(r, v) => r.send(v.map(|(outcome, _)| outcome)),
            Answer::Claim(r, v) => r.send(v.map(|(outcome, _)| outcome)),
            Answer::Finish(r, v) => r.send(v.map(|(outcome, _)| outcome)),
        }
    }

    /// What this answer did to seats and holds, for the in-memory seat index.
    fn seat_changes(&mut self, out: &mut SeatChanges) {
        match self {
            Answer::Place(_, Ok((_, changes)))
            | Answer::Cancel(_, Ok((_, changes)))
            | Answer::Hold(_, Ok((_, changes))) => out.append(changes),
            _ => {}
        }
    }

    /// SQLite's words if this command failed because the disk did not take a write.
    fn disk_error(&self) -> Option<String> {
        let err = match self {
            Answer::Place(_, Err(e))
            | Answer::Cancel(_, Err(e))
            | Answer::CheckIn(_, Err(e))
            | Answer::Hold(_, Err(e))
            | Answer::Recover(_, Err(e))
            | Answer::Claim(_, Err(e))
            | Answer::Finish(_, Err(e)) => e,
            _ => return None,
        };
        match err {
            StoreError::Backend(inner) => {
                inner.downcast_ref::<rusqlite::Error>().filter(|e| is_disk_error(e)).map(ToString::to_string)
            }
            _ => None,
        }
    }

    /// The batch is not kept: answer with `err` instead.
    fn fail(self, err: impl Fn() -> StoreError) {
        match self {
            Answer::Place(r, _) => r.send(Err(err())),
            Answer::Cancel(r, _) => r.send(Err(err())),
            Answer::CheckIn(r, _) => r.send(Err(err())),
            Answer::Hold(r, _) => r.send(Err(err())),
            Answer::Recover(r, _) => r.send(Err(err())),
            Answer::Claim(r, _) => r.send(Err(err())),
            Answer::Finish(r, _) => r.send(Err(err())),
        }
    }
}

/// The writer thread's state: its connection, and what it keeps true beside the database.
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) file: Arc<DatabaseFile>,
    pub(crate) status: Arc<WriteStatus>,
    pub(crate) wal: Wal,
    pub(crate) seats: Arc<SeatIndex>,
    pub(crate) feed: ChangeFeed,
    pub(crate) path: PathBuf,
    /// This store's mark on the change log rows its commits write.
    pub(crate) origin: Origin,
    /// Batches committed, to prune the change log every [`PRUNE_EVERY`].
    pub(crate) batches: u64,
    /// Told of every committed batch.
    pub(crate) commits: Arc<CommitWatch>,
}

/// How many batches pass between two looks at whether the change log needs pruning.
const PRUNE_EVERY: u64 = 256;

impl Writer {
    /// Runs until every sender is gone and the queue is drained, then returns (closing the
    /// connection). After each commit, and before answering, publishes the seats it took and
    /// freed to the seat index. Between batches it keeps the log small; while idle it
    /// truncates the log and, after a failed commit, probes until a write succeeds again.
    pub(crate) fn run(mut self, commands: Receiver<Command>) {
        loop {
            let first = match commands.recv_timeout(self.wal.idle_after()) {
                Ok(c) => c,
                Err(RecvTimeoutError::Timeout) => {
                    self.idle();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match commands.try_recv() {
                    Ok(c) => batch.push(c),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            self.commit_batch(batch);
            self.wal.after_commit(&self.conn);
        }
    }

    fn idle(&mut self) {
        if self.status.is_failing() && self.file.check().is_ok() {
            match probe(&self.conn) {
                Ok(()) => self.status.succeeded(),
                Err(e) => self.status.failed(&self.path, &e.to_string()),
            }
        }
        self.wal.when_idle(&self.conn);
    }

    fn commit_batch(&mut self, batch: Vec<Command>) {
        // Nothing is written into a file that is no longer the one at the database's path.
        if let Err(gone) = self.file.check() {
            batch.into_iter().for_each(|c| command_reply_fail(c, || gone.clone().into()));
            return;
        }
        let began = Instant::now();
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            let message = format!("cannot start a write transaction: {e}");
            self.status.failed(&self.path, &e.to_string());
            batch.into_iter().for_each(|c| command_reply_fail(c, || StoreError::Backend(message.clone().into())));
            return;
        }
        let mut answers: Vec<Answer> = batch.into_iter().map(|c| apply(&self.conn, c)).collect();
        let mut changes = SeatChanges::default();
        answers.iter_mut().for_each(|a| a.seat_changes(&mut changes));
        let changed: Vec<ShowtimeId> = changes.showtimes().into_iter().map(|s| ShowtimeId(s.to_string())).collect();
        // Told to the other processes on this file in the same transaction (see
        // `seat_changes`): a batch whose log rows cannot be written is not kept.
        let logged = self.log_changes(&changed);
        match logged.and_then(|()| self.conn.execute_batch("COMMIT")) {
            Ok(()) => {
                // Told before anyone is answered, so a metric never lags what a client saw.
                self.commits.committed(Commits { writes: answers.len(), latency: began.elapsed() });
                self.seats.apply_all(changes);
                changed.into_iter().for_each(|showtime| self.feed.publish(showtime));
                self.batches += 1;
                // Replaced between the check above and the commit: the batch went into the old
                // file, which will not be there after a restart. Say so rather than acknowledge.
                if let Err(gone) = self.file.check() {
                    answers.into_iter().for_each(|a| a.fail(|| gone.clone().into()));
                    return;
                }
                match answers.iter().find_map(Answer::disk_error) {
                    Some(e) => self.status.failed(&self.path, &e),
                    None => self.status.succeeded(),
                }
                answers.into_iter().for_each(Answer::send);
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.status.failed(&self.path, &e.to_string());
                let message = format!("the write transaction did not commit: {e}");
                answers.into_iter().for_each(|a| a.fail(|| StoreError::Backend(message.clone().into())));
            }
        }
    }
}

impl Writer {
    /// Logs the showtimes this batch changed, and now and then prunes the log, inside the
    /// batch's transaction (which holds the write lock anyway, so this adds no lock wait).
    fn log_changes(&self, changed: &[ShowtimeId]) -> rusqlite::Result<()> {
        let now = Utc::now().timestamp();
        seat_changes::record(&self.conn, changed, self.origin, now)?;
        if self.batches.is_multiple_of(PRUNE_EVERY) {
            seat_changes::prune(&self.conn, now)?;
        }
        Ok(())
    }
}

/// A one-row write, to learn whether commits reach the disk again.
fn probe(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let written = conn
        .execute(
            "INSERT INTO write_probe (id, at) VALUES (1, unixepoch()) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            [],
        )
        .and_then(|_| conn.execute_batch("COMMIT"));
    if written.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    written
}

/// Whether an error means the disk did not take a write (full, failing, read-only).
fn is_disk_error(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DiskFull | ErrorCode::SystemIoFailure | ErrorCode::ReadOnly | ErrorCode::CannotOpen)
    )
}

fn command_reply_fail(command: Command, err: impl Fn() -> StoreError) {
    match command {
        Command::Place(_, reply) => reply.send(Err(err())),
        Command::Cancel { reply, .. } | Command::CancelByOperator { reply, .. } => reply.send(Err(err())),
        Command::CheckIn(_, reply) => reply.send(Err(err())),
        Command::Hold(_, reply) | Command::Release(_, reply) => reply.send(Err(err())),
        Command::Recover(_, reply) => reply.send(Err(err())),
        Command::ClaimMail(_, reply) => reply.send(Err(err())),
        Command::FinishMail(_, reply) => reply.send(Err(err())),
    }
}

/// Applies one command inside its own savepoint: kept if it changed the store as asked,
/// undone otherwise.
fn apply(conn: &Connection, command: Command) -> Answer {
    match command {
        Command::Place(booking, reply) => {
            let result = in_savepoint(conn, |c| place(c, &booking), |(o, _)| matches!(o, PlaceOutcome::Placed(_)));
            Answer::Place(reply, result)
        }
        Command::Cancel { reference, token, now, reply } => {
            let result = in_savepoint(
                conn,
                |c| cancel(c, &reference, &token, now),
                |(o, _)| matches!(o, CancelOutcome::Cancelled(_)),
            );
            Answer::Cancel(reply, result)
        }
        Command::CancelByOperator { reference, now, reply } => {
            let result = in_savepoint(
                conn,
                |c| cancel_by_operator(c, &reference, now),
                |(o, _)| matches!(o, CancelOutcome::Cancelled(_)),
            );
            Answer::Cancel(reply, result)
        }
        Command::CheckIn(check, reply) => {
            let result = in_savepoint(
                conn,
                |c| no_seats(check_in::check_in(c, &check)),
                |(o, _)| matches!(o, CheckInOutcome::CheckedIn(_)),
            );
            Answer::CheckIn(reply, result)
        }
        Command::Hold(new, reply) => {
            let result = in_savepoint(conn, |c| hold(c, &new), |(o, _)| matches!(o, HoldOutcome::Held(_)));
            Answer::Hold(reply, result)
        }
        Command::Release(release, reply) => {
            let result = in_savepoint(conn, |c| release_hold(c, &release), |(o, _)| matches!(o, HoldOutcome::Held(_)));
            Answer::Hold(reply, result)
        }
        Command::Recover(recovery, reply) => {
            let result = in_savepoint(conn, |c| no_seats(outbox::recover(c, &recovery)), |_| true);
            Answer::Recover(reply, result)
        }
        Command::ClaimMail(claim, reply) => {
            let result = in_savepoint(conn, |c| no_seats(outbox::claim(c, &claim)), |_| true);
            Answer::Claim(reply, result)
        }
        Command::FinishMail(result, reply) => {
            let applied = in_savepoint(conn, |c| no_seats(outbox::finish(c, &result)), |_| true);
            Answer::Finish(reply, applied)
        }
    }
}

/// An outcome of a write that changes no seats (the outbox's).
fn no_seats<T>(result: rusqlite::Result<T>) -> rusqlite::Result<(T, SeatChanges)> {
    result.map(|value| (value, SeatChanges::default()))
}

fn hold(conn: &Connection, new: &NewHold) -> rusqlite::Result<(HoldOutcome, SeatChanges)> {
    let (outcome, holds) = holds::hold(conn, new)?;
    Ok((outcome, SeatChanges { seats: Vec::new(), holds }))
}

fn release_hold(conn: &Connection, release: &ReleaseHold) -> rusqlite::Result<(HoldOutcome, SeatChanges)> {
    let (outcome, holds) = holds::release(conn, release)?;
    Ok((outcome, SeatChanges { seats: Vec::new(), holds }))
}

fn in_savepoint<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    keep: impl FnOnce(&T) -> bool,
) -> Result<T, StoreError> {
    // Cached statements: these run for every booking, so they are parsed once.
    let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(drop);
    run("SAVEPOINT booking").map_err(backend)?;
    let result = work(conn);
    let keep = matches!(&result, Ok(v) if keep(v));
    let end =
        if keep { run("RELEASE booking") } else { run("ROLLBACK TO booking").and_then(|()| run("RELEASE booking")) };
    let value = result.map_err(backend)?;
    end.map_err(backend)?;
    Ok(value)
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

fn place(conn: &Connection, b: &NewBooking) -> rusqlite::Result<(PlaceOutcome, SeatChanges)> {
    let outcome = place_booking(conn, b)?;
    let mut changes = SeatChanges::default();
    if let PlaceOutcome::Placed(record) = &outcome {
        changes.seats = record.seats.iter().map(|seat| (b.showtime.0.clone(), seat.clone(), true)).collect();
        // The booking ends its hold on this showtime: the seats it booked are taken now, any
        // others it held are free again.
        if let Some(token) = &b.hold {
            let ended = holds::end_hold(conn, &b.showtime, token)?;
            changes.holds = ended.into_iter().map(|seat| (b.showtime.0.clone(), seat, None)).collect();
        }
    }
    Ok((outcome, changes))
}

fn place_booking(conn: &Connection, b: &NewBooking) -> rusqlite::Result<PlaceOutcome> {
    // The facts, gathered inside the writer's transaction; the rules decide over them.
    let earlier = match &b.idempotency {
        Some(idem) => earlier_use(conn, &idem.key_id)?,
        None => None,
    };
    let showtime = super::schedule::showtime(conn, &b.showtime)?;
    let (taken, held) = match &showtime {
        Some(_) if earlier.is_none() => (
            taken_among(conn, &b.showtime, &b.seats)?,
            holds::held_among(conn, &b.showtime, &b.seats, b.hold.as_ref(), b.now.timestamp_millis())?,
        ),
        _ => Default::default(),
    };
    let decision =
        decide::place(PlaceFacts::of(b, earlier.as_ref().map(|e| e.fingerprint), showtime.as_ref(), &taken, &held));
    if let Some(refused) = decision.refusal() {
        return Ok(refused);
    }
    if let (PlaceDecision::Replay, Some(earlier)) = (&decision, earlier) {
        return Ok(PlaceOutcome::Replayed {
            booking: booking_by_id(conn, earlier.booking_id)?,
            sealed_token: earlier.sealed_token,
        });
    }
    let showtime = showtime.expect("Insert is decided for an existing showtime");

    let inserted = conn
        .prepare_cached(
            "INSERT INTO bookings (reference, showtime_id, name, email, token_hash, created_at, check_in_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            b.reference.as_str(),
            b.showtime.as_str(),
            b.name,
            b.email,
            &b.token_hash.0[..],
            b.now.timestamp(),
            b.check_in_code.as_str(),
        ]);
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Ok(PlaceOutcome::ReferenceTaken),
        Err(e) => return Err(e),
    }
    let booking_id = conn.last_insert_rowid();

    {
        let mut seat =
            conn.prepare_cached("INSERT INTO booking_seats (booking_id, showtime_id, seat) VALUES (?1, ?2, ?3)")?;
        for s in &b.seats {
            match seat.execute(params![booking_id, b.showtime.as_str(), s]) {
                Ok(_) => {}
                // The check above makes this unreachable; the index is the last line of defence.
                Err(e) if is_unique_violation(&e) => {
                    return Ok(PlaceOutcome::SeatsTaken(vec![s.clone()]));
                }
                Err(e) => return Err(e),
            }
        }
    }

    if let Some(mail) = &b.mail {
        outbox::queue(conn, mail)?;
    }
    if let Some(idem) = &b.idempotency {
        conn.prepare_cached(
            "INSERT INTO idempotency_keys (key_id, fingerprint, booking_id, sealed_token, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            &idem.key_id[..],
            &idem.fingerprint.0[..],
            booking_id,
            &idem.sealed_token.0[..],
            b.now.timestamp(),
        ])?;
    }
    // Everything the record holds was just written or read; no need to read it back.
    Ok(PlaceOutcome::Placed(b.placed(showtime)))
}

/// An earlier use of an idempotency key, as stored.
struct Earlier {
    fingerprint: Fingerprint,
    booking_id: i64,
    sealed_token: SealedToken,
}

fn earlier_use(conn: &Connection, key_id: &[u8; 32]) -> rusqlite::Result<Option<Earlier>> {
    let malformed = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Blob,
            format!("stored {what} is malformed").into(),
        )
    };
    let row: Option<(Vec<u8>, i64, Vec<u8>)> = conn
        .prepare_cached("SELECT fingerprint, booking_id, sealed_token FROM idempotency_keys WHERE key_id = ?1")?
        .query_row([&key_id[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(fingerprint, booking_id, sealed)| {
        Ok(Earlier {
            fingerprint: Fingerprint(fingerprint.try_into().map_err(|_| malformed(0, "fingerprint"))?),
            booking_id,
            sealed_token: SealedToken(sealed.try_into().map_err(|_| malformed(2, "sealed token"))?),
        })
    })
    .transpose()
}

/// The requested seats already held by active bookings, in request order.
pub(crate) fn taken_among(conn: &Connection, showtime: &ShowtimeId, seats: &[String]) -> rusqlite::Result<Vec<String>> {
    let marks = vec!["?"; seats.len()].join(", ");
    let sql = format!("SELECT seat FROM booking_seats WHERE showtime_id = ? AND active = 1 AND seat IN ({marks})");
    let held: std::collections::HashSet<String> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(std::iter::once(showtime.as_str()).chain(seats.iter().map(String::as_str))), |r| {
            r.get(0)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(seats.iter().filter(|s| held.contains(*s)).cloned().collect())
}

fn cancel(
    conn: &Connection,
    reference: &BookingReference,
    token: &ManageToken,
    now: DateTime<Utc>,
) -> rusqlite::Result<(CancelOutcome, SeatChanges)> {
    let owner = booking_of_owner(conn, reference, token)?;
    cancel_booking(conn, owner, now, CancelledBy::Booker)
}

/// A box-office cancellation: the booking by its reference alone, under the booker's rules.
fn cancel_by_operator(
    conn: &Connection,
    reference: &BookingReference,
    now: DateTime<Utc>,
) -> rusqlite::Result<(CancelOutcome, SeatChanges)> {
    let booking = booking_with_id_by_reference(conn, reference)?;
    cancel_booking(conn, booking, now, CancelledBy::Operator)
}

/// Cancels `booking` (its row id and record; `None`: unknown, or not the owner's token) as
/// [`decide::cancel`] decides, recorded as cancelled `by`, and queues the notice.
fn cancel_booking(
    conn: &Connection,
    booking: Option<(i64, BookingRecord)>,
    now: DateTime<Utc>,
    by: CancelledBy,
) -> rusqlite::Result<(CancelOutcome, SeatChanges)> {
    let facts = booking.as_ref().map(|(_, record)| CancelFacts {
        cancelled: record.cancelled_at.is_some(),
        showtime: &record.showtime,
        now,
    });
    let id = match decide::cancel(facts) {
        CancelDecision::Cancel => booking.expect("Cancel is decided for a booking").0,
        CancelDecision::AlreadyCancelled => {
            let (_, record) = booking.expect("AlreadyCancelled is decided for a booking");
            return Ok((CancelOutcome::Cancelled(Box::new(record)), SeatChanges::default()));
        }
        CancelDecision::NotFound => return Ok((CancelOutcome::NotFound, SeatChanges::default())),
        CancelDecision::ShowtimeClosed => return Ok((CancelOutcome::ShowtimeClosed, SeatChanges::default())),
    };
    conn.prepare_cached("UPDATE bookings SET cancelled_at = ?2, cancelled_by = ?3 WHERE id = ?1")?.execute(params![
        id,
        now.timestamp(),
        by.as_str()
    ])?;
    conn.prepare_cached("UPDATE booking_seats SET active = 0 WHERE booking_id = ?1")?.execute([id])?;
    let record = booking_by_id(conn, id)?;
    if let Some(notice) = NewMail::cancellation(&record, now) {
        outbox::queue(conn, &notice)?;
    }
    let freed = record.seats.iter().map(|seat| (record.showtime.id.0.clone(), seat.clone(), false)).collect();
    Ok((CancelOutcome::Cancelled(Box::new(record)), SeatChanges { seats: freed, holds: Vec::new() }))
}
