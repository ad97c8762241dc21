//! Whether a store can take bookings now, and if not, why.
//!
//! "The database answers a query" is not enough: during a full disk every booking failed while
//! reads went on working. A store is available when its last write reached the disk (or
//! nothing has failed since), the file it writes is still the one at its path, and the disk
//! has room for the next commit. The reasons are said without paths or internals so a health
//! endpoint can show them to anyone; the store logs the details for the operator.

/// Why a store cannot take bookings now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("the database file was deleted or replaced while the service ran; restore it and restart the service")]
    DatabaseReplaced,
    #[error("the last write did not reach the database ({0}); retrying by itself")]
    WriteFailed(String),
    #[error("the disk holding the database is full ({free_kib} KiB free)")]
    DiskFull { free_kib: u64 },
    #[error("the booking writer has stopped")]
    WriterStopped,
    #[error("the database does not answer queries")]
    Unreadable,
    /// The database server cannot be reached (refused, timed out, or it closed the connection:
    /// stopped, restarting, or the network is down).
    #[error("the database server cannot be reached; check that PostgreSQL is running and reachable from this machine")]
    Unreachable,
}
