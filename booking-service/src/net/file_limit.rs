//! The open-file limit: raised at start, and turned into a connection cap.
//!
//! Every connection is an open file, and so is every database connection and every static file
//! being sent. Services start with a soft limit of 1,024 on most systems, while the hard limit
//! (which an unprivileged process may raise its soft limit to) is often far higher. The service
//! raises the soft limit to the hard one, then keeps [`reserve`] files for everything that is
//! not a client connection, so it never meets `Too many open files` on `accept` or on the
//! database.

use std::io;

/// The open-file limit before and after [`raise`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimit {
    pub was: u64,
    pub now: u64,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit. If the system refuses (macOS refuses an
/// unlimited hard limit), the soft limit stays as it was and a warning says so; only a limit
/// that cannot even be read is an error.
pub fn raise() -> io::Result<FileLimit> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let was = limit.rlim_cur;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        } else {
            tracing::warn!(
                "cannot raise the open-file limit from {} to {}: {}",
                as_u64(limit.rlim_cur),
                as_u64(limit.rlim_max),
                io::Error::last_os_error()
            );
        }
    }
    Ok(FileLimit { was: as_u64(was), now: as_u64(limit.rlim_cur) })
}

fn as_u64(value: libc::rlim_t) -> u64 {
    // `rlim_t` is u64 on Linux; RLIM_INFINITY is its maximum.
    #[allow(clippy::useless_conversion)]
    u64::from(value)
}

/// Files kept for everything but client connections: the database (a writer and a pool of
/// readers, each with its WAL and shared-memory files), static files being sent, the runtime's
/// own descriptors and standard streams. An eighth of the limit, and at least 128.
pub fn reserve(limit: u64) -> u64 {
    (limit / 8).max(128)
}

/// The connection cap: what the operator asked for, but never more than the file limit minus
/// the [`reserve`]; and never less than 1, so a tiny limit still serves someone.
pub fn connection_cap(asked: usize, limit: u64) -> usize {
    let room = limit.saturating_sub(reserve(limit)).max(1);
    asked.min(usize::try_from(room).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_a_reserve_for_the_database_and_files() {
        assert_eq!(connection_cap(10_000, 1_024), 896);
        assert_eq!(connection_cap(10_000, 256), 128);
        assert_eq!(connection_cap(10_000, 100), 1, "always room for one");
        assert_eq!(connection_cap(10_000, 1 << 20), 10_000, "the operator's figure when the limit is high");
        assert_eq!(connection_cap(500, 1_024), 500);
    }

    #[test]
    fn raising_reaches_the_hard_limit() {
        let limit = raise().unwrap();
        let mut now = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut now) }, 0);
        assert_eq!(limit.now, as_u64(now.rlim_cur));
        assert_eq!(now.rlim_cur, now.rlim_max);
        assert!(limit.now >= limit.was);
    }
}
