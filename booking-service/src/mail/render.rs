//! What each message says, as plain text and as HTML, written from the bookings as they are
//! when the message is sent (a confirmation sent after its booking was cancelled says so).
//!
//! Every value that comes from a booker or the content (a name, a film title, a seat) goes
//! through [`escape`] in the HTML part and as it is in the text part, where nothing is markup.
//! The manage token appears only inside the manage link, never as text of its own: a reader
//! copying the reference or the check-in code for the door never copies the key that cancels
//! the booking. The calendar entry travels as an attached `.ics` file (the booking's event, as
//! `GET /api/bookings/{reference}/calendar.ics` answers it), so it needs no second link with
//! the token in it.
//!
//! The ticket's QR code (see [`crate::ticket::qr_svg`]) is an inline image that the HTML part
//! shows by `cid:`, beside the check-in code in words for clients that show no images (many do
//! not show SVG at all), and for the door when the camera fails.

use std::fmt::{self, Write as _};

use cinema::booking::{BookingRecord, BookingReference, ManageToken};
use cinema::outbox::{MailKind, QueuedMail};
use cinema::site_paths;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::MailSite;
use super::when::{showtime_label, start_label};
use crate::ticket::qr_svg;

/// A message's words and pictures, before MIME.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Images the HTML shows by `cid:` (the tickets' QR codes).
    pub images: Vec<InlineImage>,
    /// Files attached to the message (the booking's calendar file).
    pub attachments: Vec<FileAttachment>,
    /// The booker's name, to address the message to, when it is about one booking.
    pub to_name: Option<String>,
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub filename: String,
    pub content_type: &'static str,
    pub body: String,
}

/// The booking's calendar file, attached to its confirmation.
fn calendar_file(b: &BookingRecord, site: &MailSite) -> FileAttachment {
    let event = crate::api::calendar::event(b, &site.catalog);
    FileAttachment {
        filename: format!("{}.ics", b.reference),
        content_type: "text/calendar; charset=utf-8",
        body: cinema::calendar::ics(&site.catalog.settings.name, &[event]),
    }
}

/// An SVG image inside the message, shown by `<img src="cid:{content_id}">`.
#[derive(Debug, Clone)]
pub struct InlineImage {
    pub content_id: String,
    pub svg: String,
}

/// Why a queued message cannot be written; a retry helps only once the store is repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// The outbox row names a booking the store does not have.
    MissingBooking(BookingReference),
    /// A confirmation or recovery row lost its manage token before it was sent.
    MissingToken(BookingReference),
    /// The outbox row names no booking at all.
    NoBooking,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::MissingBooking(r) => write!(f, "the booking {r} of this message is not in the store"),
            RenderError::MissingToken(r) => {
                write!(f, "the message carries no manage token for {r}; the booker can ask for the link again")
            }
            RenderError::NoBooking => f.write_str("the message names no booking"),
        }
    }
}

impl std::error::Error for RenderError {}

/// Writes `mail` about `bookings` (the store's records of `mail.bookings`, in that order).
pub fn render(mail: &QueuedMail, bookings: &[BookingRecord], site: &MailSite) -> Result<Rendered, RenderError> {
    if let Some(missing) = mail.bookings.iter().find(|b| !bookings.iter().any(|r| r.reference == b.reference)) {
        return Err(RenderError::MissingBooking(missing.reference.clone()));
    }
    let record = |reference: &BookingReference| {
        bookings.iter().find(|r| &r.reference == reference).expect("every booking was checked above")
    };
    let token = |b: &cinema::outbox::MailBooking| b.token.clone().ok_or(RenderError::MissingToken(b.reference.clone()));
    match mail.kind {
        MailKind::Confirmation => {
            let first = mail.bookings.first().ok_or(RenderError::NoBooking)?;
            Ok(confirmation(record(&first.reference), &token(first)?, site))
        }
        MailKind::Cancellation => {
            let first = mail.bookings.first().ok_or(RenderError::NoBooking)?;
            Ok(cancellation(record(&first.reference), site))
        }
        MailKind::Recovery if mail.bookings.is_empty() => Err(RenderError::NoBooking),
        MailKind::Recovery => {
            let items =
                mail.bookings.iter().map(|b| Ok((record(&b.reference), token(b)?))).collect::<Result<Vec<_>, _>>()?;
            Ok(recovery(&items, site))
        }
    }
}

pub use cinema::markup::escape;

/// What a URL query value may hold unencoded: RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn query(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The manage page of a booking: `<base_url>/booking/?ref=<reference>&token=<token>`.
pub fn manage_link(site: &MailSite, reference: &BookingReference, token: &ManageToken) -> String {
    format!(
        "{}{}?ref={}&token={}",
        site.base_url,
        site_paths::BOOKING_URL,
        query(reference.as_str()),
        query(token.as_str())
    )
}

