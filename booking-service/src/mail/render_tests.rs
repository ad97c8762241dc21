//! The messages' words: escaping, where the token may appear, what each kind says, and the
//! MIME they become (parsed back with a real mail parser).

use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use cinema::Catalog;
use cinema::booking::{BookingRecord, BookingReference, CheckInCode, ManageToken};
use cinema::outbox::{MailBooking, MailId, MailKind, QueuedMail};
use cinema::schedule::plan_horizon;
use mail_parser::{MessageParser, MimeHeaders};

use icalendar::Component;

use super::*;
use crate::mail::MailSite;
use crate::mail::message::{compose, default_from};

const HOSTILE: &str = "<script>alert(\"x\")</script> & 'Ali' \u{5e9}\u{5dc}\u{5d5}\u{5dd} \u{202e}evil";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-10T00:00:00+07:00").unwrap().with_timezone(&Utc)
}

fn site() -> MailSite {
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
    MailSite::new(Catalog::load(&content).unwrap(), "https://tiketa.example/")
}

fn booking(site: &MailSite, name: &str) -> (BookingRecord, ManageToken) {
    let mut rng = rand::rng();
    let token = ManageToken::generate(&mut rng);
    let showtime = plan_horizon(&site.catalog, now()).into_iter().next().unwrap();
    let record = BookingRecord {
        reference: BookingReference::generate(&mut rng),
        showtime,
        seats: vec!["C4".into(), "C5".into()],
        name: name.into(),
        email: Some("booker@example.com".into()),
        token_hash: token.hash(),
        check_in_code: CheckInCode::generate(&mut rng),
        created_at: now(),
        cancelled_at: None,
        cancelled_by: None,
        checked_in_at: None,
    };
    (record, token)
}

fn queued(kind: MailKind, bookings: &[(&BookingRecord, Option<&ManageToken>)]) -> QueuedMail {
    QueuedMail {
        id: MailId(42),
        kind,
        recipient: "booker@example.com".into(),
        bookings: bookings
            .iter()
            .map(|(b, t)| MailBooking { reference: b.reference.clone(), token: t.cloned() })
            .collect(),
        attempts: 0,
        created_at: now(),
    }
}

/// Every place `needle` occurs in `haystack` lies inside one of `allowed`'s occurrences.
fn only_inside(haystack: &str, needle: &str, allowed: &[String]) -> bool {
    let spans: Vec<(usize, usize)> =
        allowed.iter().flat_map(|a| haystack.match_indices(a.as_str()).map(|(i, m)| (i, i + m.len()))).collect();
    haystack.match_indices(needle).all(|(i, m)| spans.iter().any(|&(s, e)| s <= i && i + m.len() <= e))
}

#[test]
fn a_hostile_name_is_escaped_in_html_and_intact_in_text() {
    let site = site();
    let (b, token) = booking(&site, HOSTILE);
    let r = render(&queued(MailKind::Confirmation, &[(&b, Some(&token))]), std::slice::from_ref(&b), &site).unwrap();
    assert!(r.text.contains(HOSTILE), "{}", r.text);
    assert!(
        r.html.contains(
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Ali&#39; \u{5e9}\u{5dc}\u{5d5}\u{5dd} \u{202e}evil"
        ),
        "{}",
        r.html
    );
    assert!(!r.html.contains("<script"), "{}", r.html);
    assert_eq!(r.to_name.as_deref(), Some(HOSTILE));
    // The same for the cancellation notice.
    let r = render(&queued(MailKind::Cancellation, &[(&b, None)]), std::slice::from_ref(&b), &site).unwrap();
    assert!(r.text.contains(HOSTILE) && !r.html.contains("<script") && r.html.contains("&lt;script&gt;"));
}

