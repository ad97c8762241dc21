//! The "add to calendar" files, `/book/<id>/calendar.ics`: the real binary on the real content,
//! each file parsed back with the `icalendar` crate's parser.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::{NOW, Workspace, attribute_values};
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike};

/// Akira (Studio 3, 124 minutes) at 22:00 in Jakarta (UTC+7) on 24 November: it ends at 00:04
/// the next local day, 17:04 UTC the same UTC day.
const LATE_SHOW: &str = "akira-20261124-2200";
/// Three hours after [`NOW`]: the 10:00 shows have started by then.
const LATER: &str = "2026-11-24T11:00:00+07:00";

fn calendar_file(id: &str) -> String {
    format!("book/{id}/calendar.ics")
}

/// The one event of a calendar file.
fn the_event(text: &str) -> Event {
    let calendar: Calendar = text.parse().unwrap_or_else(|e| panic!("not a calendar: {e}\n{text}"));
    let events: Vec<&Event> = calendar.events().collect();
    assert_eq!(events.len(), 1, "{text}");
    events[0].clone()
}

fn utc(date_time: Option<DatePerhapsTime>) -> DateTime<Utc> {
    match date_time {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => t,
        other => panic!("not a UTC time: {other:?}"),
    }
}

#[test]
fn a_showtimes_calendar_file_has_its_instants_studio_and_page() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let catalog = cinema::Catalog::load(&ws.path("content")).unwrap();
    let akira = catalog.film("akira").unwrap();
    assert_eq!((akira.studio, akira.runtime_min), (3, 124), "the instants below assume the content's Akira");
    assert_eq!(catalog.settings.time_zone, chrono_tz::Asia::Jakarta);

    let text = ws.read(&calendar_file(LATE_SHOW));
    let event = the_event(&text);
    let jakarta = chrono_tz::Asia::Jakarta;
    let starts = jakarta.with_ymd_and_hms(2026, 11, 24, 22, 0, 0).unwrap();
    let ends = jakarta.with_ymd_and_hms(2026, 11, 25, 0, 4, 0).unwrap();
    assert_eq!(utc(event.get_start()), starts, "{text}");
    assert_eq!(utc(event.get_end()), ends, "after midnight in Jakarta: {text}");
    assert!(text.contains("DTSTART:20261124T150000Z\r\n") && text.contains("DTEND:20261124T170400Z\r\n"), "{text}");
    assert_eq!(event.get_summary(), Some("Akira"));
    assert_eq!(event.get_location(), Some("Studio 3, The Time Gallery"));
    assert_eq!(event.get_uid(), Some("showtime-akira-20261124-2200@127.0.0.1"));
    assert_eq!(event.get_url(), Some("http://127.0.0.1:8080/book/akira-20261124-2200/"));

    // One per live showtime, linked from its booking page as a download; not in the sitemap.
    let book = ws.out().join("book");
    let showtimes: Vec<_> = std::fs::read_dir(&book).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(showtimes.len(), 324);
    for id in &showtimes {
        assert!(book.join(id).join("calendar.ics").is_file(), "{id:?}");
    }
    let page = ws.read(&format!("book/{LATE_SHOW}/index.html"));
    let href = format!("/book/{LATE_SHOW}/calendar.ics");
    assert!(attribute_values(&page, "href").contains(&href), "the booking page links to {href}");
    assert!(attribute_values(&page, "download").contains(&format!("{LATE_SHOW}.ics")));
    assert!(!ws.read("sitemaps/1.xml").contains(".ics"), "calendar files are downloads, not pages to index");
}

#[test]
fn a_calendar_file_is_the_same_bytes_in_every_build_and_a_started_showtime_has_none() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let first = ws.read(&calendar_file(LATE_SHOW));
    assert!(ws.out().join(calendar_file("akira-20261124-1000")).is_file());

    // The 10:00 shows start: the roll archives them, and their files go with their pages.
    ws.run_ok("roll", LATER);
    assert!(!ws.out().join("book/akira-20261124-1000").exists(), "a started showtime has no page");
    assert!(!ws.out().join(calendar_file("akira-20261124-1000")).exists(), "nor a calendar file");
    assert_eq!(ws.read(&calendar_file(LATE_SHOW)), first, "a later build, the same bytes");

    // Another database, built at another moment: still the same event, the same bytes.
    let other = Workspace::fresh();
    other.run_ok("roll", LATER);
    let again = other.read(&calendar_file(LATE_SHOW));
    assert_eq!(again, first);
    assert_eq!(the_event(&again).get_uid(), Some("showtime-akira-20261124-2200@127.0.0.1"));
}
