//! The home page, `/`, and its later pages, `/page/<n>/`: the studios, [`FILMS_PER_PAGE`] a
//! page, in catalog order. One page at 21 films; at 10,000 films 417 pages of about 40 KB,
//! where one page of every film was 12 MB. Pages link to their neighbours and to a window of
//! numbered pages with plain `<a href>`s (and `rel="prev"`/`"next"` in the head), which a
//! crawler and a keyboard follow alike. Site-wide (a page's films shift when one is added),
//! so rendered every build (no input key).

use cinema::site_paths::{self, UrlPattern};
use minijinja::{Value, context};

use super::super::pagination::{Pagination, items_of, page_count};
use super::{PageKind, Site};
use crate::error::BuildError;

/// Studios on one page of the index: a grid of 4, 3 or 2 columns fills evenly.
pub const FILMS_PER_PAGE: usize = 24;

/// The first page, `/`.
pub struct Index;

/// Item `i` is page `i + 2`, `/page/<i + 2>/`: none at 24 films or fewer.
pub struct IndexPage;

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
        render_page(site, 1)
    }
}

impl PageKind for IndexPage {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::INDEX_PAGE
    }

    fn count(&self, site: &Site) -> usize {
        page_count(site.film_count(), FILMS_PER_PAGE) - 1
    }

    fn url(&self, _site: &Site, item: usize) -> String {
        site_paths::index_page_url(item + 2)
    }

    fn render(&self, site: &Site, item: usize) -> Result<Vec<u8>, BuildError> {
        render_page(site, item + 2)
    }
}

/// Page `number` (from 1) of the index.
fn render_page(site: &Site, number: usize) -> Result<Vec<u8>, BuildError> {
    let films = site.film_count();
    let pagination = Pagination::new(number, page_count(films, FILMS_PER_PAGE), site_paths::index_page_url);
    let url = site_paths::index_page_url(number);
    // Only this page's films' values: a page never reads what it does not show.
    let shown: Vec<Value> =
        items_of(number, films, FILMS_PER_PAGE).map(|i| site.film_value(&site.film_view(i))).collect();
    let ctx = context! {
        films => shown,
        film_count => films,
        pagination => Value::from_serialize(&pagination),
    };
    site.page("index.html", &url, ctx)
}