/// The facts of a booking every message lists.
struct Facts {
    title: String,
    when: String,
    short_when: String,
    studio: String,
    seats: String,
    reference: String,
    film_url: String,
}

impl Facts {
    fn of(b: &BookingRecord, site: &MailSite) -> Self {
        let tz = site.catalog.settings.time_zone;
        let slug = &b.showtime.film_slug;
        Facts {
            // A film removed from the content keeps its bookings' messages readable.
            title: site.catalog.film(slug).map_or_else(|| slug.clone(), |f| f.title.clone()),
            when: showtime_label(b.showtime.starts_at, b.showtime.ends_at, tz),
            short_when: start_label(b.showtime.starts_at, tz),
            studio: format!("Studio {}, {}", b.showtime.studio, site.catalog.settings.name),
            seats: b.seats.join(", "),
            reference: b.reference.as_str().to_string(),
            film_url: format!("{}{}", site.base_url, site_paths::film_url(slug)),
        }
    }

    fn rows(&self) -> [(&'static str, &str); 5] {
        [
            ("Film", &self.title),
            ("When", &self.when),
            ("Where", &self.studio),
            ("Seats", &self.seats),
            ("Reference", &self.reference),
        ]
    }

    fn text_rows(&self, out: &mut String) {
        for (label, value) in self.rows() {
            let _ = writeln!(out, "{:<11}{value}", format!("{label}:"));
        }
    }

    fn html_rows(&self, out: &mut String) {
        out.push_str("<table role=\"presentation\" style=\"border-collapse:collapse;margin:16px 0\">\n");
        for (label, value) in self.rows() {
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\" style=\"text-align:left;padding:4px 16px 4px 0;color:#555;font-weight:normal\">{}</th><td style=\"padding:4px 0\">{}</td></tr>",
                escape(label),
                escape(value)
            );
        }
        out.push_str("</table>\n");
    }
}

fn html_page(subject: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n<title>{}</title>\n</head>\n<body style=\"margin:0;padding:24px;background:#f4f1ea;color:#1d1d1f;font-family:Georgia,serif;line-height:1.5\">\n<div style=\"max-width:600px;margin:0 auto;background:#fff;padding:24px\">\n{body}</div>\n</body>\n</html>\n",
        escape(subject)
    )
}

fn button(href: &str, label: &str) -> String {
    format!(
        "<p><a href=\"{}\" style=\"display:inline-block;padding:10px 18px;background:#1d1d1f;color:#fff;text-decoration:none\">{}</a></p>\n",
        escape(href),
        escape(label)
    )
}

fn confirmation(b: &BookingRecord, token: &ManageToken, site: &MailSite) -> Rendered {
    let facts = Facts::of(b, site);
    let cinema = &site.catalog.settings.name;
    let manage = manage_link(site, &b.reference, token);
    let code = b.check_in_code.as_str();
    let subject = format!("Your tickets: {}, {}", facts.title, facts.short_when);
    let cancelled = b.cancelled_at.map(|at| {
        format!(
            "This booking was cancelled on {}; its seats are released and this ticket no longer admits.",
            super::when::start_label(at, site.catalog.settings.time_zone)
        )
    });

    let mut text = format!("Hello {},\n\nyour booking at {cinema} is confirmed.\n", b.name);
    if let Some(note) = &cancelled {
        let _ = writeln!(text, "\n{note}");
    }
    text.push('\n');
    facts.text_rows(&mut text);
    let _ = write!(
        text,
        "\nYour ticket: show the QR code in this message at the door, or give the check-in code:\n\n    {code}\n\n\
         See or cancel your booking (the link is yours alone: anyone who has it can cancel the\n\
         booking, so do not forward this message):\n{manage}\n\n\
         Add it to your calendar: open the attached {}.ics.\n\n{cinema}\n{}\n",
        b.reference, site.base_url
    );

    let content_id = format!("ticket-{}@tiketa", b.reference.as_str());
    let mut body = format!(
        "<h1 style=\"font-size:24px;margin:0 0 8px\">Your booking is confirmed</h1>\n<p>Hello <bdi>{}</bdi>, your booking at {} is confirmed.</p>\n",
        escape(&b.name),
        escape(cinema)
    );
    if let Some(note) = &cancelled {
        let _ = writeln!(body, "<p style=\"color:#a00\"><strong>{}</strong></p>", escape(note));
    }
    facts.html_rows(&mut body);
    let _ = write!(
        body,
        "<h2 style=\"font-size:18px\">Your ticket</h2>\n<p>Show this QR code at the door, or give the check-in code.</p>\n\
         <p><img src=\"cid:{}\" width=\"200\" height=\"200\" alt=\"QR code of ticket {}\"></p>\n\
         <p>Check-in code: <strong style=\"font-family:monospace;font-size:20px;letter-spacing:1px\">{}</strong></p>\n",
        escape(&content_id),
        escape(&facts.reference),
        escape(code)
    );
    body.push_str(&button(&manage, "See or cancel your booking"));
    let _ = write!(
        body,
        "<p style=\"color:#555;font-size:14px\">This link is yours alone: anyone who has it can cancel the booking, so do not forward this message.</p>\n\
         <p>Add it to your calendar: open the attached <strong>{}.ics</strong>.</p>\n<p style=\"color:#555;font-size:14px\"><a href=\"{}\">{}</a></p>\n",
        escape(b.reference.as_str()),
        escape(&site.base_url),
        escape(cinema)
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
        images: vec![InlineImage { content_id, svg: qr_svg(&b.reference, &b.check_in_code) }],
        attachments: vec![calendar_file(b, site)],
        to_name: Some(b.name.clone()),
    }
}

