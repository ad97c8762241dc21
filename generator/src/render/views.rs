//! What templates see: plain serialisable views of the domain, formatted for people.
//!
//! Formatting (dates, runtimes, URLs) happens here once, in Rust, so templates only place text
//! and every theme shows the same facts the same way. `docs/theme-contract.md` lists these
//! fields; keep the two in step.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cinema::schedule::slots_of;
use cinema::site_paths::{book_calendar_url, book_url, film_url};
use cinema::{Catalog, Film, Showtime};
use serde::Serialize;

use super::markdown;
use cinema::times::TimeRange;

/// A film as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct FilmView {
    pub slug: String,
    pub url: String,
    pub studio: u32,
    pub title: String,
    pub year: i32,
    pub release_date: String,
    pub release_date_human: String,
    pub runtime_min: u32,
    pub runtime_human: String,
    pub directors: Vec<String>,
    pub genres: Vec<String>,
    pub trailer_youtube_id: String,
    pub tagline: String,
    pub shows_per_day: usize,
    pub slots: Vec<String>,
    pub poster_url: String,
    pub palette: [String; 2],
    /// Rendered once per build; marked safe when handed to templates.
    #[serde(skip)]
    pub lore_html: String,
}

impl FilmView {
    pub fn new(catalog: &Catalog, film: &Film, poster_url: String) -> Self {
        let slots = slots_of(catalog, film);
        FilmView {
            slug: film.slug.clone(),
            url: film_url(&film.slug),
            studio: film.studio,
            title: film.title.clone(),
            year: film.year(),
            release_date: film.release_date.format("%Y-%m-%d").to_string(),
            release_date_human: film.release_date.format("%-d %B %Y").to_string(),
            runtime_min: film.runtime_min,
            runtime_human: runtime_human(film.runtime_min),
            directors: film.directors.clone(),
            genres: film.genres.clone(),
            trailer_youtube_id: film.trailer_youtube_id.clone(),
            tagline: film.tagline.clone(),
            shows_per_day: slots.len(),
            slots: slots.iter().map(|t| t.format("%H:%M").to_string()).collect(),
            poster_url,
            palette: film.palette.clone(),
            lore_html: markdown::to_html(&film.lore_markdown),
        }
    }
}

/// A showtime as templates see it, in the cinema's time zone.
#[derive(Debug, Clone, Serialize)]
pub struct ShowtimeView {
    pub id: String,
    pub url: String,
    /// The showtime's "add to calendar" file, `/book/<id>/calendar.ics`.
    pub calendar_url: String,
    pub film_slug: String,
    pub studio: u32,
    pub date: String,
    pub date_label: String,
    pub starts_local: String,
    pub ends_local: String,
    pub starts_at: String,
    pub ends_at: String,
    /// The start and end with the cinema's zone named and a next-day end marked
    /// (`times.text` is `22:00 – 00:49 (+1) WIB`): what a page shows, where `starts_local` and
    /// `ends_local` are bare clock readings for `<time>` elements and machines.
    pub times: TimeRange,
}

impl ShowtimeView {
    pub fn new(showtime: &Showtime, tz: Tz) -> Self {
        let local = |t: DateTime<Utc>| t.with_timezone(&tz);
        ShowtimeView {
            id: showtime.id.to_string(),
            url: book_url(showtime.id.as_str()),
            calendar_url: book_calendar_url(showtime.id.as_str()),
            film_slug: showtime.film_slug.clone(),
            studio: showtime.studio,
            date: showtime.local_date.format("%Y-%m-%d").to_string(),
            date_label: showtime.local_date.format("%A %-d %B").to_string(),
            starts_local: local(showtime.starts_at).format("%H:%M").to_string(),
            ends_local: local(showtime.ends_at).format("%H:%M").to_string(),
            starts_at: local(showtime.starts_at).to_rfc3339(),
            ends_at: local(showtime.ends_at).to_rfc3339(),
            times: TimeRange::new(showtime.starts_at, showtime.ends_at, tz),
        }
    }
}

/// One local day of a film's schedule.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleDay {
    pub date: String,
    pub date_label: String,
    pub showtimes: Vec<ShowtimeView>,
}

/// Groups a film's showtimes (already in start order) by local date.
pub fn schedule_days(showtimes: Vec<ShowtimeView>) -> Vec<ScheduleDay> {
    let mut days: Vec<ScheduleDay> = Vec::new();
    for s in showtimes {
        match days.last_mut() {
            Some(day) if day.date == s.date => day.showtimes.push(s),
            _ => days.push(ScheduleDay { date: s.date.clone(), date_label: s.date_label.clone(), showtimes: vec![s] }),
        }
    }
    days
}

/// `125` -> `2 h 5 min`; `45` -> `45 min`.
pub fn runtime_human(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_read_as_hours_and_minutes() {
        assert_eq!(runtime_human(125), "2 h 5 min");
        assert_eq!(runtime_human(120), "2 h");
        assert_eq!(runtime_human(45), "45 min");
    }
}
