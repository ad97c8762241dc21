//! Where every kind of file of the site lives, and how long it may be cached: one list that
//! the generator (which writes the files), the booking service (which serves them with a
//! `Cache-Control`) and, through the templates' `data-url-*` attributes, the theme's scripts
//! all read, so a URL is spelled once.
//!
//! Each kind of file is a [`UrlPattern`]: its URLs with `{placeholders}` (`/films/{slug}/`) and
//! the [`CacheClass`] of every file it names. The generator's page kinds each declare theirs
//! (`generator/src/render/kinds/`); the service finds a served file's class by matching its
//! path against the same list ([`cache_class`]), so a new kind's caching is decided where its
//! URL is, not by its file extension.
//!
//! A page's URL is what links name (`/films/akira/`); its file is where it sits under the
//! output root (`films/akira/index.html`). [`file_of`] turns the one into the other.

use std::path::{Component, Path};

/// How long a file of the site may be cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheClass {
    /// An asset named by its content hash: its URL changes whenever its bytes do.
    Immutable,
    /// Pages and feeds keep their URLs while their content changes: always revalidated.
    Revalidate,
    /// Files that change rarely and may be an hour old (posters, `robots.txt`).
    Short,
}

/// A kind of file of the site: the shape of its URLs and how long each may be cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlPattern {
    /// The URL with `{name}` placeholders. A placeholder stands for one or more characters of
    /// one path segment, except two: `{path}` may span segments (`icons/star`) and `{hash}` is
    /// 8 or more hex digits (an asset's content hash).
    pub pattern: &'static str,
    pub cache: CacheClass,
}

/// The home page.
pub const INDEX: UrlPattern = UrlPattern { pattern: "/", cache: CacheClass::Revalidate };
/// A film's page.
pub const FILM: UrlPattern = UrlPattern { pattern: "/films/{slug}/", cache: CacheClass::Revalidate };
/// The home page's later pages: the studios, a fixed number a page, the first on [`INDEX`].
pub const INDEX_PAGE: UrlPattern = UrlPattern { pattern: "/page/{n}/", cache: CacheClass::Revalidate };
/// A live showtime's booking page.
pub const BOOK: UrlPattern = UrlPattern { pattern: "/book/{id}/", cache: CacheClass::Revalidate };
/// A live showtime's "add to calendar" file (`.ics`), beside its booking page. Revalidated: a
/// film's title may change while the URL stays.
pub const BOOK_CALENDAR: UrlPattern = UrlPattern { pattern: "/book/{id}/calendar.ics", cache: CacheClass::Revalidate };
/// The "my booking" page: a booking opened by its reference and manage token.
pub const BOOKING: UrlPattern = UrlPattern { pattern: "/booking/", cache: CacheClass::Revalidate };
/// The page a server answers for a path the site does not hold.
pub const NOT_FOUND: UrlPattern = UrlPattern { pattern: "/404.html", cache: CacheClass::Revalidate };
/// The sitemap, for search engines: a sitemap index naming the [`SITEMAP_PART`]s, so that no
/// sitemap file grows with the catalog.
pub const SITEMAP: UrlPattern = UrlPattern { pattern: "/sitemap.xml", cache: CacheClass::Revalidate };
/// One part of the sitemap: a fixed number of the site's pages at most.
pub const SITEMAP_PART: UrlPattern = UrlPattern { pattern: "/sitemaps/{n}.xml", cache: CacheClass::Revalidate };
/// `robots.txt`: it names the sitemap and changes only with the base URL.
pub const ROBOTS: UrlPattern = UrlPattern { pattern: "/robots.txt", cache: CacheClass::Short };
/// The schedule's table of contents, as JSON, for kiosks and apps: the cinema, its zone, the
/// pattern of a film's schedule ([`FILM_SCHEDULE_JSON`]) and the pages of the film list
/// ([`FILMS_JSON`]). Small whatever the catalog: the showtimes are in the films' files.
pub const SCHEDULE_JSON: UrlPattern = UrlPattern { pattern: "/api/schedule.json", cache: CacheClass::Revalidate };
/// One film's live showtimes, as JSON: a file per film, so none grows with the catalog.
pub const FILM_SCHEDULE_JSON: UrlPattern =
    UrlPattern { pattern: "/api/films/{slug}/schedule.json", cache: CacheClass::Revalidate };
