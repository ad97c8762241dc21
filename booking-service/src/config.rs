//! The command line: flags, environment variables and a `.env` file, in that order of
//! precedence (clap reads flags before `env`, and `dotenvy` never overrides a variable that is
//! already set). Every default works for local use out of the box.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cinema::store::DatabaseUrl;
use clap::Parser;

use crate::mail::transport::SmtpUrl;
use crate::net::client_address::{TrustedProxies, TrustedProxy};
use crate::net::{ConnectionSettings, file_limit};
use crate::operator::OperatorToken;
use crate::rate_limit::RecoveryLimits;

/// Seat maps and bookings over JSON for the Tiketa static site.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "tiketa-booking",
    version,
    // A flag given twice takes the last value, so scripts can append overrides.
    args_override_self = true,
    after_help = "Examples:\n  tiketa-booking\n  tiketa-booking --site dist --listen 127.0.0.1:8080\n  DATABASE_URL=/srv/tiketa/tiketa.db PORT=0.0.0.0:9000 tiketa-booking --cors-origin https://tiketa.example\n  SMTP_URL=smtp://127.0.0.1:25 MAIL_FROM='The Time Gallery <tickets@tiketa.example>' BASE_URL=https://tiketa.example tiketa-booking\n\nMail: without --smtp-url, every message (confirmation, cancellation notice, recovery links) is written as an .eml file into --outbox-dir, which any mail client opens."
)]
pub struct Config {
    /// The database that `tiketa-gen roll` writes showtimes into: a SQLite file path (or
    /// sqlite:PATH), or postgres://USER@HOST:PORT/DATABASE for several instances. It must
    /// exist: the service never creates it, and stops at start if it is missing.
    #[arg(long, env = "DATABASE_URL", default_value = "var/tiketa.db", value_parser = parse_database_url)]
    pub db: DatabaseUrl,

    /// Address to listen on: `host:port`, or a bare port for 127.0.0.1.
    #[arg(long, env = "PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// The content folder (site settings, auditorium, films).
    #[arg(long, env = "TIKETA_CONTENT", default_value = "content")]
    pub content: PathBuf,

    /// Origins allowed to call the API from a browser (repeat or comma-separate). Default: the
    /// site's `base_url` from the content settings, plus this server's own loopback origins
    /// when it also serves the site. `*` is allowed only when given explicitly.
    #[arg(long = "cors-origin", env = "TIKETA_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Also serve a built site (the generator's `dist/`) from this folder.
    #[arg(long, env = "TIKETA_SITE")]
    pub site: Option<PathBuf>,

    /// Booking POSTs allowed per client IP per minute; 0 turns the limit off.
    #[arg(long, env = "TIKETA_POST_LIMIT", default_value_t = 30)]
    pub post_limit: u32,

    /// How many POSTs a client may make at once before the per-minute rate applies.
    #[arg(long, env = "TIKETA_POST_BURST", default_value_t = 10)]
    pub post_burst: u32,

    /// Lost-link requests (`POST /api/bookings/recover`) allowed per client IP per hour; 0
    /// turns the limit off.
    #[arg(long, env = "TIKETA_RECOVER_LIMIT", default_value_t = RecoveryLimits::CLIENT_PER_HOUR)]
    pub recover_limit: u32,

    /// How many lost-link requests a client may make at once before the hourly rate applies.
    #[arg(long, env = "TIKETA_RECOVER_BURST", default_value_t = RecoveryLimits::CLIENT_BURST)]
    pub recover_burst: u32,

    /// Lost-link messages one email address may be sent per hour, whoever asks (any case of
    /// the address counts as one); 0 turns the limit off.
    #[arg(long, env = "TIKETA_RECOVER_ADDRESS_LIMIT", default_value_t = RecoveryLimits::ADDRESS_PER_HOUR)]
    pub recover_address_limit: u32,

    /// How many lost-link messages one address may be sent at once before the hourly rate.
    #[arg(long, env = "TIKETA_RECOVER_ADDRESS_BURST", default_value_t = RecoveryLimits::ADDRESS_BURST)]
    pub recover_address_burst: u32,

    /// Hold changes (a seat chosen or given back in the picker) allowed per client IP per
    /// minute; 0 turns the limit off.
    #[arg(long, env = "TIKETA_HOLD_LIMIT", default_value_t = 240)]
    pub hold_limit: u32,

    /// How many hold changes a client may make at once before the per-minute rate applies:
    /// enough for a visitor clicking through seats quickly.
    #[arg(long, env = "TIKETA_HOLD_BURST", default_value_t = 40)]
    pub hold_burst: u32,

