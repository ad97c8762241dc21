//! The schedule as JSON, for kiosks and apps, in files that do not grow with the catalog:
//! - `/api/schedule.json`, its table of contents: the cinema, its zone, the film list's pages
//!   and the pattern of a film's schedule;
//! - `/api/films/page-<n>.json`, the film list, [`FILMS_PER_JSON_PAGE`] films a page;
//! - `/api/films/<slug>/schedule.json`, one film's live showtimes.
//!
//! Per film rather than per day: a day at 10,000 films holds about 50,000 showtimes (3 MB),
//! and would have to be split again, while a film's horizon is a few dozen showtimes whatever
//! the catalog, and is what a film's page, a kiosk at a studio's door or a calendar app asks
//! for. Lists across films (a day's showtimes, every showtime) are the booking service's
//! `GET /api/showtimes?date=`, a page at a time with a cursor.
//!
//! The table of contents and the film list are site-wide, so rendered every build (no input
//! key); a film's schedule only when the film or its showtimes change.

use cinema::site_paths::{self, UrlPattern};

use super::super::feeds;
use super::super::pagination::{items_of, page_count};
use super::{FilmKind, FilmSchedule, PageKind, Site, hash_showtime, key};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// Films on one page of the film list: about 130 bytes each, so some 65 KB a page.
pub const FILMS_PER_JSON_PAGE: usize = 500;

/// `/api/schedule.json`.
pub struct ScheduleJson;

/// Item `i` is page `i + 1` of the film list.
pub struct FilmsJson;

/// A film's schedule.
pub struct FilmScheduleJson;

fn film_pages(site: &Site) -> usize {
    page_count(site.film_count(), FILMS_PER_JSON_PAGE)
}

impl PageKind for ScheduleJson {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::SCHEDULE_JSON
    }

    fn count(&self, _site: &Site) -> usize {
        1
    }

    fn url(&self, _site: &Site, _item: usize) -> String {
        site_paths::SCHEDULE_JSON_URL.to_string()
    }

    fn render(&self, site: &Site, _item: usize) -> Result<Vec<u8>, BuildError> {
        Ok(feeds::schedule_index(site.settings(), site.film_count(), film_pages(site)))
    }
}

impl PageKind for FilmsJson {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::FILMS_JSON
    }

    fn count(&self, site: &Site) -> usize {
        film_pages(site)
    }

    fn url(&self, _site: &Site, item: usize) -> String {
        site_paths::films_json_url(item + 1)
    }

    fn render(&self, site: &Site, item: usize) -> Result<Vec<u8>, BuildError> {
        // Only this page's films' views.
        let films: Vec<_> =
            items_of(item + 1, site.film_count(), FILMS_PER_JSON_PAGE).map(|i| site.film_view(i)).collect();
        Ok(feeds::films_json(item + 1, film_pages(site), &films))
    }
}

impl FilmKind for FilmScheduleJson {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::FILM_SCHEDULE_JSON
    }

    fn count(&self, _film: &FilmSchedule) -> usize {
        1
    }

    fn url(&self, film: &FilmSchedule, _item: usize) -> String {
        site_paths::film_schedule_json_url(&film.view.slug)
    }

    /// The film's view and every one of its live showtimes.
    fn input_key(&self, site: &Site, film: &FilmSchedule, _item: usize) -> Digest {
        key(b"film-schedule-json", |h| {
            h.update(site.film_key(film.index).as_bytes());
            for s in &film.showtimes {
                hash_showtime(h, s);
            }
        })
    }

    fn render(&self, site: &Site, film: &FilmSchedule, _item: usize) -> Result<Vec<u8>, BuildError> {
        Ok(feeds::film_schedule_json(site.settings(), &film.view, film.showtimes.iter()))
    }
}
