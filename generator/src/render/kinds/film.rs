//! A film's page, `/films/<slug>/`: the film and its showtimes by day.

use cinema::site_paths::{self, UrlPattern};
use minijinja::{Value, context};

use super::super::json_ld;
use super::super::views::schedule_days;
use super::{PageKind, Site, hash_showtime, key};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// Item `i` is film `i`.
pub struct FilmPage;

impl PageKind for FilmPage {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::FILM
    }

    fn count(&self, site: &Site) -> usize {
        site.films().len()
    }

    fn url(&self, site: &Site, i: usize) -> String {
        site.films()[i].url.clone()
    }

    /// The film's view and every one of its live showtimes.
    fn input_key(&self, site: &Site, i: usize) -> Option<Digest> {
        Some(key(b"film", |h| {
            h.update(site.film_key(i).as_bytes());
            for s in site.showtimes_of(i) {
                hash_showtime(h, s);
            }
        }))
    }

    fn render(&self, site: &Site, i: usize) -> Result<Vec<u8>, BuildError> {
        let film = &site.films()[i];
        let mine = site.showtimes_of(i).map(|s| site.showtime_view(s)).collect();
        let ctx = context! {
            film => site.film_value(i),
            schedule => Value::from_serialize(schedule_days(mine)),
            json_ld => Value::from_safe_string(json_ld::film_page(site.settings(), film)),
        };
        site.page("film.html", &film.url, ctx)
    }
}
