//! A showtime's booking page, `/book/<id>/`: the seat map and the booking form.

use cinema::site_paths;
use minijinja::{Value, context};

use super::super::views::ShowtimeView;
use super::super::{Renderer, hash_showtime, json_ld};
use crate::error::BuildError;

/// Where showtime `i`'s page goes, under the output root.
pub fn path(r: &Renderer, i: usize) -> String {
    site_paths::file_of(&site_paths::book_url(r.showtimes[i].id.as_str()))
}

/// The showtime's film and the showtime itself. `None` when the film is gone (the page is
/// then rendered, and fails saying so).
pub fn input_key(r: &Renderer, i: usize, h: &mut blake3::Hasher) -> Option<()> {
    let showtime = &r.showtimes[i];
    let f = *r.film_by_slug.get(&showtime.film_slug)?;
    h.update(b"book").update(r.film_keys[f].as_bytes());
    hash_showtime(h, showtime);
    Some(())
}

pub fn render(r: &Renderer, i: usize) -> Result<Vec<u8>, BuildError> {
    let showtime = &ShowtimeView::new(&r.showtimes[i], r.tz);
    let f = r.film_by_slug.get(&showtime.film_slug).copied().ok_or_else(|| {
        BuildError::Other(format!(
            "showtime {} is of film {:?}, which is no longer in content/films; restore the film or let its showtimes pass",
            showtime.id, showtime.film_slug
        ))
    })?;
    let ctx = context! {
        film => &r.film_values[f],
        showtime => Value::from_serialize(showtime),
        seat_map => &r.seat_map,
        seat_grid => &r.seat_grid,
        json_ld => Value::from_safe_string(json_ld::booking_page(&r.catalog.settings, &r.films[f], showtime)),
    };
    r.page("book.html", &showtime.url, ctx)
}
