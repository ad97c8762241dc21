//! Mail: the confirmation, the cancellation notice and the recovery message, delivered from the
//! store's outbox.
//!
//! The store queues a message in the transaction of the change it tells of (see
//! [`cinema::outbox`]); here a [`sender`] task per service instance claims due messages, has
//! [`render`] write them from the bookings as they are now (plain text and HTML, every value
//! escaped), [`message`] wrap them in MIME with lettre, and [`transport`] deliver them: over
//! SMTP, or as `.eml` files in a folder when no SMTP server is configured, so `make run` makes
//! real messages with no mail server. A claim is a lease in the database, so several instances
//! never send one message twice while it holds, and a sender that dies leaves its claims to
//! expire and be taken again: delivery is at least once, and exactly once unless a sender dies
//! between the SMTP server's acceptance and the database's record of it (the `Message-ID` is
//! stable per outbox row, so a mail client folds such a repeat into one message).

pub mod message;
pub mod render;
pub mod sender;
pub mod transport;
mod when;

use std::sync::Arc;

use cinema::Catalog;
use cinema::site_url;

/// Where a message's links point and what it says of the cinema.
#[derive(Debug, Clone)]
pub struct MailSite {
    /// Shared with the app: a catalog of 10,000 films is megabytes, and was held twice.
    pub catalog: Arc<Catalog>,
    /// The public site (`https://tiketa.example`, no trailing slash): the manage page's links.
    pub base_url: String,
}

impl MailSite {
    pub fn new(catalog: impl Into<Arc<Catalog>>, base_url: &str) -> Self {
        MailSite { catalog: catalog.into(), base_url: base_url.trim_end_matches('/').to_string() }
    }

    /// The host the site is served under, for `Message-ID`s and the default sender.
    pub fn host(&self) -> &str {
        let origin = site_url::origin(&self.base_url);
        let authority = origin.split("://").nth(1).unwrap_or(origin);
        match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        }
    }
}
