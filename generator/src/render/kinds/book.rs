//! A showtime's booking page, `/book/<id>/`: the seat map and the booking form.

use cinema::site_paths::{self, UrlPattern};
use minijinja::{Value, context};

use super::super::json_ld;
use super::{FilmKind, FilmSchedule, Site, hash_showtime, key};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// Item `i` is the film's live showtime `i`.
pub struct Book;

impl FilmKind for Book {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::BOOK
    }

    fn count(&self, film: &FilmSchedule) -> usize {
        film.showtimes.len()
    }

    fn url(&self, film: &FilmSchedule, i: usize) -> String {
        site_paths::book_url(film.showtimes[i].id.as_str())
    }

    /// The showtime's film and the showtime itself.
    fn input_key(&self, site: &Site, film: &FilmSchedule, i: usize) -> Digest {
        key(b"book", |h| {
            h.update(site.film_key(film.index).as_bytes());
            hash_showtime(h, &film.showtimes[i]);
        })
    }

    fn render(&self, site: &Site, film: &FilmSchedule, i: usize) -> Result<Vec<u8>, BuildError> {
        let showtime = &site.showtime_view(&film.showtimes[i]);
        let ctx = context! {
            film => site.film_value(&film.view),
            showtime => Value::from_serialize(showtime),
            seat_map => site.seat_map(),
            seat_grid => site.seat_grid(),
            json_ld => Value::from_safe_string(json_ld::booking_page(site.settings(), &film.view, showtime)),
        };
        site.page("book.html", &showtime.url, ctx)
    }
}