/// One page of the film list, as JSON: each film's slug, title, studio and schedule's URL.
pub const FILMS_JSON: UrlPattern = UrlPattern { pattern: "/api/films/page-{n}.json", cache: CacheClass::Revalidate };
/// A film's poster: its own image or one drawn for it. Its URL keeps no hash, so an hour.
pub const POSTER: UrlPattern = UrlPattern { pattern: "/posters/{slug}.{ext}", cache: CacheClass::Short };
/// One of the theme's assets, named by its content hash (`site.1a2b3c4d.css`).
pub const ASSET: UrlPattern = UrlPattern { pattern: "/assets/{path}.{hash}.{ext}", cache: CacheClass::Immutable };

/// Every kind of file the site has. A file no pattern names (nothing the generator writes) is
/// [`CacheClass::Revalidate`]d: never stale, at worst a `304` more.
pub const PATTERNS: &[UrlPattern] = &[
    INDEX,
    INDEX_PAGE,
    FILM,
    BOOK,
    BOOK_CALENDAR,
    BOOKING,
    NOT_FOUND,
    SITEMAP,
    SITEMAP_PART,
    ROBOTS,
    SCHEDULE_JSON,
    FILM_SCHEDULE_JSON,
    FILMS_JSON,
    POSTER,
    ASSET,
];

/// The home page's URL.
pub const INDEX_URL: &str = INDEX.pattern;
/// The "my booking" page's URL.
pub const BOOKING_URL: &str = BOOKING.pattern;
/// The 404 page's URL.
pub const NOT_FOUND_URL: &str = NOT_FOUND.pattern;
/// The sitemap's URL.
pub const SITEMAP_URL: &str = SITEMAP.pattern;
/// `robots.txt`'s URL.
pub const ROBOTS_URL: &str = ROBOTS.pattern;
/// The schedule JSON's URL.
pub const SCHEDULE_JSON_URL: &str = SCHEDULE_JSON.pattern;
/// The folder of the theme's assets, the first segment of [`ASSET`]'s URLs.
pub const ASSETS_DIR: &str = "assets";

/// Page `n` (from 1) of the home page's studios: `/` for the first, `/page/<n>/` after.
pub fn index_page_url(n: usize) -> String {
    if n <= 1 { INDEX_URL.to_string() } else { INDEX_PAGE.fill(&[&n.to_string()]) }
}

/// Part `n` (from 1) of the sitemap: `/sitemaps/<n>.xml`.
pub fn sitemap_part_url(n: usize) -> String {
    SITEMAP_PART.fill(&[&n.to_string()])
}

/// A film's schedule: `/api/films/<slug>/schedule.json`.
pub fn film_schedule_json_url(slug: &str) -> String {
    FILM_SCHEDULE_JSON.fill(&[slug])
}

/// Page `n` (from 1) of the film list: `/api/films/page-<n>.json`.
pub fn films_json_url(n: usize) -> String {
    FILMS_JSON.fill(&[&n.to_string()])
}

/// A film's page: `/films/<slug>/`.
pub fn film_url(slug: &str) -> String {
    FILM.fill(&[slug])
}

/// A showtime's booking page: `/book/<id>/`.
pub fn book_url(showtime_id: &str) -> String {
    BOOK.fill(&[showtime_id])
}

/// A showtime's calendar file: `/book/<id>/calendar.ics`.
pub fn book_calendar_url(showtime_id: &str) -> String {
    BOOK_CALENDAR.fill(&[showtime_id])
}

