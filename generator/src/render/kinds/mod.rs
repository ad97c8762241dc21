//! Page kinds, one file each. A kind declares everything about its files:
//! - where they are: its URL pattern in [`cinema::site_paths`], which also holds the pattern's
//!   cache class, so the booking service (which serves the files) and the generator read the
//!   class from the same line;
//! - how many there are and each one's URL;
//! - what each is made from: its input key, so an incremental build skips a file when
//!   nothing it reads changed;
//! - how it is rendered.
//!
//! A kind reads the build only through [`Site`]'s methods. Adding a kind is its file here
//! (with its pattern in `site_paths`) and one line in [`KINDS`].
//!
//! There is no commit order to declare: a build writes every file into a new folder that no
//! reader sees, and publishes the folder whole by one `rename(2)` (see `output`), so no file
//! can be seen before another one it links to.

pub mod asset;
pub mod book;
pub mod booking;
pub mod calendar;
pub mod film;
pub mod index;
pub mod not_found;
pub mod poster;
pub mod robots;
pub mod schedule_json;
pub mod sitemap;

use cinema::Showtime;
use cinema::site_paths::UrlPattern;

use super::site::{FilmSchedule, Site};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// One kind of file of the site. Its files are numbered `0..count`; the number means what the
/// kind says (film `i`, showtime `i`, asset `i` of [`Site`]).
pub trait PageKind: Sync {
    /// The shape of this kind's URLs and their cache class, from [`cinema::site_paths`].
    /// Every URL [`PageKind::url`] gives matches it.
    fn pattern(&self) -> &'static UrlPattern;

    /// How many files of this kind the site has.
    fn count(&self, site: &Site) -> usize;

    /// File `item`'s URL (`/films/akira/`); its path under the output root follows from it
    /// ([`cinema::site_paths::file_of`]).
    fn url(&self, site: &Site, item: usize) -> String;

    /// A hash of everything file `item` is made from, or `None` (the default) when it is
    /// rendered every build: equal keys must mean equal bytes.
    fn input_key(&self, _site: &Site, _item: usize) -> Option<Digest> {
        None
    }

    /// File `item`'s bytes.
    fn render(&self, site: &Site, item: usize) -> Result<Vec<u8>, BuildError>;
}

/// One kind of a film's own files, made from the film and its live showtimes
/// ([`FilmSchedule`]): its files are numbered `0..count` for each film (the film's page is its
/// only one; booking page `i` is the film's `i`th showtime's). A build reads a film's
/// showtimes once, renders every film kind's files of it, and drops them.
pub trait FilmKind: Sync {
    /// The shape of this kind's URLs and their cache class, from [`cinema::site_paths`].
    fn pattern(&self) -> &'static UrlPattern;

    /// How many files of this kind `film` has.
    fn count(&self, film: &FilmSchedule) -> usize;

    /// File `item`'s URL; its path under the output root follows from it.
    fn url(&self, film: &FilmSchedule, item: usize) -> String;

    /// A hash of everything file `item` is made from: equal keys must mean equal bytes.
    fn input_key(&self, site: &Site, film: &FilmSchedule, item: usize) -> Digest;

    /// File `item`'s bytes.
    fn render(&self, site: &Site, film: &FilmSchedule, item: usize) -> Result<Vec<u8>, BuildError>;
}

/// Every kind of file the generator writes that is not one film's own: site-wide files, the
/// index's and the film list's pages (a few films each), posters, assets.
pub static KINDS: &[&dyn PageKind] = &[
    &index::Index,
    &index::IndexPage,
    &booking::Booking,
    &not_found::NotFound,
    &sitemap::Sitemap,
    &sitemap::SitemapPart,
    &robots::Robots,
    &schedule_json::ScheduleJson,
    &schedule_json::FilmsJson,
    &poster::Poster,
    &asset::Asset,
];

/// Every kind of a film's own files.
pub static FILM_KINDS: &[&dyn FilmKind] =
    &[&film::FilmPage, &schedule_json::FilmScheduleJson, &book::Book, &calendar::ShowtimeCalendar];

/// An input key: `tag` (the kind's, so two kinds never share a key) and what `feed` adds.
fn key(tag: &[u8], feed: impl FnOnce(&mut blake3::Hasher)) -> Digest {
    let mut h = blake3::Hasher::new();
    h.update(tag);
    feed(&mut h);
    Digest::from(h.finalize())
}

/// Feeds a showtime's identity and times into a key.
fn hash_showtime(h: &mut blake3::Hasher, s: &Showtime) {
    h.update(s.id.as_str().as_bytes());
    h.update(&s.starts_at.timestamp().to_le_bytes());
    h.update(&s.ends_at.timestamp().to_le_bytes());
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use cinema::Catalog;
    use cinema::schedule::plan_horizon;
    use cinema::site_paths::{self, CacheClass};

    use super::*;
    use crate::render::ThemePaths;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
    }

    /// Every file of every kind, from the real content and theme, is named by its kind's
    /// pattern and by no other: the service, which finds a file's class by its pattern, gives
    /// it the class the kind declares. The classes themselves are pinned here per kind.
    #[test]
    fn every_file_of_a_kind_has_its_kinds_pattern_and_cache_class() {
        let catalog = Catalog::load(&repo().join("content")).unwrap();
        let showtimes = plan_horizon(&catalog, "2026-11-24T01:00:00Z".parse().unwrap());
        let theme = ThemePaths::new(&repo().join("themes/time-gallery"));
        let site = Site::new(&catalog, &theme, blake3::hash(b"theme")).unwrap();
        let expected = |pattern: &str| match pattern {
            "/posters/{slug}.{ext}" | "/robots.txt" => CacheClass::Short,
            "/assets/{path}.{hash}.{ext}" => CacheClass::Immutable,
            _ => CacheClass::Revalidate,
        };
        for kind in KINDS {
            let pattern = kind.pattern();
            let count = kind.count(&site);
            // The index's later pages begin past 24 films; the real site has 21.
            let may_be_empty = *pattern == site_paths::INDEX_PAGE;
            assert!(count > 0 || may_be_empty, "{}: the real site has files of every kind", pattern.pattern);
            for item in 0..count {
                let file = site_paths::file_of(&kind.url(&site, item));
                assert_eq!(site_paths::kind_of(Path::new(&file)), Some(pattern), "{file}");
                assert_eq!(site_paths::cache_class(Path::new(&file)), expected(pattern.pattern), "{file}");
            }
        }
        for i in 0..site.film_count() {
            let mine = showtimes.iter().filter(|s| s.film_slug == catalog.films[i].slug).cloned().collect();
            let film = site.film_schedule(i, mine);
            for kind in FILM_KINDS {
                let pattern = kind.pattern();
                assert!(
                    kind.count(&film) > 0,
                    "{}: every film of the real site has files of every kind",
                    pattern.pattern
                );
                for item in 0..kind.count(&film) {
                    let file = site_paths::file_of(&kind.url(&film, item));
                    assert_eq!(site_paths::kind_of(Path::new(&file)), Some(pattern), "{file}");
                    assert_eq!(site_paths::cache_class(Path::new(&file)), expected(pattern.pattern), "{file}");
                }
            }
        }
        for pattern in site_paths::PATTERNS {
            let declaring = KINDS.iter().filter(|k| k.pattern() == pattern).count()
                + FILM_KINDS.iter().filter(|k| k.pattern() == pattern).count();
            assert_eq!(declaring, 1, "{}: one kind writes each kind of file", pattern.pattern);
        }
    }
}