#[test]
fn a_confirmation_says_what_when_where_and_carries_the_token_only_in_its_links() {
    let site = site();
    let (b, token) = booking(&site, "Dewi");
    let r = render(&queued(MailKind::Confirmation, &[(&b, Some(&token))]), std::slice::from_ref(&b), &site).unwrap();
    let manage = format!("https://tiketa.example/booking/?ref={}&token={}", b.reference, token.as_str());
    assert_eq!(manage_link(&site, &b.reference, &token), manage);
    let title = &site.catalog.film(&b.showtime.film_slug).unwrap().title;
    for part in [&r.text, &r.html] {
        assert!(part.contains(title.as_str()), "{part}");
        assert!(part.contains(&format!("Studio {}", b.showtime.studio)), "{part}");
        assert!(part.contains("C4, C5") && part.contains(b.reference.as_str()), "{part}");
        assert!(part.contains(b.check_in_code.as_str()), "{part}");
        // The cinema's zone (Jakarta), named as the site names it.
        assert!(part.contains("Thursday 10 January 2030, ") && part.contains(" WIB"), "{part}");
    }
    assert!(r.text.contains(&manage), "{}", r.text);
    assert!(r.html.contains(&*escape(&manage)), "{}", r.html);
    assert!(only_inside(&r.text, token.as_str(), std::slice::from_ref(&manage)), "{}", r.text);
    assert!(only_inside(&r.html, token.as_str(), &[escape(&manage).into_owned()]), "{}", r.html);
    // The calendar entry is an attached file: the booking's event, without the token.
    assert_eq!(r.attachments.len(), 1);
    let ics = &r.attachments[0];
    assert_eq!(ics.filename, format!("{}.ics", b.reference));
    assert!(ics.content_type.starts_with("text/calendar"));
    assert!(!ics.body.contains(token.as_str()), "{}", ics.body);
    let calendar: icalendar::Calendar = ics.body.parse().unwrap();
    let event = calendar.events().next().expect("the booking's event");
    assert!(event.get_uid().unwrap().starts_with(&format!("booking-{}@", b.reference)), "{:?}", event.get_uid());
    assert_eq!(
        event.get_start(),
        Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(b.showtime.starts_at)))
    );
    assert!(!r.subject.contains(token.as_str()));
    // The QR code is an inline image the HTML shows.
    assert_eq!(r.images.len(), 1);
    assert!(r.html.contains(&format!("src=\"cid:{}\"", r.images[0].content_id)), "{}", r.html);
    assert!(r.images[0].svg.starts_with("<?xml") || r.images[0].svg.starts_with("<svg"), "{}", r.images[0].svg);
}

#[test]
fn the_manage_link_follows_the_base_url_path() {
    let mut site = MailSite::new(site().catalog, "https://tiketa.example/cinema");
    std::sync::Arc::make_mut(&mut site.catalog).settings.booking_api_url.clear();
    let (b, token) = booking(&site, "Dewi");
    assert!(manage_link(&site, &b.reference, &token).starts_with("https://tiketa.example/cinema/booking/?ref="));
}

#[test]
fn a_confirmation_sent_after_a_cancellation_says_so() {
    let site = site();
    let (mut b, token) = booking(&site, "Dewi");
    b.cancelled_at = Some(now());
    let r = render(&queued(MailKind::Confirmation, &[(&b, Some(&token))]), std::slice::from_ref(&b), &site).unwrap();
    assert!(r.text.contains("was cancelled") && r.html.contains("was cancelled"), "{}", r.text);
}

#[test]
fn a_cancellation_notice_is_short_and_carries_no_link_to_the_booking() {
    let site = site();
    let (b, _) = booking(&site, "Dewi");
    let r = render(&queued(MailKind::Cancellation, &[(&b, None)]), std::slice::from_ref(&b), &site).unwrap();
    assert!(r.subject.starts_with("Cancelled: ") && r.subject.contains(b.reference.as_str()), "{}", r.subject);
    assert!(r.text.contains("released"), "{}", r.text);
    assert!(!r.text.contains("token=") && !r.html.contains("token="));
    assert!(r.images.is_empty());
}

