//! The sitemap, for search engines: `/sitemap.xml` is a sitemap index naming its parts,
//! `/sitemaps/<n>.xml`, each listing [`URLS_PER_PART`] of the pages worth indexing (the
//! index's pages, then the films'). One file of every page was 175,000 URLs at 10,000 films
//! (with the booking pages); a part stays under 200 KB with URLs of up to 200 characters.
//! Site-wide, so rendered every build (no input key).

use cinema::site_paths::{self, UrlPattern};

use super::super::feeds;
use super::super::pagination::{items_of, page_count};
use super::index::FILMS_PER_PAGE;
use super::{PageKind, Site};
use crate::error::BuildError;

/// Pages one sitemap part lists (search engines take up to 50,000).
pub const URLS_PER_PART: usize = 1000;

/// `/sitemap.xml`, the sitemap index.
pub struct Sitemap;

/// Item `i` is part `i + 1`.
pub struct SitemapPart;

/// How many pages the sitemap lists: the index's pages, then one per film.
fn urls(site: &Site) -> usize {
    index_pages(site) + site.film_count()
}

fn index_pages(site: &Site) -> usize {
    page_count(site.film_count(), FILMS_PER_PAGE)
}

/// The sitemap's `n`th page's URL (from 0).
fn url_of(site: &Site, n: usize) -> String {
    let index_pages = index_pages(site);
    if n < index_pages { site_paths::index_page_url(n + 1) } else { site.film_url(n - index_pages) }
}

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
        Ok(feeds::sitemap_index(site.settings(), page_count(urls(site), URLS_PER_PART)).into_bytes())
    }
}

impl PageKind for SitemapPart {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::SITEMAP_PART
    }

    fn count(&self, site: &Site) -> usize {
        page_count(urls(site), URLS_PER_PART)
    }

    fn url(&self, _site: &Site, item: usize) -> String {
        site_paths::sitemap_part_url(item + 1)
    }

    fn render(&self, site: &Site, item: usize) -> Result<Vec<u8>, BuildError> {
        let listed = items_of(item + 1, urls(site), URLS_PER_PART).map(|n| url_of(site, n));
        Ok(feeds::sitemap_part(site.settings(), listed).into_bytes())
    }
}