    /// Reverse proxies or load balancers (IP addresses or CIDR networks; repeat or
    /// comma-separate) whose `X-Forwarded-For` names the client for the booking rate limit.
    /// The header is read from the right, skipping these proxies; from any other peer, or when
    /// it does not parse, it is ignored. Without this flag it is never read.
    #[arg(long = "trusted-proxy", env = "TIKETA_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<TrustedProxy>,

    /// The most connections open at once. Never more than the open-file limit (raised to its
    /// hard limit at start) leaves after a reserve for the database and files: an eighth of the
    /// limit, at least 128.
    #[arg(long, env = "TIKETA_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// The most connections one client (an IPv4 address or an IPv6 /64) may hold open; 0 turns
    /// the cap off. Behind a load balancer or reverse proxy every connection comes from the
    /// proxy: set 0 there and cap clients in the proxy.
    #[arg(long, env = "TIKETA_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64)]
    pub max_connections_per_client: usize,

    /// Seconds a request's head may take to arrive, counted from when the server starts waiting
    /// for it (slow clients that trickle headers are cut off); a request body gets as long again.
    #[arg(long, env = "TIKETA_HEADER_TIMEOUT", default_value = "15", value_parser = seconds)]
    pub header_timeout: Duration,

    /// Seconds a connection may sit with nothing moving while the server waits on the client
    /// (an idle keep-alive connection, a body that stopped, a reply not read).
    #[arg(long, env = "TIKETA_IDLE_TIMEOUT", default_value = "10", value_parser = seconds)]
    pub idle_timeout: Duration,

    /// Pretend it is this moment (RFC 3339) when deciding whether a showtime has started; for
    /// tests and demos.
    #[arg(long, env = "TIKETA_NOW")]
    pub now: Option<DateTime<Utc>>,

    /// The public address of the site, for the links in mail (the manage page), the booking's
    /// calendar file and the allowed CORS origin: it stands for site.toml's `base_url` in
    /// everything the service writes. Default: `base_url` from the content's site.toml.
    #[arg(long = "base-url", env = "BASE_URL", value_parser = cinema::site_url::check)]
    pub base_url: Option<String>,

    /// Send mail through this SMTP server: smtp://HOST:PORT, or smtp://USER:PASSWORD@HOST:PORT.
    /// Spoken without TLS (this build has none): a mail server on this host or a trusted
    /// network that relays onwards. Needs --mail-from. Without it, mail goes to --outbox-dir.
    #[arg(long = "smtp-url", env = "SMTP_URL")]
    pub smtp_url: Option<SmtpUrl>,

    /// Who mail is from: `tickets@tiketa.example` or `The Time Gallery
    /// <tickets@tiketa.example>`. Required with --smtp-url; for .eml files the default is the
    /// cinema's name at `tickets@` the site's host.
    #[arg(long = "mail-from", env = "MAIL_FROM", value_parser = parse_mailbox)]
    pub mail_from: Option<lettre::message::Mailbox>,

    /// Where mail is written as .eml files when no --smtp-url is given (created if missing).
    /// Default: `outbox/` beside a SQLite database (var/outbox for var/tiketa.db); with
    /// PostgreSQL, var/outbox in the working folder (give every instance its own, or a shared
    /// one: each message is written once, named by its outbox row).
    #[arg(long = "outbox-dir", env = "TIKETA_OUTBOX_DIR")]
    pub outbox_dir: Option<PathBuf>,

    /// Seconds a sender's claim on an outbox message lasts: a sender that dies mid-send leaves
    /// its messages to other senders (or to itself after a restart) after this long. More
    /// than --smtp-timeout.
    #[arg(long = "mail-lease", env = "TIKETA_MAIL_LEASE", default_value = "300", value_parser = seconds)]
    pub mail_lease: Duration,

    /// Seconds one delivery to the SMTP server may take before it counts as failed and is
    /// retried later.
    #[arg(long = "smtp-timeout", env = "TIKETA_SMTP_TIMEOUT", default_value = "30", value_parser = seconds)]
    pub smtp_timeout: Duration,

    /// Seconds before a failed message is tried again the first time; each later wait doubles,
    /// up to 120 times this (an hour by default). A message is never given up.
    #[arg(long = "mail-retry", env = "TIKETA_MAIL_RETRY", default_value = "30", value_parser = seconds)]
    pub mail_retry: Duration,

