//! Where every kind of file of the site lives, and how long it may be cached: one list that
//! the generator (which writes the files) and the booking service (which serves them with a
//! `Cache-Control`) both read, so a URL is spelled once in Rust. The theme's JavaScript does
//! not read it yet: its scripts still spell `/films/`, `/book/` and `/booking/` themselves;
//! the templates are to hand these to them as `data-` attributes (issue 11).
//!
//! A page's URL is what links name (`/films/akira/`); its file is where it sits under the
//! output root (`films/akira/index.html`). [`file_of`] turns the one into the other.

use std::path::Path;

/// The home page.
pub const INDEX_URL: &str = "/";
/// The "my booking" page: a booking opened by its reference and manage token.
pub const BOOKING_URL: &str = "/booking/";
/// The page a server answers for a path the site does not hold.
pub const NOT_FOUND_URL: &str = "/404.html";
/// The sitemap, for search engines.
pub const SITEMAP_URL: &str = "/sitemap.xml";
/// `robots.txt`.
pub const ROBOTS_URL: &str = "/robots.txt";
/// Every live showtime, as JSON, for the pages' scripts.
pub const SCHEDULE_JSON_URL: &str = "/api/schedule.json";
/// The folder of the theme's assets, named by content hash (`site.1a2b3c4d.css`).
pub const ASSETS_DIR: &str = "assets";

/// A film's page: `/films/<slug>/`.
pub fn film_url(slug: &str) -> String {
    format!("/films/{slug}/")
}

/// A showtime's booking page: `/book/<id>/`.
pub fn book_url(showtime_id: &str) -> String {
    format!("/book/{showtime_id}/")
}

/// A film's poster: `/posters/<slug>.<ext>`.
pub fn poster_url(slug: &str, ext: &str) -> String {
    format!("/posters/{slug}.{ext}")
}

/// The file under the output root that answers `url`: a URL ending in `/` is a folder's
/// `index.html`, any other names its file.
pub fn file_of(url: &str) -> String {
    let path = url.trim_start_matches('/');
    if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path.to_string() }
}

/// Whether a file (relative to the output root) is one of the theme's assets.
pub fn is_asset(file: &str) -> bool {
    file.split('/').next() == Some(ASSETS_DIR)
}

/// How long a file of the site may be cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheClass {
    /// An asset named by its content hash: its URL changes whenever its bytes do.
    Immutable,
    /// Pages and feeds keep their URLs while their content changes: always revalidated.
    Revalidate,
    /// Everything else (posters, `robots.txt`, an unhashed asset): an hour.
    Short,
}

/// The cache class of a file, from its path relative to the site's root.
pub fn cache_class(relative: &Path) -> CacheClass {
    let in_assets = relative.components().next().is_some_and(|c| c.as_os_str() == ASSETS_DIR);
    let name = relative.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if in_assets && is_hashed(name) {
        CacheClass::Immutable
    } else if name.ends_with(".html") || name.ends_with(".xml") || name.ends_with(".json") {
        CacheClass::Revalidate
    } else {
        CacheClass::Short
    }
}

/// `site.1a2b3c4d.css`: a stem, a dot, at least 8 hex digits, a dot, an extension.
fn is_hashed(name: &str) -> bool {
    let mut parts = name.rsplitn(3, '.');
    let (_ext, hash, stem) = (parts.next(), parts.next(), parts.next());
    match (hash, stem) {
        (Some(hash), Some(stem)) => !stem.is_empty() && hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_folders_and_files_name_their_index() {
        assert_eq!(film_url("akira"), "/films/akira/");
        assert_eq!(book_url("akira-20261125-1900"), "/book/akira-20261125-1900/");
        assert_eq!(poster_url("akira", "svg"), "/posters/akira.svg");
        assert_eq!(file_of(INDEX_URL), "index.html");
        assert_eq!(file_of(BOOKING_URL), "booking/index.html");
        assert_eq!(file_of(&film_url("akira")), "films/akira/index.html");
        assert_eq!(file_of(&book_url("a-1")), "book/a-1/index.html");
        assert_eq!(file_of(NOT_FOUND_URL), "404.html");
        assert_eq!(file_of(SITEMAP_URL), "sitemap.xml");
        assert_eq!(file_of(ROBOTS_URL), "robots.txt");
        assert_eq!(file_of(SCHEDULE_JSON_URL), "api/schedule.json");
        assert_eq!(file_of(&poster_url("akira", "png")), "posters/akira.png");
    }

    #[test]
    fn assets_are_the_files_under_the_assets_folder() {
        assert!(is_asset("assets/site.1a2b3c4d.css"));
        assert!(!is_asset("assetsx/site.css"));
        assert!(!is_asset("posters/assets.svg"));
    }

    #[test]
    fn only_hashed_assets_are_immutable() {
        let class = |p: &str| cache_class(Path::new(p));
        assert_eq!(class("assets/site.1a2b3c4d.css"), CacheClass::Immutable);
        assert_eq!(class("assets/posters/akira.0123abcd.svg"), CacheClass::Immutable);
        assert_eq!(class("assets/site.css"), CacheClass::Short);
        assert_eq!(class("site.1a2b3c4d.css"), CacheClass::Short, "hashed names outside assets/ are not ours");
        assert_eq!(class("assets/site.1a2b3c4.css"), CacheClass::Short, "too short to be a hash");
        assert_eq!(class("assets/site.gggggggg.css"), CacheClass::Short);
    }

    #[test]
    fn every_page_and_feed_is_revalidated_and_posters_are_short() {
        let class = |url: &str| cache_class(Path::new(&file_of(url)));
        for url in [INDEX_URL, BOOKING_URL, NOT_FOUND_URL, SITEMAP_URL, SCHEDULE_JSON_URL] {
            assert_eq!(class(url), CacheClass::Revalidate, "{url}");
        }
        assert_eq!(class(&film_url("akira")), CacheClass::Revalidate);
        assert_eq!(class(&book_url("a-1")), CacheClass::Revalidate);
        assert_eq!(class(ROBOTS_URL), CacheClass::Short);
        assert_eq!(class(&poster_url("akira", "svg")), CacheClass::Short);
    }
}
