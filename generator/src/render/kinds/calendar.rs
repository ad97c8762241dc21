//! A live showtime's "add to calendar" file, `/book/<id>/calendar.ics`: one event, written by
//! [`cinema::calendar`] in UTC (so no `VTIMEZONE` to keep in step with the zone database),
//! linked from the showtime's booking page.
//!
//! Its bytes depend on the showtime and its film only, never on when the build ran: the UID
//! is `showtime-<id>@<host>` (saving the file twice updates one event instead of adding a
//! second), and the `DTSTAMP` is the showtime's start (see [`stamp`]). So a rebuild writes the
//! same bytes and an incremental build skips the file. A showtime that has started is archived
//! and has no file any more, like its booking page.

use chrono::{DateTime, Utc};
use cinema::calendar::{self, CalendarEvent};
use cinema::site_paths::{self, UrlPattern};
use cinema::{Showtime, SiteSettings};

use super::super::views::FilmView;
use super::{FilmKind, FilmSchedule, Site, hash_showtime, key};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// Item `i` is the film's live showtime `i`.
pub struct ShowtimeCalendar;

impl FilmKind for ShowtimeCalendar {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::BOOK_CALENDAR
    }

    fn count(&self, film: &FilmSchedule) -> usize {
        film.showtimes.len()
    }

    fn url(&self, film: &FilmSchedule, i: usize) -> String {
        site_paths::book_calendar_url(film.showtimes[i].id.as_str())
    }

    /// The showtime's film (its title; the settings' name and base URL come with the film's
    /// key), the showtime and its studio.
    fn input_key(&self, site: &Site, film: &FilmSchedule, i: usize) -> Digest {
        let showtime = &film.showtimes[i];
        key(b"calendar", |h| {
            h.update(site.film_key(film.index).as_bytes());
            hash_showtime(h, showtime);
            h.update(&showtime.studio.to_le_bytes());
        })
    }

    fn render(&self, site: &Site, film: &FilmSchedule, i: usize) -> Result<Vec<u8>, BuildError> {
        let settings = site.settings();
        Ok(calendar::ics(&settings.name, &[event(settings, &film.view, &film.showtimes[i])]).into_bytes())
    }
}

/// The showtime as a calendar event: the film's title, the studio as the place, the booking
/// page as the link.
fn event(settings: &SiteSettings, film: &FilmView, showtime: &Showtime) -> CalendarEvent {
    let page = format!("{}{}", settings.base_url, site_paths::book_url(showtime.id.as_str()));
    CalendarEvent {
        uid: calendar::uid("showtime", showtime.id.as_str(), &settings.base_url),
        summary: film.title.clone(),
        description: format!("{} ({}), {}. Choose your seats: {page}", film.title, film.year, film.runtime_human),
        location: format!("Studio {}, {}", showtime.studio, settings.name),
        starts_at: showtime.starts_at,
        ends_at: showtime.ends_at,
        url: Some(page),
        stamp: stamp(showtime),
        cancelled: false,
    }
}

/// The file's `DTSTAMP`, which RFC 5545 wants as the moment the event's data was made. The
/// store does not hand the generator when a showtime was created, and the build's own moment
/// would change the bytes every build; the showtime's start is fixed for the showtime's whole
/// life, which is what matters here: the same showtime, the same bytes.
fn stamp(showtime: &Showtime) -> DateTime<Utc> {
    showtime.starts_at
}