    /// The operator's token: the door page (`/door/`) and `GET /metrics` ask for it (as
    /// `Authorization: Bearer <token>`). At least 16 visible characters; without it those
    /// routes refuse every request. Keep it out of the command line where others can list
    /// processes: set it in the environment or `.env`.
    #[arg(long = "operator-token", env = "TIKETA_OPERATOR_TOKEN", hide_env_values = true, value_parser = parse_operator_token)]
    pub operator_token: Option<OperatorToken>,

    /// How the log (stderr) is written: `text`, one line per event, coloured only on a
    /// terminal; or `json`, one JSON object per line, for a log collector. Every request is one
    /// event (target `access`; `RUST_LOG=info,access=off` silences it); `RUST_LOG` chooses the
    /// levels (default `info`).
    #[arg(long = "log-format", env = "TIKETA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How the log is written (see `--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where mail goes, as the flags decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailRoute {
    Smtp(SmtpUrl),
    Files(PathBuf),
}

impl Config {
    /// The proxies whose `X-Forwarded-For` is believed.
    pub fn trusted_proxies(&self) -> TrustedProxies {
        TrustedProxies::new(self.trusted_proxies.iter().copied())
    }

    /// The connection bounds, given the open-file limit.
    pub fn connection_settings(&self, open_files: u64) -> ConnectionSettings {
        ConnectionSettings {
            max_connections: file_limit::connection_cap(self.max_connections, open_files),
            max_per_client: self.max_connections_per_client,
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
        }
    }

    /// Where mail goes: the SMTP server, or the outbox folder (see `--outbox-dir`). An error
    /// says which flag to fix.
    pub fn mail_route(&self) -> Result<MailRoute, String> {
        if let Some(url) = &self.smtp_url {
            if self.mail_from.is_none() {
                return Err(format!(
                    "--smtp-url {url} needs --mail-from (MAIL_FROM), the address mail is sent from, such as tickets@tiketa.example"
                ));
            }
            if self.smtp_timeout >= self.mail_lease {
                return Err(format!(
                    "--smtp-timeout ({} s) must be shorter than --mail-lease ({} s), or a slow send outlives its claim and another sender sends the message again",
                    self.smtp_timeout.as_secs_f64(),
                    self.mail_lease.as_secs_f64()
                ));
            }
            return Ok(MailRoute::Smtp(url.clone()));
        }
        let dir = match (&self.outbox_dir, &self.db) {
            (Some(dir), _) => dir.clone(),
            (None, DatabaseUrl::Sqlite(db)) => db.parent().unwrap_or(std::path::Path::new(".")).join("outbox"),
            (None, DatabaseUrl::Postgres(_)) => PathBuf::from("var/outbox"),
        };
        Ok(MailRoute::Files(dir))
    }

    /// The listen address; a bare port means loopback.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        let text = self.listen.trim();
        let full =
            if text.chars().all(|c| c.is_ascii_digit()) { format!("127.0.0.1:{text}") } else { text.to_string() };
        full.parse().map_err(|_| {
            format!("--listen {text:?} is not an address; expected host:port such as 127.0.0.1:8080, or a port")
        })
    }
}

fn parse_operator_token(text: &str) -> Result<OperatorToken, String> {
    OperatorToken::parse(text)
}

fn parse_database_url(text: &str) -> Result<DatabaseUrl, String> {
    text.parse().map_err(|e: cinema::store::database_url::UnknownDatabase| e.to_string())
}

fn parse_mailbox(text: &str) -> Result<lettre::message::Mailbox, String> {
    text.trim().parse().map_err(|e| {
        format!("{text:?} is not a mail address ({e}); expected tickets@tiketa.example or \"The Time Gallery <tickets@tiketa.example>\"")
    })
}

