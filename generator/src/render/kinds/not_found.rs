//! The page a server answers for a path the site does not hold, `/404.html`.

use cinema::site_paths::{self, UrlPattern};
use minijinja::context;

use super::{PageKind, Site};
use crate::error::BuildError;

pub struct NotFound;

impl PageKind for NotFound {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::NOT_FOUND
    }

    fn count(&self, _site: &Site) -> usize {
        1
    }

    fn url(&self, _site: &Site, _item: usize) -> String {
        site_paths::NOT_FOUND_URL.to_string()
    }

    fn render(&self, site: &Site, _item: usize) -> Result<Vec<u8>, BuildError> {
        site.page("404.html", site_paths::NOT_FOUND_URL, context! {})
    }
}
