//! The sender: one task per service instance that empties the outbox.
//!
//! It claims due messages in the database (a lease, [`cinema::store::Store::claim_mail`]), then
//! for each renders it from the bookings as they are now, delivers it, and records how that
//! went ([`cinema::store::Store::finish_mail`]): sent, or failed and due again after a backoff
//! ([`cinema::outbox::retry_delay`]; a message is never given up). It wakes when this instance
//! queues mail (the booking and cancel handlers poke [`crate::App::mail_wakeup`]) and otherwise
//! every [`POLL`], which is how it finds another instance's mail and messages due for a retry.
//!
//! A claim is never left half done by choice: a message is only started while its lease has
//! room for a whole send (the SMTP timeout), and on shutdown the message in hand is finished and
//! recorded; the rest of the batch is left to its lease, after which any sender takes it. A
//! process killed mid-send leaves its claims the same way, so its mail goes out after the lease
//! (`--mail-lease`), once: twice only if it died between the SMTP server's acceptance and the
//! database's record of it (the `Message-ID` is the same both times).
//!
//! The log says each failure with the outbox id and the reason (never a token or an address),
//! and the outbox's pending and failing counts at start and whenever a send fails.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cinema::booking::BookingRecord;
use cinema::outbox::{MailClaim, MailOutcome, MailResult, QueuedMail, SenderId, retry_delay};
use cinema::store::Store;
use lettre::message::Mailbox;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::MailSite;
use super::message::compose;
use super::render::render;
use super::transport::Transport;
use crate::clock::Clock;

/// How often the sender looks for due mail when nothing woke it.
pub const POLL: Duration = Duration::from_secs(1);
/// How many messages one claim takes.
pub const BATCH: usize = 16;
/// From this many failed attempts on, a failure is logged as an error, not a warning.
const LOUD_AFTER: u32 = 5;
/// While mail is pending, the counts are logged again at most this often.
const COUNTS_EVERY: Duration = Duration::from_secs(600);

/// What the sender needs besides the store.
pub struct SenderSettings {
    pub transport: Transport,
    pub site: MailSite,
    pub from: Mailbox,
    /// How long a claim holds; longer than the transport's timeout.
    pub lease: Duration,
    /// How long a send may take (the SMTP timeout): a message is started only if this much of
    /// its lease is left.
    pub send_timeout: Duration,
    /// The wait after a first failure (30 s by default); later waits grow as
    /// [`cinema::outbox::retry_delay`] does, in proportion.
    pub first_retry: Duration,
    pub clock: Clock,
}

/// A running sender.
pub struct Sender {
    task: JoinHandle<()>,
}

impl Sender {
    /// Starts the sender task for `store`, woken by `wakeup`, until `stop` is cancelled.
    pub fn spawn(
        store: Arc<dyn Store>,
        settings: SenderSettings,
        wakeup: Arc<Notify>,
        stop: CancellationToken,
    ) -> Sender {
        let id = sender_id();
        tracing::info!(sender = %id.0, transport = %settings.transport.describe(), "mail sender started");
        let worker = Worker {
            store,
            clock: SenderClock { clock: settings.clock, started: Instant::now() },
            settings,
            id,
            wakeup,
            stopped: stop,
            claim_error: None,
            counts_logged: None,
        };
        Sender { task: tokio::spawn(worker.run()) }
    }

    /// Waits for the sender to end once its `stop` is cancelled: it takes no more messages,
    /// and finishes (and records) the one in hand.
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!("the mail sender ended abnormally: {e}");
        }
    }
}

/// A name unique to this sender's life: host, process id, and a random part (a process id is
/// reused after a restart; the random part is not).
fn sender_id() -> SenderId {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into a buffer this function owns.
    let host = if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown-host".to_string()
    };
    SenderId(format!("{host}/{}/{:016x}", std::process::id(), rand::random::<u64>()))
}

/// "Now" for leases and retries. The service's clock may be fixed (`--now`, for tests and
/// demos), and a fixed clock would never let a lease run out or a retry fall due, so a fixed
/// clock moves on here from its moment as real time passes.
#[derive(Clone, Copy)]
struct SenderClock {
    clock: Clock,
    started: Instant,
}

impl SenderClock {
    fn now(&self) -> DateTime<Utc> {
        match self.clock {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => at + self.started.elapsed(),
        }
    }
}

struct Worker {
    store: Arc<dyn Store>,
    settings: SenderSettings,
    clock: SenderClock,
    id: SenderId,
    wakeup: Arc<Notify>,
    stopped: CancellationToken,
    /// The last claim error logged, so a store that keeps failing is logged once, not per poll.
    claim_error: Option<String>,
    /// When the counts were last logged while mail was pending.
    counts_logged: Option<Instant>,
}

impl Worker {
    async fn run(mut self) {
        self.log_counts(true).await;
        while !self.stopped.is_cancelled() {
            let full = self.batch().await;
            if full && !self.stopped.is_cancelled() {
                continue; // more may be due at once
            }
            tokio::select! {
                () = self.wakeup.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                () = self.stopped.cancelled() => {}
            }
        }
        tracing::info!("mail sender stopped");
    }

