//! A film's page, `/films/<slug>/`: the film and its showtimes by day.

use cinema::site_paths;
use minijinja::{Value, context};

use super::super::views::{ShowtimeView, schedule_days};
use super::super::{Renderer, hash_showtime, json_ld};
use crate::error::BuildError;

/// Where film `i`'s page goes, under the output root.
pub fn path(r: &Renderer, i: usize) -> String {
    site_paths::file_of(&r.films[i].url)
}

/// The film's view and every one of its live showtimes.
pub fn input_key(r: &Renderer, i: usize, h: &mut blake3::Hasher) {
    h.update(b"film").update(r.film_keys[i].as_bytes());
    for &s in &r.showtimes_by_film[i] {
        hash_showtime(h, &r.showtimes[s]);
    }
}

pub fn render(r: &Renderer, i: usize) -> Result<Vec<u8>, BuildError> {
    let film = &r.films[i];
    let mine: Vec<ShowtimeView> =
        r.showtimes_by_film[i].iter().map(|&s| ShowtimeView::new(&r.showtimes[s], r.tz)).collect();
    let ctx = context! {
        film => &r.film_values[i],
        schedule => Value::from_serialize(schedule_days(mine)),
        json_ld => Value::from_safe_string(json_ld::film_page(&r.catalog.settings, film)),
    };
    r.page("film.html", &film.url, ctx)
}
