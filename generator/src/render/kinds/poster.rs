//! A film's poster, `/posters/<slug>.<ext>`: the film's own image, or an SVG drawn for it.

use cinema::site_paths;

use super::super::{Renderer, poster, poster_url};
use crate::error::BuildError;

/// Where film `i`'s poster goes, under the output root.
pub fn path(r: &Renderer, i: usize) -> String {
    site_paths::file_of(&poster_url(&r.catalog.films[i]))
}

/// A drawn poster is made from the film's view; a film's own image has no key (it is read
/// every build, and linked from the published build when its bytes are the same).
pub fn input_key(r: &Renderer, i: usize, h: &mut blake3::Hasher) -> Option<()> {
    if r.catalog.films[i].poster.is_some() {
        return None;
    }
    h.update(b"poster").update(r.film_keys[i].as_bytes());
    Some(())
}

pub fn render(r: &Renderer, i: usize) -> Result<Vec<u8>, BuildError> {
    let film = &r.catalog.films[i];
    Ok(match r.catalog.read_poster(film)? {
        Some(bytes) => bytes,
        None => poster::svg(film, &r.catalog.settings.name).into_bytes(),
    })
}
