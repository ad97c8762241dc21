//! `DATABASE_URL`: which store, and where.
//!
//! One setting for every binary. A plain path or a `sqlite:` URL names a SQLite file (the
//! default, `var/tiketa.db`); a `postgres://` or `postgresql://` URL names a PostgreSQL
//! database, with the connection options libpq and `psql` take. It is shown in logs and
//! errors with any password replaced by `***`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The database a store lives in.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    /// The URL as given (a password in it is a secret: never printed).
    Postgres(String),
}

/// A `DATABASE_URL` that names no store Tiketa knows.
#[derive(Debug, thiserror::Error)]
#[error(
    "DATABASE_URL {0:?} is not a database Tiketa knows: give a file path or sqlite:PATH for SQLite, or postgres://USER@HOST:PORT/DATABASE for PostgreSQL"
)]
pub struct UnknownDatabase(String);

impl FromStr for DatabaseUrl {
    type Err = UnknownDatabase;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UnknownDatabase(text.to_string()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_string()));
        }
        if let Some(rest) = text.strip_prefix("sqlite:") {
            // sqlite:///abs/path, sqlite://rel/path and sqlite:rel/path all name a file.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(UnknownDatabase(text.to_string()));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        // Another scheme (mysql://, http://) is a mistake, not a file name.
        if let Some((scheme, _)) = text.split_once("://")
            && !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(UnknownDatabase(redact(text)));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(text)))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The URL with the password of its user-info (`user:password@`) replaced by `***`, and any
/// `password=` query parameter likewise.
fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            let (start, end) = (scheme_end + 3 + colon + 1, scheme_end + 3 + at);
            out.replace_range(start..end, "***");
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query = query
            .split('&')
            .map(
                |p| if p.to_ascii_lowercase().starts_with("password=") { "password=***".to_string() } else { p.into() },
            )
            .collect::<Vec<_>>()
            .join("&");
        out = format!("{head}{query}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sqlite_urls_and_postgres_urls() {
        let sqlite = |p: &str| DatabaseUrl::Sqlite(PathBuf::from(p));
        assert_eq!("var/tiketa.db".parse::<DatabaseUrl>().unwrap(), sqlite("var/tiketa.db"));
        assert_eq!("/srv/t.db".parse::<DatabaseUrl>().unwrap(), sqlite("/srv/t.db"));
        assert_eq!("sqlite:var/t.db".parse::<DatabaseUrl>().unwrap(), sqlite("var/t.db"));
        assert_eq!("sqlite:///srv/t.db".parse::<DatabaseUrl>().unwrap(), sqlite("/srv/t.db"));
        assert!(matches!("postgres://u@h/db".parse::<DatabaseUrl>().unwrap(), DatabaseUrl::Postgres(_)));
        assert!(matches!("postgresql://h/db".parse::<DatabaseUrl>().unwrap(), DatabaseUrl::Postgres(_)));
        for bad in ["", "  ", "sqlite:", "mysql://u:secret@h/db"] {
            let err = bad.parse::<DatabaseUrl>().unwrap_err().to_string();
            assert!(err.contains("file path or sqlite:PATH"), "{bad:?}: {err}");
            assert!(!err.contains("secret"), "the password is not echoed: {err}");
        }
    }

    #[test]
    fn passwords_never_show() {
        let url: DatabaseUrl =
            "postgres://tiketa:s3cret@db.example:5432/tiketa?password=other&sslmode=require".parse().unwrap();
        let shown = url.to_string();
        assert_eq!(shown, "postgres://tiketa:***@db.example:5432/tiketa?password=***&sslmode=require");
        assert!(!format!("{url:?}").contains("s3cret"));
        let plain: DatabaseUrl = "postgres://tiketa@127.0.0.1:5432/tiketa".parse().unwrap();
        assert_eq!(plain.to_string(), "postgres://tiketa@127.0.0.1:5432/tiketa");
    }
}
