//! The mail outbox: messages to send, kept in the store beside the bookings they are about.
//!
//! A confirmation is written in the same transaction as its booking (and a cancellation notice
//! in the same transaction as its cancellation), so a crash can neither send mail about a
//! booking that does not exist nor lose the mail of one that does. A sender (in the booking
//! service) claims due messages, renders and delivers them, and records how that went; a claim
//! is a lease in the database, so several instances on one PostgreSQL (or several processes on
//! one SQLite file) never deliver the same message twice while a lease holds, and a sender that
//! dies mid-send leaves its claims to expire and be taken again.
//!
//! What is kept is the facts a message is made from (its kind, its recipient, the bookings it
//! is about), not the rendered text: the sender renders from the bookings as they are when it
//! sends. A confirmation and a recovery message carry manage tokens, which the store otherwise
//! never keeps; they are wiped from the row once the message is sent (see
//! [`MailBooking::without_tokens`]), so a copy of the database holds only the tokens of mail not
//! yet delivered.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::{BookingRecord, BookingReference, ManageToken};

/// What a message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A booking was made: the ticket, the manage link.
    Confirmation,
    /// A booking was cancelled.
    Cancellation,
    /// The manage links of an address's bookings, sent again on request.
    Recovery,
}

impl MailKind {
    /// How the kind is written in the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            MailKind::Confirmation => "confirmation",
            MailKind::Cancellation => "cancellation",
            MailKind::Recovery => "recovery",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [MailKind::Confirmation, MailKind::Cancellation, MailKind::Recovery].into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A booking a message is about, with the manage token its link carries (a confirmation and a
/// recovery message), or none (a cancellation, and any message once sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailBooking {
    pub reference: BookingReference,
    pub token: Option<ManageToken>,
}

/// How [`MailBooking`]s are kept in the store's `payload` column: JSON, so a store needs no
/// column per field and a later kind can carry more without a migration.
#[derive(Serialize, Deserialize)]
struct Payload {
    bookings: Vec<PayloadBooking>,
}

#[derive(Serialize, Deserialize)]
struct PayloadBooking {
    reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl MailBooking {
    /// The store's `payload` text for these bookings.
    pub fn to_payload(bookings: &[MailBooking]) -> String {
        let payload = Payload {
            bookings: bookings
                .iter()
                .map(|b| PayloadBooking {
                    reference: b.reference.as_str().to_string(),
                    token: b.token.as_ref().map(|t| t.as_str().to_string()),
                })
                .collect(),
        };
        serde_json::to_string(&payload).expect("a payload serialises")
    }

    /// Reads a `payload` back; an error names what is malformed.
    pub fn from_payload(text: &str) -> Result<Vec<MailBooking>, String> {
        let payload: Payload = serde_json::from_str(text).map_err(|e| format!("malformed mail payload: {e}"))?;
        payload
            .bookings
            .into_iter()
            .map(|b| {
                let reference = BookingReference::parse(&b.reference)
                    .ok_or_else(|| format!("malformed reference {:?} in a mail payload", b.reference))?;
                let token = match b.token {
                    Some(t) => Some(ManageToken::parse(&t).ok_or("malformed manage token in a mail payload")?),
                    None => None,
                };
                Ok(MailBooking { reference, token })
            })
            .collect()
    }

    /// The same bookings with their tokens dropped: what a row keeps once its message is sent.
    pub fn without_tokens(bookings: &[MailBooking]) -> Vec<MailBooking> {
        bookings.iter().map(|b| MailBooking { reference: b.reference.clone(), token: None }).collect()
    }
}

/// A message to queue, in the transaction of the change it tells of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub kind: MailKind,
    pub recipient: String,
    pub bookings: Vec<MailBooking>,
    /// When it was queued; it is due at once.
    pub now: DateTime<Utc>,
}

impl NewMail {
    /// The confirmation of a booking just made, if the booker gave an email.
    pub fn confirmation(
        email: Option<&str>,
        reference: &BookingReference,
        token: &ManageToken,
        now: DateTime<Utc>,
    ) -> Option<NewMail> {
        email.map(|recipient| NewMail {
            kind: MailKind::Confirmation,
            recipient: recipient.to_string(),
            bookings: vec![MailBooking { reference: reference.clone(), token: Some(token.clone()) }],
            now,
        })
    }

