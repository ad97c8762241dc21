//! The sitemap, `/sitemap.xml`: the home page and every film page, for search engines.
//! Site-wide, so rendered every build (no input key).

use cinema::site_paths::{self, UrlPattern};

use super::super::feeds;
use super::{PageKind, Site};
use crate::error::BuildError;

pub struct Sitemap;

impl PageKind for Sitemap {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::SITEMAP
    }

    fn count(&self, _site: &Site) -> usize {
        1
    }

    fn url(&self, _site: &Site, _item: usize) -> String {
        site_paths::SITEMAP_URL.to_string()
    }

    fn render(&self, site: &Site, _item: usize) -> Result<Vec<u8>, BuildError> {
        Ok(feeds::sitemap(site.settings(), site.films()).into_bytes())
    }
}
