//! A real SMTP server on loopback for the mail tests: `smtp_sink.py` beside this crate, on
//! Python's `aiosmtpd` (from PyPI; `.ci/run` installs it).
//!
//! Without `aiosmtpd` the SMTP tests are skipped with a loud note, except under CI (`CI` set),
//! where they are required and a missing module fails the test with what to do, as the
//! PostgreSQL tests are.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How the server treats the messages it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Saves every message, after refusing the first `refuse_first` with `451`.
    Accept { refuse_first: usize },
    /// Accepts connections and never says a word: a sender waits until its timeout.
    Stall,
}

/// A running sink; stopped (killed) when dropped.
pub struct SmtpSink {
    child: Child,
    pub addr: SocketAddr,
    /// Where accepted messages are saved (`0001.eml`, ...).
    pub dir: PathBuf,
    /// The server's event lines (`connected`, `refused`, `received 0001`).
    events: Receiver<String>,
}

/// Whether the sink can run here; `false` (after saying so on stderr) when `aiosmtpd` is
/// missing and this is not CI; panics under CI.
pub fn available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return true;
    }
    let what = "python3 with the aiosmtpd module (install it: python3 -m pip install aiosmtpd)";
    if std::env::var_os("CI").is_some() {
        panic!("the SMTP tests need {what}, and CI requires them: .ci/run installs it");
    }
    eprintln!("skipped: an SMTP test needs {what}");
    false
}

impl SmtpSink {
    /// Starts a sink on a free loopback port saving into `dir` (created if missing), or `None`
    /// when [`available`] says it cannot run here.
    pub fn start(dir: &Path, behaviour: Behaviour) -> Option<SmtpSink> {
        if !available() {
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp_sink.py");
        let mut command = Command::new("python3");
        command.arg(&script).arg("--dir").arg(dir);
        match behaviour {
            Behaviour::Accept { refuse_first } => command.args(["--fail-first", &refuse_first.to_string()]),
            Behaviour::Stall => command.arg("--stall"),
        };
        // Its standard input is its lifeline: it exits when the pipe closes.
        let mut child =
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap_or_else(|e| {
                panic!("cannot start {}: {e}", script.display());
            });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let addr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start; it said {first:?}"));
        let (send, events) = channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Some(SmtpSink { child, addr, dir: dir.to_path_buf(), events })
    }

    /// `smtp://127.0.0.1:PORT`, for `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Waits for the next event line that starts with `prefix` (`connected`, `refused`,
    /// `received`), skipping others; panics after `patience`.
    pub fn wait_event(&self, prefix: &str, patience: Duration) -> String {
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => panic!("waited {patience:?} for the SMTP sink to say {prefix:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("the SMTP sink ended before saying {prefix:?}"),
            }
        }
    }

    /// The messages saved so far, in the order received.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        eml_files(&self.dir).iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// The envelope of the `n`th message (1-based): the sender, then the recipients.
    pub fn envelope(&self, n: usize) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join(format!("{n:04}.envelope"))).unwrap();
        text.lines().map(str::to_string).collect()
    }
}

/// The `.eml` files in `dir`, sorted by name.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    files.sort();
    files
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
