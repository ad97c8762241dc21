//! What a tokio-postgres or pool failure means for a caller, as a typed [`StoreError`].
//!
//! Three kinds matter: the server cannot be reached (refused, timed out, closed the connection,
//! shutting down) is [`Unavailable::Unreachable`], which health reports and clients retry
//! after a while; a transaction the server aborted to keep concurrent ones correct
//! (serialization failure, deadlock) is worth retrying at once, inside the store; anything
//! else is a [`StoreError::Backend`] with the server's own words. The details go to the log
//! for the operator; the reason a client sees says nothing of the server's address.

use deadpool_postgres::{PoolError, TimeoutType};
use tokio_postgres::error::SqlState;

use crate::store::{StoreError, Unavailable};

/// A failure inside a transaction's work: the server's, or a stored value this build cannot
/// read (a hash of the wrong length: the table was edited by hand).
#[derive(Debug)]
pub(super) enum Fault {
    Pg(tokio_postgres::Error),
    Malformed(&'static str),
}

impl From<tokio_postgres::Error> for Fault {
    fn from(e: tokio_postgres::Error) -> Self {
        Fault::Pg(e)
    }
}

impl From<Fault> for StoreError {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Pg(e) => store_error(e),
            Fault::Malformed(what) => StoreError::Backend(format!("the stored {what} is malformed").into()),
        }
    }
}

/// A stored byte string that must be exactly `N` bytes long.
pub(super) fn fixed<const N: usize>(bytes: Vec<u8>, what: &'static str) -> Result<[u8; N], Fault> {
    bytes.try_into().map_err(|_| Fault::Malformed(what))
}

/// Whether the server refused a row because it would break the unique index or constraint `name`.
pub(super) fn violates(e: &tokio_postgres::Error, name: &str) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION) && e.as_db_error().and_then(|d| d.constraint()) == Some(name)
}

/// Whether the server aborted a transaction that may succeed if run again as it was.
pub(super) fn is_retryable(e: &tokio_postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// Whether the connection failed or the server is going away, rather than a query being wrong.
pub(super) fn is_connection_lost(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::CONNECTION_EXCEPTION,
            SqlState::CONNECTION_FAILURE,
            SqlState::TOO_MANY_CONNECTIONS,
        ]
        .contains(code),
        // No server error: the socket itself failed (refused, reset, timed out).
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// Whether the server says the database does not exist.
pub(super) fn is_missing_database(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::INVALID_CATALOG_NAME)
}

/// A failed query or connection as a store error.
pub(super) fn store_error(e: tokio_postgres::Error) -> StoreError {
    if is_connection_lost(&e) {
        tracing::warn!("PostgreSQL cannot be reached: {e}");
        return StoreError::Unavailable(Unavailable::Unreachable);
    }
    if e.code() == Some(&SqlState::QUERY_CANCELED) {
        // The statement timeout: it waited too long, most likely on a lock another
        // transaction holds. A retry shortly may find it released.
        tracing::warn!("a PostgreSQL statement was cancelled: {e}");
        return StoreError::Busy;
    }
    StoreError::Backend(Box::new(e))
}

/// A failure to get a connection from the pool as a store error: every connection busy past
/// the wait is [`StoreError::Busy`] (the server is fine, this instance is saturated); a new
/// connection that cannot be made is the server being unreachable.
pub(super) fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Timeout(TimeoutType::Wait) => StoreError::Busy,
        PoolError::Timeout(_) => {
            tracing::warn!("PostgreSQL cannot be reached: connecting timed out");
            StoreError::Unavailable(Unavailable::Unreachable)
        }
        PoolError::Backend(e) => store_error(e),
        PoolError::Closed => StoreError::Closed,
        other => StoreError::Backend(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_is_unreachable() {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let err = tokio_postgres::connect("postgres://u@127.0.0.1:1/db", tokio_postgres::NoTls).await.err().unwrap();
        assert!(is_connection_lost(&err), "{err}");
        assert!(matches!(store_error(err), StoreError::Unavailable(Unavailable::Unreachable)));
        assert!(matches!(pool_error(PoolError::Timeout(TimeoutType::Wait)), StoreError::Busy));
        assert!(matches!(pool_error(PoolError::Closed), StoreError::Closed));
    }
}