#[test]
fn a_recovery_message_has_one_link_per_booking_and_each_token_only_there() {
    let site = site();
    let (a, ta) = booking(&site, "Dewi");
    let (b, tb) = booking(&site, "Dewi");
    let mail = queued(MailKind::Recovery, &[(&a, Some(&ta)), (&b, Some(&tb))]);
    let r = render(&mail, &[b.clone(), a.clone()], &site).unwrap();
    assert_eq!(r.subject, format!("Your bookings at {}", site.catalog.settings.name));
    for (record, token) in [(&a, &ta), (&b, &tb)] {
        let link = manage_link(&site, &record.reference, token);
        assert_eq!(r.text.matches(&link).count(), 1, "{}", r.text);
        assert_eq!(r.html.matches(&*escape(&link)).count(), 1, "{}", r.html);
        assert!(only_inside(&r.text, token.as_str(), std::slice::from_ref(&link)));
        assert!(only_inside(&r.html, token.as_str(), &[escape(&link).into_owned()]));
    }
    assert_eq!(r.to_name, None);
}

#[test]
fn what_cannot_be_written_says_why() {
    let site = site();
    let (b, token) = booking(&site, "Dewi");
    let mail = queued(MailKind::Confirmation, &[(&b, Some(&token))]);
    assert_eq!(render(&mail, &[], &site).unwrap_err(), RenderError::MissingBooking(b.reference.clone()));
    let no_token = queued(MailKind::Confirmation, &[(&b, None)]);
    let e = render(&no_token, std::slice::from_ref(&b), &site).unwrap_err();
    assert_eq!(e, RenderError::MissingToken(b.reference.clone()));
    assert_eq!(render(&queued(MailKind::Recovery, &[]), &[], &site).unwrap_err(), RenderError::NoBooking);
}

#[test]
fn the_message_has_its_headers_both_parts_and_the_ticket_inline() {
    let site = site();
    let (b, token) = booking(&site, HOSTILE);
    let mail = queued(MailKind::Confirmation, &[(&b, Some(&token))]);
    let r = render(&mail, std::slice::from_ref(&b), &site).unwrap();
    let message = compose(&mail, r.clone(), &default_from(&site), &site, SystemTime::now()).unwrap();
    let raw = message.formatted();
    let head = String::from_utf8_lossy(&raw[..raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]).to_string();
    // A hostile name is encoded in the header, never spliced in.
    assert!(!head.contains("<script>"), "{head}");
    assert!(!head.contains(token.as_str()), "{head}");
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        parsed.message_id(),
        Some(format!("tiketa.confirmation.42.{}@tiketa.example", now().timestamp_millis()).as_str())
    );
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some(HOSTILE));
    assert_eq!(to.address(), Some("booker@example.com"));
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("tickets@tiketa.example"));
    assert_eq!(parsed.subject(), Some(r.subject.as_str()));
    assert!(parsed.date().is_some());
    assert_eq!(parsed.content_type().unwrap().subtype(), Some("mixed"), "the text and HTML, then the .ics");
    // Mail's lines end in CRLF.
    let lf = |s: &str| s.replace("\r\n", "\n").trim_end().to_string();
    assert_eq!(lf(&parsed.body_text(0).unwrap()), lf(&r.text));
    assert_eq!(lf(&parsed.body_html(0).unwrap()), lf(&r.html));
    let image = parsed.attachments().find(|a| a.content_id().is_some()).expect("the ticket, inline");
    assert_eq!(image.content_type().map(|c| (c.ctype(), c.subtype())), Some(("image", Some("svg+xml"))));
    assert_eq!(image.content_id(), Some(r.images[0].content_id.as_str()));
    assert_eq!(image.contents(), r.images[0].svg.as_bytes());
    let ics =
        parsed.attachments().find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".ics"))).expect("the .ics");
    assert_eq!(ics.text_contents().map(|t| t.replace("\r\n", "\n")), Some(r.attachments[0].body.replace("\r\n", "\n")));
}
