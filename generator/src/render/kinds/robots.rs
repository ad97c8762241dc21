//! `/robots.txt`: allows everything but the manage page, and names the sitemap. Rendered
//! every build (no input key).

use cinema::site_paths::{self, UrlPattern};

use super::super::feeds;
use super::{PageKind, Site};
use crate::error::BuildError;

pub struct Robots;

impl PageKind for Robots {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::ROBOTS
    }

    fn count(&self, _site: &Site) -> usize {
        1
    }

    fn url(&self, _site: &Site, _item: usize) -> String {
        site_paths::ROBOTS_URL.to_string()
    }

    fn render(&self, site: &Site, _item: usize) -> Result<Vec<u8>, BuildError> {
        Ok(feeds::robots(site.settings()).into_bytes())
    }
}
