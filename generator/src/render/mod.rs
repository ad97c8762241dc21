//! Rendering: the catalog, the live showtimes and a theme in; the bytes of every file out.
//!
//! A [`Site`] is made once per build (templates loaded, every film's key hashed); each kind of
//! file, one per file in `kinds/` and listed in `kinds::KINDS` (site-wide files, posters,
//! assets) or `kinds::FILM_KINDS` (a film's own page, schedule, booking pages and calendar
//! files), says how many files it has, where each goes, what it is made from and how it is
//! rendered, reading the build through the `Site` (and a film's [`FilmSchedule`]) alone. Any
//! file then renders independently of the others, which is what lets the build render in
//! parallel and stream files to disk without holding the site, or its schedule, in memory.

pub mod assets;
pub mod csp;
mod feeds;
pub mod json_ld;
mod kinds;
pub mod markdown;
mod pagination;
pub mod poster;
mod site;
pub mod views;

use std::fmt;
use std::path::{Path, PathBuf};

use cinema::content_file::{self, Limit};
use cinema::site_paths;
use cinema::{Catalog, Showtime, SiteSettings};
use minijinja::Value;
use rayon::prelude::*;

use self::kinds::{FILM_KINDS, FilmKind, KINDS, PageKind};
pub use self::site::FilmSchedule;
use self::site::Site;
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// A theme on disk: `templates/` and `assets/`.
pub struct ThemePaths {
    pub templates: PathBuf,
    pub assets: PathBuf,
}

impl ThemePaths {
    pub fn new(theme_dir: &Path) -> Self {
        ThemePaths { templates: theme_dir.join("templates"), assets: theme_dir.join("assets") }
    }
}

/// One file of the site to produce: the `item`th file of a page kind.
#[derive(Clone, Copy)]
pub struct PageJob {
    kind: &'static dyn PageKind,
    item: usize,
}

impl fmt::Debug for PageJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} #{}", self.kind.pattern().pattern, self.item)
    }
}

/// One of a film's own files: the `item`th file of a film kind.
#[derive(Clone, Copy)]
pub struct FilmJob {
    kind: &'static dyn FilmKind,
    item: usize,
}

impl fmt::Debug for FilmJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} #{}", self.kind.pattern().pattern, self.item)
    }
}

/// A rendered file: its path under the output root and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Renders the site's files: every job of every kind in [`kinds::KINDS`], each independently
/// of the others. The kinds say what each file is; this only hands them the build's [`Site`].
pub struct Renderer<'a> {
    site: Site<'a>,
}

impl<'a> Renderer<'a> {
    /// Prepares everything pages share.
    pub fn new(catalog: &'a Catalog, theme: &ThemePaths, theme_hash: blake3::Hash) -> Result<Self, BuildError> {
        Ok(Renderer { site: Site::new(catalog, theme, theme_hash)? })
    }

    /// Every file of the site but the films' own ([`Renderer::film_jobs`]), for many threads
    /// to render, never collected into a list.
    pub fn jobs(&self) -> impl ParallelIterator<Item = PageJob> + '_ {
        KINDS
            .par_iter()
            .flat_map(|&kind| (0..kind.count(&self.site)).into_par_iter().map(move |item| PageJob { kind, item }))
    }

    /// Where a job's file goes, under the output root.
    pub fn path(&self, job: &PageJob) -> String {
        site_paths::file_of(&job.kind.url(&self.site, job.item))
    }

    /// A hash of everything a file is made from, or `None` for the files that are simply
    /// rendered every time. Equal keys mean equal bytes, so a build skips rendering such a file
    /// when its key has not changed: an edit to one film re-renders that film's pages, not the
    /// whole site.
    pub fn input_key(&self, job: &PageJob) -> Option<Digest> {
        job.kind.input_key(&self.site, job.item)
    }

    /// Renders one file.
    pub fn render(&self, job: &PageJob) -> Result<Page, BuildError> {
        Ok(Page { path: self.path(job), bytes: job.kind.render(&self.site, job.item)? })
    }

    /// Film `i` (from 0, in catalog order) with its live `showtimes`, in start order: what its
    /// own files are made from. Pages of archived showtimes are simply not among them.
    pub fn film_schedule(&self, i: usize, showtimes: Vec<Showtime>) -> FilmSchedule {
        self.site.film_schedule(i, showtimes)
    }

    /// Every one of `film`'s own files: its page, its schedule, and its showtimes' booking
    /// pages and calendar files.
    pub fn film_jobs<'f>(&self, film: &'f FilmSchedule) -> impl Iterator<Item = FilmJob> + 'f {
        FILM_KINDS.iter().flat_map(move |&kind| (0..kind.count(film)).map(move |item| FilmJob { kind, item }))
    }

    /// Where one of a film's files goes, under the output root.
    pub fn film_path(&self, film: &FilmSchedule, job: &FilmJob) -> String {
        site_paths::file_of(&job.kind.url(film, job.item))
    }

    /// A hash of everything one of a film's files is made from (see [`Renderer::input_key`]).
    pub fn film_input_key(&self, film: &FilmSchedule, job: &FilmJob) -> Digest {
        job.kind.input_key(&self.site, film, job.item)
    }

    /// Renders one of a film's files.
    pub fn render_film(&self, film: &FilmSchedule, job: &FilmJob) -> Result<Vec<u8>, BuildError> {
        job.kind.render(&self.site, film, job.item)
    }
}