    /// The notice of a booking cancelled now, if its booker gave an email. A store queues it in
    /// the cancellation's transaction when [`crate::booking::decide::cancel`] decides `Cancel`
    /// (never for a booking cancelled before).
    pub fn cancellation(cancelled: &BookingRecord, now: DateTime<Utc>) -> Option<NewMail> {
        cancelled.email.as_deref().map(|recipient| NewMail {
            kind: MailKind::Cancellation,
            recipient: recipient.to_string(),
            bookings: vec![MailBooking { reference: cancelled.reference.clone(), token: None }],
            now,
        })
    }
}

/// A message's id in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailId(pub i64);

/// Which sender holds a claim: a name unique to one sender's life (host, process id and a
/// random part), so a sender never completes another's claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SenderId(pub String);

/// A message claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: MailId,
    pub kind: MailKind,
    pub recipient: String,
    pub bookings: Vec<MailBooking>,
    /// How many earlier sends failed.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// Claims up to `limit` due messages (not sent, due by `now`, no claim running at `now`) for
/// `sender` until `lease_until`, oldest first.
#[derive(Debug, Clone)]
pub struct MailClaim {
    pub sender: SenderId,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    pub limit: usize,
}

/// How a claimed message's send went. A store applies it only while `sender` still holds the
/// claim; otherwise it changes nothing (the lease ran out and another sender took the message).
#[derive(Debug, Clone)]
pub struct MailResult {
    pub id: MailId,
    pub sender: SenderId,
    pub outcome: MailOutcome,
}

#[derive(Debug, Clone)]
pub enum MailOutcome {
    /// Delivered (handed to the SMTP server, or written to the outbox folder): marked sent, its
    /// tokens wiped, never claimed again.
    Sent { at: DateTime<Utc> },
    /// Not delivered: `attempts` goes up by one, `error` is kept for the operator, the claim is
    /// dropped and the message is due again at `retry_at`.
    Failed { error: String, retry_at: DateTime<Utc> },
}

/// The longest failure reason a store keeps for the operator: an SMTP server's words, not its
/// essays.
pub const MAX_ERROR_CHARS: usize = 500;

/// How long a row this build cannot read (a malformed payload, an unknown kind) waits before
/// a store looks at it again: it cannot be sent as it is, and must not block the rows behind
/// it. The operator sees it in `last_error` and in the failing count.
pub const UNREADABLE_RETRY: chrono::Duration = chrono::Duration::hours(1);

/// How long after its `attempts`-th failed send a message is tried again: 30 s, doubling, at
/// most an hour. A message is never given up: an SMTP server that is down all night gets its
/// mail in the morning. The operator sees each failure in the log.
pub fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    Duration::from_secs(30u64.saturating_mul(1 << doublings)).min(Duration::from_secs(3600))
}

/// A request to send an address the manage links of its live bookings again (see
/// [`crate::store::Store::recover`]).
#[derive(Debug, Clone)]
pub struct Recovery {
    /// Checked with [`crate::booking::check_email`].
    pub email: String,
    pub now: DateTime<Utc>,
}

/// Outbox rows as an operator would see them, for the health reply and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Not sent yet (due, waiting for a retry, or claimed).
    pub pending: u64,
    /// Of the pending, those that failed at least once.
    pub failing: u64,
    pub sent: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_reads_back_and_loses_only_its_tokens_once_sent() {
        let mut rng = rand::rng();
        let bookings = vec![
            MailBooking {
                reference: BookingReference::generate(&mut rng),
                token: Some(ManageToken::generate(&mut rng)),
            },
            MailBooking { reference: BookingReference::generate(&mut rng), token: None },
        ];
        let text = MailBooking::to_payload(&bookings);
        assert_eq!(MailBooking::from_payload(&text).unwrap(), bookings);
        let sent = MailBooking::to_payload(&MailBooking::without_tokens(&bookings));
        assert!(!sent.contains(bookings[0].token.as_ref().unwrap().as_str()), "{sent}");
        assert!(sent.contains(bookings[0].reference.as_str()));
        assert!(MailBooking::from_payload("{\"bookings\":[{\"reference\":\"nope\"}]}").is_err());
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::from_secs(30));
        assert_eq!(retry_delay(2), Duration::from_secs(60));
        assert_eq!(retry_delay(5), Duration::from_secs(480));
        assert_eq!(retry_delay(8), Duration::from_secs(3600));
        assert_eq!(retry_delay(u32::MAX), Duration::from_secs(3600));
    }

    #[test]
    fn kinds_read_back() {
        for kind in [MailKind::Confirmation, MailKind::Cancellation, MailKind::Recovery] {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(MailKind::parse("spam"), None);
    }
}