/// A film's poster: `/posters/<slug>.<ext>`.
pub fn poster_url(slug: &str, ext: &str) -> String {
    POSTER.fill(&[slug, ext])
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

/// The cache class of a file, from its path relative to the site's root: the class of the
/// first of [`PATTERNS`] that names it, else [`CacheClass::Revalidate`].
pub fn cache_class(relative: &Path) -> CacheClass {
    kind_of(relative).map_or(CacheClass::Revalidate, |p| p.cache)
}

/// The kind of file a path relative to the site's root is, if any.
pub fn kind_of(relative: &Path) -> Option<&'static UrlPattern> {
    let segments: Option<Vec<&str>> = relative
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let file = segments?.join("/");
    PATTERNS.iter().find(|p| p.names_file(&file))
}

impl UrlPattern {
    /// The URL with its placeholders replaced, in order, by `values` (which must fit them:
    /// a slug or id holds no `/`).
    pub fn fill(&self, values: &[&str]) -> String {
        let mut out = String::with_capacity(self.pattern.len() + values.iter().map(|v| v.len()).sum::<usize>());
        let mut rest = self.pattern;
        let mut values = values.iter();
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}').expect("a placeholder is closed");
            out.push_str(&rest[..open]);
            out.push_str(values.next().expect("a value for every placeholder"));
            rest = &rest[close + 1..];
        }
        debug_assert!(values.next().is_none(), "more values than {}'s placeholders", self.pattern);
        out.push_str(rest);
        out
    }

    /// Whether `file`, relative to the output root (`films/akira/index.html`), is one of this
    /// pattern's files.
    pub fn names_file(&self, file: &str) -> bool {
        matches(&file_of(self.pattern), file)
    }
}

/// Whether `text` is `pattern` with its placeholders filled by values that fit them.
fn matches(pattern: &str, text: &str) -> bool {
    let Some(open) = pattern.find('{') else { return pattern == text };
    let Some(text) = text.strip_prefix(&pattern[..open]) else { return false };
    let close = open + pattern[open..].find('}').expect("a placeholder is closed");
    let (name, after) = (&pattern[open + 1..close], &pattern[close + 1..]);
    // Every split of `text` whose first part fits the placeholder: patterns are short and
    // values a few dozen characters, so trying each is cheaper than anything cleverer.
    (1..=text.len()).filter(|&end| text.is_char_boundary(end)).any(|end| {
        let value = &text[..end];
        fits(name, value) && matches(after, &text[end..])
    })
}