/// Loads templates by name from the theme's `templates/` folder, each read through
/// [`cinema::content_file`]: a regular file within [`Limit::THEME`], so a FIFO or a huge file
/// there fails the build with its name instead of hanging it. Names with a segment starting
/// with `.` or holding `\\` are not looked up (as minijinja's own `path_loader`).
fn template_loader(dir: PathBuf) -> impl Fn(&str) -> Result<Option<String>, minijinja::Error> + Send + Sync + 'static {
    move |name| {
        if name.split('/').any(|s| s.starts_with('.') || s.contains('\\')) {
            return Ok(None);
        }
        let path = dir.join(name);
        match content_file::read_text(&path, Limit::THEME) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => {
                Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("{}: {e}", path.display())))
            }
        }
    }
}

/// Escapes text for HTML: `& < > " '` and nothing else.
///
/// minijinja's default also escapes `/` (as `&#x2f;`), which is valid but makes every URL in
/// the markup unreadable (`href="&#x2f;films&#x2f;akira&#x2f;"`) for no gain inside quoted
/// attributes and text.
fn html_formatter(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if !matches!(state.auto_escape(), minijinja::AutoEscape::Html)
        || value.is_safe()
        || value.is_undefined()
        || value.is_none()
    {
        return minijinja::escape_formatter(out, state, value);
    }
    out.write_str(&cinema::markup::escape(&value.to_string())).map_err(minijinja::Error::from)
}

/// Where a film's poster is published: its own image's extension, or an SVG drawn for it.
fn poster_url(film: &cinema::Film) -> String {
    let ext =
        film.poster.as_ref().and_then(|p| p.extension()).and_then(|e| e.to_str()).unwrap_or("svg").to_ascii_lowercase();
    site_paths::poster_url(&film.slug, &ext)
}

/// The `site` global: settings as templates need them.
#[derive(serde::Serialize)]
struct SiteGlobal {
    name: String,
    tagline: String,
    base_url: String,
    booking_api_url: String,
    time_zone: String,
    /// The zone in words, `Jakarta time`: for times that stand for every day (a film's daily
    /// slots), whose abbreviation may change with daylight saving.
    time_zone_label: String,
    horizon_days: u32,
    /// The most seats one booking (and one hold) takes: the seat picker stops there.
    max_seats: usize,
    /// For the `<meta http-equiv="Content-Security-Policy">` every page carries.
    content_security_policy: String,
    /// The URL patterns of the pages scripts link to, for `base.html`'s `data-url-*`.
    urls: SiteUrls,
}

/// `site.urls`: [`cinema::site_paths`]' patterns (`/films/{slug}/`), so that templates and,
/// through `data-url-*` attributes on `<html>`, the theme's scripts spell no site path.
#[derive(serde::Serialize)]
struct SiteUrls {
    index: &'static str,
    film: &'static str,
    book: &'static str,
    book_calendar: &'static str,
    booking: &'static str,
}

impl SiteUrls {
    const OF_THE_SITE: SiteUrls = SiteUrls {
        index: site_paths::INDEX.pattern,
        film: site_paths::FILM.pattern,
        book: site_paths::BOOK.pattern,
        book_calendar: site_paths::BOOK_CALENDAR.pattern,
        booking: site_paths::BOOKING.pattern,
    };
}

impl From<&SiteSettings> for SiteGlobal {
    fn from(s: &SiteSettings) -> Self {
        SiteGlobal {
            name: s.name.clone(),
            tagline: s.tagline.clone(),
            base_url: s.base_url.clone(),
            booking_api_url: s.booking_api_url.clone(),
            time_zone: s.time_zone.name().to_string(),
            // Any instant: a zone named in words ("<City> time") or by its fixed offset (`Etc/`
            // zones keep theirs all year) reads the same all year.
            time_zone_label: cinema::times::zone_long(s.time_zone, chrono::DateTime::UNIX_EPOCH),
            horizon_days: s.horizon_days,
            max_seats: cinema::booking::MAX_SEATS,
            content_security_policy: csp::policy(s),
            urls: SiteUrls::OF_THE_SITE,
        }
    }
}
