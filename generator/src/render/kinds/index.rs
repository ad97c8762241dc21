//! The home page, `/`: every film.

use cinema::site_paths::{self, UrlPattern};
use minijinja::context;

use super::{PageKind, Site};
use crate::error::BuildError;

pub struct Index;

impl PageKind for Index {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::INDEX
    }

    fn count(&self, _site: &Site) -> usize {
        1
    }

    fn url(&self, _site: &Site, _item: usize) -> String {
        site_paths::INDEX_URL.to_string()
    }

    fn render(&self, site: &Site, _item: usize) -> Result<Vec<u8>, BuildError> {
        site.page("index.html", site_paths::INDEX_URL, context! { films => site.film_values() })
    }
}