    /// Claims and sends one batch; answers whether the batch was full (more may be due).
    async fn batch(&mut self) -> bool {
        let now = self.clock.now();
        let lease_until = now + self.settings.lease;
        let claim = MailClaim { sender: self.id.clone(), now, lease_until, limit: BATCH };
        let batch = match self.store.claim_mail(claim).await {
            Ok(batch) => {
                if self.claim_error.take().is_some() {
                    tracing::info!("mail: claiming works again");
                }
                batch
            }
            Err(e) => {
                let text = e.to_string();
                if self.claim_error.as_deref() != Some(&text) {
                    tracing::error!(
                        "mail: cannot claim outbox messages: {text}; trying again every {} s",
                        POLL.as_secs()
                    );
                    self.claim_error = Some(text);
                }
                return false;
            }
        };
        let full = batch.len() == BATCH;
        let mut failed = false;
        for mail in batch {
            if self.stopped.is_cancelled() {
                break; // the rest of the claims run out and are taken again
            }
            if self.clock.now() + self.settings.send_timeout >= lease_until {
                tracing::debug!(mail = mail.id.0, "mail: left to its lease (not enough of it left for a send)");
                continue;
            }
            failed |= !self.send(&mail).await;
        }
        if failed {
            self.log_counts(true).await;
        } else {
            self.log_counts(false).await;
        }
        full
    }

    /// Renders, delivers and records one message; answers whether it was delivered.
    async fn send(&self, mail: &QueuedMail) -> bool {
        let delivered = self.deliver(mail).await;
        let at = self.clock.now();
        let attempt = mail.attempts + 1;
        let outcome = match &delivered {
            Ok(()) => {
                tracing::info!(mail = mail.id.0, kind = %mail.kind, attempt, "mail sent");
                MailOutcome::Sent { at }
            }
            Err(reason) => {
                let retry_at = at + retry_after(self.settings.first_retry, attempt);
                if attempt >= LOUD_AFTER {
                    tracing::error!(mail = mail.id.0, kind = %mail.kind, attempt, %retry_at, "mail still not delivered after {attempt} attempts: {reason}");
                } else {
                    tracing::warn!(mail = mail.id.0, kind = %mail.kind, attempt, %retry_at, "mail not delivered: {reason}");
                }
                MailOutcome::Failed { error: reason.clone(), retry_at }
            }
        };
        let result = MailResult { id: mail.id, sender: self.id.clone(), outcome };
        match self.store.finish_mail(result).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                mail = mail.id.0,
                "mail: the claim ran out before the send was recorded; another sender has the message and may send it again (raise --mail-lease above --smtp-timeout)"
            ),
            Err(e) => tracing::error!(
                mail = mail.id.0,
                "mail: cannot record the send ({e}); the message is sent again once its claim runs out"
            ),
        }
        delivered.is_ok()
    }

    /// Renders and delivers one message; the error says why not, for the log and the outbox.
    async fn deliver(&self, mail: &QueuedMail) -> Result<(), String> {
        let mut bookings: Vec<BookingRecord> = Vec::with_capacity(mail.bookings.len());
        for b in &mail.bookings {
            match self.store.booking_by_reference(b.reference.clone()).await {
                Ok(Some(record)) => bookings.push(record),
                Ok(None) => {}
                Err(e) => return Err(format!("cannot read booking {}: {e}", b.reference)),
            }
        }
        let rendered = render(mail, &bookings, &self.settings.site).map_err(|e| e.to_string())?;
        let date = self.clock.now().into();
        let message =
            compose(mail, rendered, &self.settings.from, &self.settings.site, date).map_err(|e| e.to_string())?;
        self.settings.transport.deliver(mail, &message).await.map_err(|e| e.to_string())
    }

    /// Logs the outbox's counts: when `now` is asked (at start, after a failure), or while mail
    /// is pending, every [`COUNTS_EVERY`].
    async fn log_counts(&mut self, now: bool) {
        if !now && self.counts_logged.is_some_and(|at| at.elapsed() < COUNTS_EVERY) {
            return;
        }
        match self.store.outbox_counts().await {
            Ok(c) if now || c.pending > 0 => {
                self.counts_logged = Some(Instant::now());
                tracing::info!(pending = c.pending, failing = c.failing, sent = c.sent, "mail outbox");
            }
            Ok(_) => self.counts_logged = Some(Instant::now()),
            Err(e) => tracing::debug!("mail: cannot count the outbox: {e}"),
        }
    }
}

/// The wait before the next try after `attempts` failed ones: [`retry_delay`], scaled so the
/// first wait is `first`.
pub fn retry_after(first: Duration, attempts: u32) -> Duration {
    retry_delay(attempts).mul_f64(first.as_secs_f64() / retry_delay(1).as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_keep_the_outbox_backoff_scaled_to_the_first_wait() {
        let first = Duration::from_secs(30);
        for n in [1, 2, 5, 9, 100] {
            assert_eq!(retry_after(first, n), retry_delay(n));
        }
        let fast = Duration::from_millis(100);
        assert_eq!(retry_after(fast, 1), fast);
        assert_eq!(retry_after(fast, 3), Duration::from_millis(400));
    }

    #[test]
    fn a_fixed_clock_moves_on_with_real_time() {
        let at = DateTime::parse_from_rfc3339("2030-01-10T00:00:00Z").unwrap().with_timezone(&Utc);
        let clock = SenderClock { clock: Clock::Fixed(at), started: Instant::now() - Duration::from_secs(5) };
        let now = clock.now();
        assert!(now >= at + Duration::from_secs(5) && now < at + Duration::from_secs(60), "{now}");
    }

    #[test]
    fn sender_ids_differ_within_one_process() {
        let (a, b) = (sender_id(), sender_id());
        assert_ne!(a, b);
        assert!(a.0.contains(&format!("/{}/", std::process::id())), "{}", a.0);
    }
}
