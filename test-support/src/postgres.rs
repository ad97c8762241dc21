//! A fresh PostgreSQL database per test, on the server `TIKETA_TEST_DATABASE_URL` names.
//!
//! Each call creates a new, empty database (`tiketa_test_<pid>_<n>`) so tests run in parallel
//! without seeing each other's showtimes, and drops it when the [`TestDatabase`] is dropped.
//! Without the variable the PostgreSQL tests are skipped, except under CI (`CI` set), where
//! they are required and a missing server fails the test with what to do.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable that names the test server (any database on it; the user must be allowed to
/// create databases).
pub const VARIABLE: &str = "TIKETA_TEST_DATABASE_URL";

/// A database made for one test; dropped with it.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// A `postgres://` URL for the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A new empty database, or `None` (after saying so on stderr) when no test server is set and
/// this is not CI.
pub fn fresh_database() -> Option<TestDatabase> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let admin_url = match std::env::var(VARIABLE) {
        Ok(url) if !url.trim().is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!("{VARIABLE} is not set, and CI requires the PostgreSQL tests: .ci/run starts a server and sets it")
        }
        _ => {
            eprintln!("skipped: a PostgreSQL test (set {VARIABLE}=postgres://USER@HOST:PORT/DB to run it)");
            return None;
        }
    };
    let name = format!("tiketa_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to {VARIABLE} ({}): {e}", redact(&admin_url)));
    // Two statements, two calls: a multi-statement string runs as one implicit transaction,
    // which DROP DATABASE and CREATE DATABASE refuse.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).expect("drop a leftover test database");
    admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
    let url = with_database(&admin_url, &name);
    Some(TestDatabase { admin_url, name, url })
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // WITH (FORCE) ends the connections a test's processes may have left open.
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// `url` with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..].find('/').map(|i| scheme_end + i).unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}***{}", &url[..s + 3 + c + 1], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_is_swapped_keeping_host_and_options() {
        assert_eq!(
            super::with_database("postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "t1"),
            "postgres://u@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://u@h:1", "t1"), "postgres://u@h:1/t1");
    }
}
