//! Where messages go: an SMTP server (`SMTP_URL`), or `.eml` files in a folder.
//!
//! SMTP is spoken in the clear: this build carries no TLS library, so `SMTP_URL` names a relay
//! that is reached over a trusted network, typically a mail server on the same host or the
//! provider's relay through a local one (`smtp://127.0.0.1:25`). `smtps://` and `?tls=` are
//! refused at start, saying so, rather than sending a password in the clear by surprise.
//!
//! Without `SMTP_URL`, each message is written as an `.eml` file (the format every mail client
//! opens) into the outbox folder: written to a hidden temp file, flushed to disk, then renamed
//! into place, so whoever watches the folder only ever sees whole messages, and the file is on
//! disk before the outbox row is marked sent. A file is named after its outbox row, so a
//! message written twice (a sender that died before recording the first write) is one file.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use cinema::outbox::QueuedMail;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;

/// The port `smtp://host` means without one.
const SMTP_PORT: u16 = 25;

/// `smtp://[user[:password]@]host[:port]`, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({self})")
    }
}

/// Without the password.
impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        match &self.credentials {
            Some((user, _)) => write!(f, "smtp://{user}:***@{host}:{}", self.port),
            None => write!(f, "smtp://{host}:{}", self.port),
        }
    }
}

impl FromStr for SmtpUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let example = "expected smtp://HOST:PORT or smtp://USER:PASSWORD@HOST:PORT, such as smtp://127.0.0.1:2525";
        let lower = text.trim().to_ascii_lowercase();
        if lower.starts_with("smtps://") || lower.contains("tls=") {
            return Err(format!(
                "{} asks for TLS, which this build of tiketa-booking does not carry; relay through a mail server on this host or a trusted network ({example})",
                redact(text)
            ));
        }
        let rest = text
            .trim()
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("smtp://"))
            .map(|_| &text.trim()[7..])
            .ok_or_else(|| format!("{} is not an smtp:// URL; {example}", redact(text)))?;
        let rest = rest.trim_end_matches('/');
        if rest.contains(['/', '?', '#']) {
            return Err(format!("{} has a path or a query; {example}", redact(text)));
        }
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let credentials = match userinfo {
            None => None,
            Some(info) => {
                let (user, password) = info.split_once(':').unwrap_or((info, ""));
                let decode = |s: &str| {
                    percent_decode_str(s)
                        .decode_utf8()
                        .map(|c| c.into_owned())
                        .map_err(|_| format!("{}: the user or password is not UTF-8 once decoded", redact(text)))
                };
                Some((decode(user)?, decode(password)?))
            }
        };
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => {
                let (host, after) =
                    v6.split_once(']').ok_or_else(|| format!("{}: an unclosed `[`; {example}", redact(text)))?;
                (host, after.strip_prefix(':'))
            }
            None => match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            },
        };
        if host.is_empty() || host.contains(['@', ' ']) {
            return Err(format!("{} names no host; {example}", redact(text)));
        }
        let port = match port {
            None => SMTP_PORT,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("{}: {p:?} is not a port from 1 to 65535; {example}", redact(text)))?,
        };
        Ok(SmtpUrl { host: host.to_string(), port, credentials })
    }
}

/// A URL as it may be shown: its password replaced.
fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(s), Some(at)) if at > s => match text[s + 3..at].find(':') {
            Some(colon) => format!("{}:***{}", &text[..s + 3 + colon], &text[at..]),
            None => text.to_string(),
        },
        _ => text.to_string(),
    }
}

/// How messages leave.
pub enum Transport {
    Smtp { url: SmtpUrl, mailer: Box<AsyncSmtpTransport<Tokio1Executor>>, timeout: Duration },
    Files { dir: PathBuf },
}

/// A delivery that failed; the message is tried again later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError(pub String);

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Transport {
    /// An SMTP transport; every send (connect, greet, deliver) gives up after `timeout`.
    pub fn smtp(url: SmtpUrl, timeout: Duration) -> Self {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.clone())
            .port(url.port)
            .timeout(Some(timeout));
        if let Some((user, password)) = &url.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Transport::Smtp { mailer: Box::new(builder.build()), url, timeout }
    }

    /// `.eml` files in `dir`, created (with its parents) if missing.
    pub fn files(dir: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Transport::Files { dir })
    }

    /// For the log: the SMTP server (without a password) or the folder.
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp { url, .. } => format!("SMTP {url}"),
            Transport::Files { dir } => format!(".eml files in {}", dir.display()),
        }
    }

    /// Delivers `message` (the rendering of `mail`): handed to the SMTP server, or on disk.
    pub async fn deliver(&self, mail: &QueuedMail, message: &Message) -> Result<(), DeliveryError> {
        match self {
            Transport::Smtp { mailer, url, timeout } => {
                // lettre bounds each read and write; this bounds the whole conversation, so a
                // server that answers a byte at a time cannot hold the claim past its lease.
                match tokio::time::timeout(*timeout, mailer.send(message.clone())).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(DeliveryError(format!("SMTP {url}: {e}"))),
                    Err(_) => Err(DeliveryError(format!("SMTP {url}: no answer within {} s", timeout.as_secs_f64()))),
                }
            }
            Transport::Files { dir } => {
                let (dir, name, bytes) = (dir.clone(), file_name(mail), message.formatted());
                tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
                    .await
                    .map_err(|e| DeliveryError(format!("writing the .eml file: {e}")))?
                    .map_err(|e| DeliveryError(format!("writing the .eml file into {}: {e}", self.describe())))
            }
        }
    }
}

/// `20300110-000000-42-confirmation.eml`: when it was queued (UTC), the outbox id, the kind.
pub fn file_name(mail: &QueuedMail) -> String {
    format!("{}-{}-{}.eml", mail.created_at.format("%Y%m%d-%H%M%S"), mail.id.0, mail.kind)
}

/// Writes `bytes` as `dir/name`: a temp file, flushed, renamed into place, the folder flushed.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let temp = dir.join(format!(".{name}.{}.{:08x}.tmp", std::process::id(), rand::random::<u32>()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, dir.join(name))?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_parse_and_refuse_what_cannot_work() {
        let u: SmtpUrl = "smtp://127.0.0.1:2525".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port, u.credentials), ("127.0.0.1", 2525, None));
        let u: SmtpUrl = "SMTP://mail.example".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("mail.example", 25));
        let u: SmtpUrl = "smtp://me%40x:p%3Ass@[::1]:587/".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 587));
        assert_eq!(u.credentials, Some(("me@x".into(), "p:ss".into())));
        assert_eq!(u.to_string(), "smtp://me@x:***@[::1]:587");
        assert!(!format!("{u:?}").contains("p:ss"));
        for (bad, why) in [
            ("smtps://u:secret@mail.example", "TLS"),
            ("smtp://mail.example:587?tls=required", "TLS"),
            ("http://mail.example", "not an smtp:// URL"),
            ("smtp://mail.example:0", "port"),
            ("smtp://mail.example:x", "port"),
            ("smtp://", "no host"),
            ("smtp://mail.example/x", "path"),
        ] {
            let e = bad.parse::<SmtpUrl>().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }

    #[test]
    fn a_file_is_written_whole_and_once() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), "a.eml", b"one").unwrap();
        write_atomically(dir.path(), "a.eml", b"two").unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["a.eml"]);
        assert_eq!(std::fs::read(dir.path().join("a.eml")).unwrap(), b"two");
    }
}
