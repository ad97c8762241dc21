//! Calendar files (`.ics`, RFC 5545): one event per showtime, for the site's "add to calendar"
//! link and for a booking's own calendar file from the booking service.
//!
//! Times are written in UTC (`DTSTART:20261207T120000Z`), which every calendar converts to its
//! reader's zone, so no `VTIMEZONE` has to be kept in step with the zone database. The UID is
//! derived from what the event is about (a showtime, or a booking), never random, so saving the
//! same file twice updates one event instead of making two.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

/// One event to write.
#[derive(Debug, Clone)]
pub struct CalendarEvent {
    /// Stable: `showtime-<id>@<host>` or `booking-<reference>@<host>` (see [`uid`]).
    pub uid: String,
    pub summary: String,
    pub description: String,
    /// The studio, as a calendar shows a place: "Studio 4, The Time Gallery".
    pub location: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The page the event links back to.
    pub url: Option<String>,
    /// When this file was made (`DTSTAMP`). A build passes the showtime's own creation moment
    /// or another fixed instant, so the same showtime gives the same bytes every build.
    pub stamp: DateTime<Utc>,
    /// A cancelled booking's event: `STATUS:CANCELLED` and a later `SEQUENCE`, so a calendar
    /// that imported the booking before marks it cancelled instead of keeping it as it was.
    pub cancelled: bool,
}

/// A UID for `kind` (`showtime`, `booking`) `id`, under the site's host, as RFC 5545 suggests.
pub fn uid(kind: &str, id: &str, base_url: &str) -> String {
    let host = base_url.split("://").nth(1).unwrap_or(base_url).split(['/', ':']).next().unwrap_or_default();
    let host = if host.is_empty() { "tiketa.invalid" } else { host };
    format!("{kind}-{id}@{host}")
}

/// A calendar file holding `events`, named `name` (the calendar's display name).
pub fn ics(name: &str, events: &[CalendarEvent]) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name);
    for e in events {
        let mut event = Event::new();
        event
            .uid(&e.uid)
            .summary(&e.summary)
            .description(&e.description)
            .location(&e.location)
            .starts(e.starts_at)
            .ends(e.ends_at)
            .timestamp(e.stamp);
        if let Some(url) = &e.url {
            event.url(url);
        }
        if e.cancelled {
            event.status(EventStatus::Cancelled).sequence(1);
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use icalendar::{CalendarDateTime, DatePerhapsTime};

    use super::*;

    #[test]
    fn an_event_parses_back_with_its_instants_uid_and_escaped_text() {
        let starts = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let ends = Utc.with_ymd_and_hms(2026, 12, 7, 14, 8, 0).unwrap();
        let event = CalendarEvent {
            uid: uid("showtime", "akira-20261207-1900", "https://tiketa.example/"),
            summary: "Akira; a film, with \"quotes\"".into(),
            description: "Line one\nLine two".into(),
            location: "Studio 4, The Time Gallery".into(),
            starts_at: starts,
            ends_at: ends,
            url: Some("https://tiketa.example/book/akira-20261207-1900/".into()),
            stamp: starts,
            cancelled: false,
        };
        let text = ics("The Time Gallery", std::slice::from_ref(&event));
        assert!(text.contains("DTSTART:20261207T120000Z"), "{text}");
        let parsed: Calendar = text.parse().unwrap();
        let parsed = parsed.events().next().expect("one event");
        assert_eq!(parsed.get_uid(), Some("showtime-akira-20261207-1900@tiketa.example"));
        assert_eq!(parsed.get_summary(), Some(event.summary.as_str()));
        assert_eq!(parsed.get_location(), Some(event.location.as_str()));
        assert_eq!(parsed.get_start(), Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(starts))));
        assert_eq!(parsed.get_end(), Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(ends))));
        assert_eq!(parsed.get_status(), None);

        let text = ics("The Time Gallery", &[CalendarEvent { cancelled: true, ..event }]);
        let parsed: Calendar = text.parse().unwrap();
        let parsed = parsed.events().next().expect("one event");
        assert_eq!(parsed.get_status(), Some(EventStatus::Cancelled));
        assert_eq!(parsed.get_sequence(), Some(1));
    }

    #[test]
    fn a_uid_names_the_host_only() {
        assert_eq!(uid("booking", "TK-2222-3333", "http://127.0.0.1:8080"), "booking-TK-2222-3333@127.0.0.1");
        assert_eq!(uid("booking", "TK-2222-3333", ""), "booking-TK-2222-3333@tiketa.invalid");
    }
}