fn cancellation(b: &BookingRecord, site: &MailSite) -> Rendered {
    let facts = Facts::of(b, site);
    let cinema = &site.catalog.settings.name;
    let subject = format!("Cancelled: {}, {} ({})", facts.title, facts.short_when, facts.reference);
    let mut text = format!(
        "Hello {},\n\nyour booking {} at {cinema} is cancelled, and its seats are released for others.\n\n",
        b.name, facts.reference
    );
    facts.text_rows(&mut text);
    let _ = write!(
        text,
        "\nThere is nothing more to do. To book again:\n{}\n\n{cinema}\n{}\n",
        facts.film_url, site.base_url
    );

    let mut body = format!(
        "<h1 style=\"font-size:24px;margin:0 0 8px\">Booking cancelled</h1>\n<p>Hello <bdi>{}</bdi>, your booking {} at {} is cancelled, and its seats are released for others.</p>\n",
        escape(&b.name),
        escape(&facts.reference),
        escape(cinema)
    );
    facts.html_rows(&mut body);
    let _ = writeln!(
        body,
        "<p>There is nothing more to do. <a href=\"{}\">Book {} again</a>.</p>",
        escape(&facts.film_url),
        escape(&facts.title)
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
        images: Vec::new(),
        attachments: Vec::new(),
        to_name: Some(b.name.clone()),
    }
}

fn recovery(items: &[(&BookingRecord, ManageToken)], site: &MailSite) -> Rendered {
    let cinema = &site.catalog.settings.name;
    let subject = match items.len() {
        1 => format!("Your booking at {cinema}"),
        _ => format!("Your bookings at {cinema}"),
    };
    let intro = "Someone (we hope you) asked for the links to the bookings this address made. Here they are.";
    let warning = "Each link is yours alone: anyone who has it can cancel the booking. Links sent in an earlier message like this one no longer work; the link in your confirmation still does. If you did not ask for this message, you can ignore it.";
    let mut text = format!("Hello,\n\n{intro}\n");
    let mut body =
        format!("<h1 style=\"font-size:24px;margin:0 0 8px\">{}</h1>\n<p>{}</p>\n", escape(&subject), escape(intro));
    for (b, token) in items {
        let facts = Facts::of(b, site);
        let manage = manage_link(site, &b.reference, token);
        let _ = write!(text, "\n{}\n", facts.title);
        if b.cancelled_at.is_some() {
            text.push_str("(cancelled)\n");
        }
        facts.text_rows(&mut text);
        let _ = write!(text, "{:<11}{}\nSee or cancel:\n{manage}\n", "Check-in:", b.check_in_code.as_str());

        let _ = writeln!(body, "<h2 style=\"font-size:18px;margin:24px 0 0\">{}</h2>", escape(&facts.title));
        if b.cancelled_at.is_some() {
            body.push_str("<p style=\"color:#a00\">Cancelled</p>\n");
        }
        facts.html_rows(&mut body);
        let _ = writeln!(
            body,
            "<p>Check-in code: <strong style=\"font-family:monospace\">{}</strong></p>",
            escape(b.check_in_code.as_str())
        );
        body.push_str(&button(&manage, &format!("See or cancel booking {}", facts.reference)));
    }
    let _ = write!(text, "\n{warning}\n\n{cinema}\n{}\n", site.base_url);
    let _ = write!(
        body,
        "<p style=\"color:#555;font-size:14px\">{}</p>\n<p style=\"color:#555;font-size:14px\"><a href=\"{}\">{}</a></p>\n",
        escape(warning),
        escape(&site.base_url),
        escape(cinema)
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
        images: Vec::new(),
        attachments: Vec::new(),
        to_name: None,
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