/// Whether `value` may stand for the placeholder `name`.
fn fits(name: &str, value: &str) -> bool {
    match name {
        "path" => !value.starts_with('/') && !value.ends_with('/') && !value.contains("//"),
        "hash" => value.len() >= 8 && value.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => !value.contains('/'),
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
        assert_eq!(file_of(&book_calendar_url("a-1")), "book/a-1/calendar.ics");
        assert_eq!(file_of(NOT_FOUND_URL), "404.html");
        assert_eq!(file_of(SITEMAP_URL), "sitemap.xml");
        assert_eq!(file_of(ROBOTS_URL), "robots.txt");
        assert_eq!(file_of(SCHEDULE_JSON_URL), "api/schedule.json");
        assert_eq!(file_of(&poster_url("akira", "png")), "posters/akira.png");
        assert_eq!(index_page_url(1), "/");
        assert_eq!(file_of(&index_page_url(2)), "page/2/index.html");
        assert_eq!(file_of(&sitemap_part_url(3)), "sitemaps/3.xml");
        assert_eq!(file_of(&film_schedule_json_url("akira")), "api/films/akira/schedule.json");
        assert_eq!(file_of(&films_json_url(2)), "api/films/page-2.json");
    }

    #[test]
    fn assets_are_the_files_under_the_assets_folder() {
        assert!(is_asset("assets/site.1a2b3c4d.css"));
        assert!(!is_asset("assetsx/site.css"));
        assert!(!is_asset("posters/assets.svg"));
    }

    #[test]
    fn only_hashed_assets_are_immutable_and_files_of_no_kind_are_revalidated() {
        let class = |p: &str| cache_class(Path::new(p));
        assert_eq!(class("assets/site.1a2b3c4d.css"), CacheClass::Immutable);
        assert_eq!(class("assets/posters/akira.0123abcd.svg"), CacheClass::Immutable);
        assert_eq!(class("assets/site.css"), CacheClass::Revalidate, "not hashed: no kind of ours");
        assert_eq!(class("site.1a2b3c4d.css"), CacheClass::Revalidate, "hashed names outside assets/ are not ours");
        assert_eq!(class("assets/site.1a2b3c4.css"), CacheClass::Revalidate, "too short to be a hash");
        assert_eq!(class("assets/site.gggggggg.css"), CacheClass::Revalidate);
        assert_eq!(class("assets//site.1a2b3c4d.css"), CacheClass::Immutable, "a path's empty segments are dropped");
        assert_eq!(class("../assets/site.1a2b3c4d.css"), CacheClass::Revalidate, "only plain segments");
        assert_eq!(class("notes.txt"), CacheClass::Revalidate);
    }

    #[test]
    fn every_page_and_feed_is_revalidated_and_posters_and_robots_are_short() {
        let class = |url: &str| cache_class(Path::new(&file_of(url)));
        for url in [INDEX_URL, BOOKING_URL, NOT_FOUND_URL, SITEMAP_URL, SCHEDULE_JSON_URL, index_page_url(2).as_str()] {
            assert_eq!(class(url), CacheClass::Revalidate, "{url}");
        }
        assert_eq!(class(&film_url("akira")), CacheClass::Revalidate);
        assert_eq!(class(&book_url("a-1")), CacheClass::Revalidate);
        assert_eq!(class(&book_calendar_url("a-1")), CacheClass::Revalidate);
        assert_eq!(class(&sitemap_part_url(1)), CacheClass::Revalidate);
        assert_eq!(class(&film_schedule_json_url("akira")), CacheClass::Revalidate);
        assert_eq!(class(&films_json_url(1)), CacheClass::Revalidate);
        assert_eq!(class(ROBOTS_URL), CacheClass::Short);
        assert_eq!(class(&poster_url("akira", "svg")), CacheClass::Short);
    }

    /// A file of each kind, made from its pattern, is of that kind and no other: the list has
    /// no two patterns naming the same file, whatever their order.
    #[test]
    fn each_patterns_files_are_its_own() {
        let example = |name: &str| match name {
            "hash" => "0123abcdef",
            "path" => "icons/star",
            "ext" => "svg",
            _ => "akira-20261124-1800",
        };
        for pattern in PATTERNS {
            let names: Vec<&str> = pattern.pattern.split('{').skip(1).map(|s| &s[..s.find('}').unwrap()]).collect();
            let values: Vec<&str> = names.iter().map(|n| example(n)).collect();
            let file = file_of(&pattern.fill(&values));
            let naming: Vec<&str> = PATTERNS.iter().filter(|p| p.names_file(&file)).map(|p| p.pattern).collect();
            assert_eq!(naming, [pattern.pattern], "{file}");
            assert_eq!(kind_of(Path::new(&file)), Some(pattern));
        }
    }

    #[test]
    fn placeholders_hold_one_segment_unless_they_are_a_path() {
        assert!(FILM.names_file("films/akira/index.html"));
        assert!(!FILM.names_file("films/akira/extra/index.html"));
        assert!(!FILM.names_file("films//index.html"), "a placeholder is never empty");
        assert!(!BOOK.names_file("book/a-1/calendar.ics"));
        assert!(BOOK_CALENDAR.names_file("book/a-1/calendar.ics"));
        assert!(!BOOK_CALENDAR.names_file("book/a-1/x/calendar.ics"));
        assert!(POSTER.names_file("posters/akira.v2.png"), "the slug takes what the extension leaves");
        assert!(ASSET.names_file("assets/icons/star.0123abcd.svg"));
        assert!(!ASSET.names_file("assets/.0123abcd.svg"));
        assert_eq!(ASSET.pattern.split('/').nth(1), Some(ASSETS_DIR));
    }

    #[test]
    fn fill_puts_values_in_order() {
        assert_eq!(POSTER.fill(&["akira", "png"]), "/posters/akira.png");
        assert_eq!(INDEX.fill(&[]), "/");
    }
}
