//! The page a server answers for a path the site does not hold, `/404.html`.

use cinema::site_paths;
use minijinja::context;

use super::super::Renderer;
use crate::error::BuildError;

pub fn path() -> String {
    site_paths::file_of(site_paths::NOT_FOUND_URL)
}

pub fn render(r: &Renderer) -> Result<Vec<u8>, BuildError> {
    r.page("404.html", site_paths::NOT_FOUND_URL, context! {})
}
