//! One unit of work in one transaction, retried when the server says a retry can succeed.
//!
//! Transactions run at READ COMMITTED (PostgreSQL's default): every statement sees what was
//! committed before it began, and the races a read cannot see are settled by the database's
//! own constraints and locks (the unique index over held seats, advisory locks). A deadlock or
//! serialization failure rolls the transaction back whole, so running it again is safe; after
//! [`ATTEMPTS`] the caller gets [`StoreError::Busy`]. A connection found dead before COMMIT
//! was sent (a pooled connection from before a server restart) is retried on a new one; a
//! connection lost during COMMIT is not, because the commit may have happened: the caller
//! gets [`Unavailable::Unreachable`](crate::store::Unavailable) and a client retries with its
//! idempotency key. Booking writes run through [`in_observed_transaction`], which tells the
//! store's observers of each commit ([`super::observers`]).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use deadpool_postgres::{Pool, Transaction};

use super::errors::{Fault, is_connection_lost, is_retryable, pool_error, store_error};
use super::observers::Observers;
use crate::store::StoreError;

/// How many times a transaction is tried before the caller is told the store is busy.
pub(super) const ATTEMPTS: u32 = 5;

/// The work of one attempt, borrowing the transaction and the caller's input.
pub(super) type Work<'a, T> = Pin<Box<dyn Future<Output = Result<T, Fault>> + Send + 'a>>;

/// Where an attempt failed.
enum Failed {
    /// Before COMMIT was sent: nothing was kept.
    Before(tokio_postgres::Error),
    /// The work found something it cannot read: nothing was kept, and a retry would repeat it.
    Unreadable(Fault),
    /// At COMMIT: kept or not, unknown unless the server said it rolled back.
    Commit(tokio_postgres::Error),
}

/// Runs `work` over `input` in a transaction, committing when `keep` accepts its value and
/// rolling back otherwise (a refused booking writes nothing). Answers once COMMIT returned:
/// with `synchronous_commit` on (the server's default, which Tiketa never changes), the
/// commit is then durable on the server.
pub(super) async fn in_transaction<I, T, W, K>(pool: &Pool, input: &I, work: W, keep: K) -> Result<T, StoreError>
where
    I: Sync + ?Sized,
    W: for<'a> Fn(&'a Transaction<'a>, &'a I) -> Work<'a, T> + Sync,
    K: Fn(&T) -> bool + Sync,
{
    Ok(timed_transaction(pool, input, work, keep).await?.0)
}

/// As [`in_transaction`], for booking writes: a commit of a value that `writes` counts any
/// write in is told to `observers`, with how many and how long its COMMIT took.
pub(super) async fn in_observed_transaction<I, T, W, K, N>(
    pool: &Pool,
    observers: &Observers,
    input: &I,
    work: W,
    keep: K,
    writes: N,
) -> Result<T, StoreError>
where
    I: Sync + ?Sized,
    W: for<'a> Fn(&'a Transaction<'a>, &'a I) -> Work<'a, T> + Sync,
    K: Fn(&T) -> bool + Sync,
    N: Fn(&T) -> usize,
{
    let (value, commit) = timed_transaction(pool, input, work, keep).await?;
    if let Some(latency) = commit
        && writes(&value) > 0
    {
        observers.committed(writes(&value), latency);
    }
    Ok(value)
}

/// [`in_transaction`], answering also how long its COMMIT took (`None`: rolled back).
async fn timed_transaction<I, T, W, K>(
    pool: &Pool,
    input: &I,
    work: W,
    keep: K,
) -> Result<(T, Option<Duration>), StoreError>
where
    I: Sync + ?Sized,
    W: for<'a> Fn(&'a Transaction<'a>, &'a I) -> Work<'a, T> + Sync,
    K: Fn(&T) -> bool + Sync,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut client = pool.get().await.map_err(pool_error)?;
        let result = async {
            let tx = client.transaction().await.map_err(Failed::Before)?;
            let value = work(&tx, input).await.map_err(|fault| match fault {
                Fault::Pg(e) => Failed::Before(e),
                other => Failed::Unreadable(other),
            })?;
            if keep(&value) {
                let committing = Instant::now();
                tx.commit().await.map_err(Failed::Commit)?;
                Ok((value, Some(committing.elapsed())))
            } else {
                tx.rollback().await.map_err(Failed::Before)?;
                Ok((value, None))
            }
        }
        .await;
        let e = match result {
            Ok(value) => return Ok(value),
            Err(Failed::Before(e)) if is_connection_lost(&e) && attempt < ATTEMPTS => {
                // Most likely a pooled connection the server closed (a restart): take a new one.
                tracing::info!("a PostgreSQL connection was lost before commit; trying a new one: {e}");
                drop(deadpool_postgres::Object::take(client));
                continue;
            }
            Err(Failed::Before(e) | Failed::Commit(e)) if is_retryable(&e) => e,
            Err(Failed::Before(e) | Failed::Commit(e)) => return Err(store_error(e)),
            Err(Failed::Unreadable(fault)) => return Err(fault.into()),
        };
        if attempt >= ATTEMPTS {
            tracing::warn!("a PostgreSQL transaction failed {ATTEMPTS} times on conflicts; answering busy: {e}");
            return Err(StoreError::Busy);
        }
        drop(client);
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// A short, growing, jittered pause, so two transactions that collided do not collide again.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = 2u64.saturating_pow(attempt.min(8));
    Duration::from_millis(base + rand::random_range(0..=base))
}
