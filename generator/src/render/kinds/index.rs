//! The home page, `/`: every film.

use cinema::site_paths;
use minijinja::context;

use super::super::Renderer;
use crate::error::BuildError;

pub fn path() -> String {
    site_paths::file_of(site_paths::INDEX_URL)
}

pub fn render(r: &Renderer) -> Result<Vec<u8>, BuildError> {
    r.page("index.html", site_paths::INDEX_URL, context! { films => &r.film_values })
}
