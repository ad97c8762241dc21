//! A showtime's booking page, `/book/<id>/`: the seat map and the booking form.

use cinema::site_paths::{self, UrlPattern};
use minijinja::{Value, context};

use super::super::json_ld;
use super::{PageKind, Site, hash_showtime, key};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// Item `i` is live showtime `i`.
pub struct Book;

impl PageKind for Book {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::BOOK
    }

    fn count(&self, site: &Site) -> usize {
        site.showtimes().len()
    }

    fn url(&self, site: &Site, i: usize) -> String {
        site_paths::book_url(site.showtimes()[i].id.as_str())
    }

    /// The showtime's film and the showtime itself. `None` when the film is gone (the page is
    /// then rendered, and fails saying so).
    fn input_key(&self, site: &Site, i: usize) -> Option<Digest> {
        let showtime = &site.showtimes()[i];
        let f = site.film_of(showtime)?;
        Some(key(b"book", |h| {
            h.update(site.film_key(f).as_bytes());
            hash_showtime(h, showtime);
        }))
    }

    fn render(&self, site: &Site, i: usize) -> Result<Vec<u8>, BuildError> {
        let showtime = &site.showtime_view(&site.showtimes()[i]);
        let f = site.film_of(&site.showtimes()[i]).ok_or_else(|| {
            BuildError::Other(format!(
                "showtime {} is of film {:?}, which is no longer in content/films; restore the film or let its showtimes pass",
                showtime.id, showtime.film_slug
            ))
        })?;
        let ctx = context! {
            film => site.film_value(f),
            showtime => Value::from_serialize(showtime),
            seat_map => site.seat_map(),
            seat_grid => site.seat_grid(),
            json_ld => Value::from_safe_string(json_ld::booking_page(site.settings(), &site.films()[f], showtime)),
        };
        site.page("book.html", &showtime.url, ctx)
    }
}
