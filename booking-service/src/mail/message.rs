//! A rendered message wrapped in MIME, with its headers: what a transport delivers.
//!
//! The body is `multipart/alternative` (the text first, the HTML last, as clients prefer the
//! last they can show); the HTML comes inside `multipart/related` with the images it shows by
//! `cid:` (the ticket's QR code). lettre writes every header: a name with quotes, angle
//! brackets or non-ASCII letters is quoted or RFC 2047-encoded, never spliced in raw, and a name
//! with a line break never gets this far (the booking rules refuse it).
//!
//! The `Message-ID` is derived from the outbox row (`<tiketa.confirmation.42.1700000000000@host>`),
//! so a message sent twice (a sender that died between the SMTP server's acceptance and the
//! database's record of it) carries the same id, and mail clients show it once.

use std::fmt;
use std::time::SystemTime;

use cinema::outbox::QueuedMail;
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::MailSite;
use super::render::Rendered;

/// Why a message cannot be put together; retrying will not help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeError(String);

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ComposeError {}

/// The message `rendered` becomes, from `from`, to the row's recipient, dated `date`.
pub fn compose(
    mail: &QueuedMail,
    rendered: Rendered,
    from: &Mailbox,
    site: &MailSite,
    date: SystemTime,
) -> Result<Message, ComposeError> {
    // The address is not named in the error: errors go to the log, addresses do not.
    let address = mail
        .recipient
        .parse()
        .map_err(|e| ComposeError(format!("the recipient's address is not one mail can be sent to ({e})")))?;
    let to = Mailbox::new(rendered.to_name.filter(|n| !n.trim().is_empty()), address);
    let html = if rendered.images.is_empty() {
        MultiPart::alternative()
            .singlepart(SinglePart::plain(rendered.text))
            .singlepart(SinglePart::html(rendered.html))
    } else {
        let svg = ContentType::parse("image/svg+xml").expect("a valid content type");
        let related = rendered
            .images
            .into_iter()
            .fold(MultiPart::related().singlepart(SinglePart::html(rendered.html)), |related, image| {
                related.singlepart(Attachment::new_inline(image.content_id).body(image.svg, svg.clone()))
            });
        MultiPart::alternative().singlepart(SinglePart::plain(rendered.text)).multipart(related)
    };
    let body = if rendered.attachments.is_empty() {
        html
    } else {
        rendered.attachments.into_iter().try_fold(MultiPart::mixed().multipart(html), |mixed, file| {
            let content_type = ContentType::parse(file.content_type)
                .map_err(|e| ComposeError(format!("{}: {e}", file.content_type)))?;
            Ok::<_, ComposeError>(mixed.singlepart(Attachment::new(file.filename).body(file.body, content_type)))
        })?
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .date(date)
        .message_id(Some(message_id(mail, site)))
        // RFC 3834: no out-of-office replies to a machine's message.
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()))
        .multipart(body)
        .map_err(|e| ComposeError(format!("cannot build the message: {e}")))
}

/// `<tiketa.<kind>.<outbox id>.<queued, epoch ms>@<site host>>`: the same for every send of
/// one outbox row, different for a row of another database that reuses the id.
pub fn message_id(mail: &QueuedMail, site: &MailSite) -> String {
    format!("<tiketa.{}.{}.{}@{}>", mail.kind, mail.id.0, mail.created_at.timestamp_millis(), domain(site))
}

/// The sender when `MAIL_FROM` is not set (the `.eml` files of `make run`):
/// `"<cinema name>" <tickets@<site host>>`.
pub fn default_from(site: &MailSite) -> Mailbox {
    let address = format!("tickets@{}", domain(site))
        .parse()
        .unwrap_or_else(|_| "tickets@localhost".parse().expect("a valid address"));
    Mailbox::new(Some(site.catalog.settings.name.clone()), address)
}

/// The site's host when it can stand after an `@` (a name, or an IPv4 address), else
/// `localhost`.
fn domain(site: &MailSite) -> &str {
    let host = site.host();
    let plain = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if plain { host } else { "localhost" }
}
