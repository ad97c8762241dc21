//! A film's page, `/films/<slug>/`: the film and its showtimes by day.

use cinema::site_paths::{self, UrlPattern};
use minijinja::{Value, context};

use super::super::json_ld;
use super::super::views::schedule_days;
use super::{FilmKind, FilmSchedule, Site, hash_showtime, key};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// A film's one page.
pub struct FilmPage;

impl FilmKind for FilmPage {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::FILM
    }

    fn count(&self, _film: &FilmSchedule) -> usize {
        1
    }

    fn url(&self, film: &FilmSchedule, _item: usize) -> String {
        film.view.url.clone()
    }

    /// The film's view and every one of its live showtimes.
    fn input_key(&self, site: &Site, film: &FilmSchedule, _item: usize) -> Digest {
        key(b"film", |h| {
            h.update(site.film_key(film.index).as_bytes());
            for s in &film.showtimes {
                hash_showtime(h, s);
            }
        })
    }

    fn render(&self, site: &Site, film: &FilmSchedule, _item: usize) -> Result<Vec<u8>, BuildError> {
        let mine = film.showtimes.iter().map(|s| site.showtime_view(s)).collect();
        let ctx = context! {
            film => site.film_value(&film.view),
            schedule => Value::from_serialize(schedule_days(mine)),
            json_ld => Value::from_safe_string(json_ld::film_page(site.settings(), &film.view)),
        };
        site.page("film.html", &film.view.url, ctx)
    }
}