/// A positive number of seconds, fractions allowed (`0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds, such as 10 or 0.5"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_defaults_work() {
        let c = Config::try_parse_from(["tiketa-booking"]).unwrap();
        assert_eq!(c.listen_addr().unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(c.db, DatabaseUrl::Sqlite(PathBuf::from("var/tiketa.db")));
        let c = Config::try_parse_from([
            "tiketa-booking",
            "--db",
            "sqlite:///tmp/x.db",
            "--listen",
            "9000",
            "--cors-origin",
            "https://a.example,https://b.example",
            "--now",
            "2026-11-24T00:00:00+07:00",
        ])
        .unwrap();
        assert_eq!(c.db, DatabaseUrl::Sqlite(PathBuf::from("/tmp/x.db")));
        let e = Config::try_parse_from(["tiketa-booking", "--db", "mysql://u:pw@h/db"]).unwrap_err();
        assert!(e.to_string().contains("postgres://"), "{e}");
        assert_eq!(c.listen_addr().unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!(c.cors_origins, ["https://a.example", "https://b.example"]);
        assert!(c.now.is_some());
        assert_eq!((c.hold_limit, c.hold_burst), (240, 40));
        assert_eq!(c.header_timeout, Duration::from_secs(15));
        assert_eq!(c.connection_settings(1024).max_connections, 896);
        assert_eq!(c.trusted_proxies(), TrustedProxies::none());
        let c = Config::try_parse_from([
            "tiketa-booking",
            "--trusted-proxy",
            "10.0.0.0/8,::1",
            "--trusted-proxy",
            "192.0.2.7",
        ])
        .unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        let e = Config::try_parse_from(["tiketa-booking", "--trusted-proxy", "proxy.example"]).unwrap_err();
        assert!(e.to_string().contains("not an IP address or network"), "{e}");
        let c = Config::try_parse_from(["tiketa-booking", "--idle-timeout", "0.5"]).unwrap();
        assert_eq!(c.idle_timeout, Duration::from_millis(500));
        let e = Config::try_parse_from(["tiketa-booking", "--idle-timeout", "0"]).unwrap_err();
        assert!(e.to_string().contains("positive number of seconds"), "{e}");
        let bad = Config::try_parse_from(["tiketa-booking", "--listen", "nope"]).unwrap();
        assert!(bad.listen_addr().unwrap_err().contains("host:port"));
        assert_eq!(Config::try_parse_from(["tiketa-booking"]).unwrap().log_format, LogFormat::Text);
        let c = Config::try_parse_from(["tiketa-booking", "--log-format", "json"]).unwrap();
        assert_eq!(c.log_format, LogFormat::Json);
        let e = Config::try_parse_from(["tiketa-booking", "--log-format", "xml"]).unwrap_err();
        assert!(e.to_string().contains("text") && e.to_string().contains("json"), "{e}");
    }

    #[test]
    fn mail_goes_to_smtp_or_beside_the_database() {
        let c = Config::try_parse_from(["tiketa-booking"]).unwrap();
        assert_eq!(c.mail_route(), Ok(MailRoute::Files(PathBuf::from("var/outbox"))));
        assert_eq!(
            (c.mail_lease, c.smtp_timeout, c.mail_retry, c.base_url),
            (Duration::from_secs(300), Duration::from_secs(30), Duration::from_secs(30), None)
        );
        let c = Config::try_parse_from(["tiketa-booking", "--db", "/srv/t/t.db"]).unwrap();
        assert_eq!(c.mail_route(), Ok(MailRoute::Files(PathBuf::from("/srv/t/outbox"))));
        let c = Config::try_parse_from(["tiketa-booking", "--db", "postgres://u@h/db"]).unwrap();
        assert_eq!(c.mail_route(), Ok(MailRoute::Files(PathBuf::from("var/outbox"))));
        let c = Config::try_parse_from(["tiketa-booking", "--outbox-dir", "/tmp/mail"]).unwrap();
        assert_eq!(c.mail_route(), Ok(MailRoute::Files(PathBuf::from("/tmp/mail"))));
        let c = Config::try_parse_from(["tiketa-booking", "--smtp-url", "smtp://127.0.0.1:2525"]).unwrap();
        assert!(c.mail_route().unwrap_err().contains("--mail-from"));
        let c = Config::try_parse_from([
            "tiketa-booking",
            "--smtp-url",
            "smtp://127.0.0.1:2525",
            "--mail-from",
            "The Time Gallery <tickets@tiketa.example>",
            "--base-url",
            "https://tiketa.example/",
        ])
        .unwrap();
        assert!(matches!(c.mail_route(), Ok(MailRoute::Smtp(u)) if u.port == 2525));
        assert_eq!(c.base_url.as_deref(), Some("https://tiketa.example"));
        let c = Config::try_parse_from([
            "tiketa-booking",
            "--smtp-url",
            "smtp://127.0.0.1:2525",
            "--mail-from",
            "tickets@tiketa.example",
            "--mail-lease",
            "10",
            "--smtp-timeout",
            "10",
        ])
        .unwrap();
        assert!(c.mail_route().unwrap_err().contains("shorter than --mail-lease"));
        for (flag, value, why) in [
            ("--mail-from", "not an address", "not a mail address"),
            ("--smtp-url", "smtps://mail.example", "TLS"),
            ("--base-url", "tiketa.example", "http"),
        ] {
            let e = Config::try_parse_from(["tiketa-booking", flag, value]).unwrap_err();
            assert!(e.to_string().contains(why), "{flag}: {e}");
        }
    }
}
