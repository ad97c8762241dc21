//! Rendering: the catalog, the live showtimes and a theme in; the bytes of every page out.
//!
//! A [`Renderer`] is built once per build (Markdown rendered, views formatted, templates
//! loaded) and then renders any page independently of the others, which is what lets the build
//! render pages in parallel and stream them to disk without holding the site in memory.

pub mod assets;
pub mod csp;
mod feeds;
pub mod json_ld;
mod kinds;
pub mod markdown;
pub mod poster;
pub mod times;
pub mod views;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cinema::content_file::{self, Limit};
use cinema::site_paths;
use cinema::{Catalog, Showtime, SiteSettings};
use minijinja::{Environment, UndefinedBehavior, Value, context};

use self::assets::Assets;
pub use self::kinds::feeds::Feed;
use self::views::FilmView;
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

/// One file of the site to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageJob {
    Index,
    Film(usize),
    Book(usize),
    ManageBooking,
    NotFound,
    Feed(Feed),
    Poster(usize),
    Asset(String),
}

/// A rendered file: its path under the output root and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub path: String,
    pub bytes: Vec<u8>,
}

pub struct Renderer<'a> {
    /// Borrowed for the build: films, settings and the content folder, never copied.
    catalog: &'a Catalog,
    env: Environment<'static>,
    templates_dir: PathBuf,
    films: Vec<FilmView>,
    film_values: Vec<Value>,
    film_by_slug: HashMap<String, usize>,
    /// Borrowed, and formatted into views only for the page that needs them: at 10,000 films
    /// the views of every showtime at once would cost more memory than the rest of the build.
    showtimes: &'a [Showtime],
    /// Indexes into `showtimes`, per film, so a film page does not scan the whole schedule.
    showtimes_by_film: Vec<Vec<usize>>,
    tz: chrono_tz::Tz,
    seat_map: Value,
    /// `seat-grid.html` rendered once: the room is the same for every showtime, and drawing
    /// its 216 seats is most of a booking page's rendering time.
    seat_grid: Value,
    assets: Assets,
    /// Per film: a hash of the film's view and of everything every page shares (theme,
    /// settings, seat map, generator version). See [`Renderer::input_key`].
    film_keys: Vec<blake3::Hash>,
}

impl<'a> Renderer<'a> {
    /// Prepares everything pages share. `showtimes` are the live ones, in start order.
    pub fn new(
        catalog: &'a Catalog,
        theme: &ThemePaths,
        theme_hash: blake3::Hash,
        showtimes: &'a [Showtime],
    ) -> Result<Self, BuildError> {
        if !theme.templates.is_dir() {
            return Err(BuildError::Other(format!(
                "{}: no templates folder; pass the theme folder with --theme (it holds templates/ and assets/)",
                theme.templates.display()
            )));
        }
        let assets = Assets::load(&theme.assets)?;
        let settings = &catalog.settings;
        let films: Vec<FilmView> = catalog.films.iter().map(|f| FilmView::new(catalog, f, poster_url(f))).collect();
        let film_values = films
            .iter()
            .map(|f| context! { lore_html => Value::from_safe_string(f.lore_html.clone()), ..Value::from_serialize(f) })
            .collect();
        let film_by_slug: HashMap<String, usize> = films.iter().enumerate().map(|(i, f)| (f.slug.clone(), i)).collect();
        let tz = settings.time_zone;
        let mut showtimes_by_film = vec![Vec::new(); films.len()];
        for (i, s) in showtimes.iter().enumerate() {
            if let Some(&f) = film_by_slug.get(&s.film_slug) {
                showtimes_by_film[f].push(i);
            }
        }

        let mut env = Environment::new();
        env.set_loader(template_loader(theme.templates.clone()));
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_keep_trailing_newline(true);
        env.set_formatter(html_formatter);
        env.add_global("site", Value::from_serialize(SiteGlobal::from(settings)));
        let urls: HashMap<String, String> =
            assets.by_name.keys().map(|k| (k.clone(), assets.url(k).expect("listed"))).collect();
        env.add_function("asset", move |name: &str| -> Result<String, minijinja::Error> {
            urls.get(name).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("no asset named {name:?} in the theme's assets/ folder"),
                )
            })
        });

        let shared = shared_key(theme_hash, settings, &catalog.seat_map);
        let film_keys = films
            .iter()
            .map(|f| {
                let mut h = blake3::Hasher::new();
                h.update(shared.as_bytes());
                h.update(&serde_json::to_vec(f).expect("a film view serialises"));
                h.update(f.lore_html.as_bytes());
                h.finalize()
            })
            .collect();

        let seat_map = Value::from_serialize(&catalog.seat_map);
        let seat_grid = env
            .get_template("seat-grid.html")
            .and_then(|t| t.render(context! { seat_map => &seat_map }))
            .map_err(|e| BuildError::template(&theme.templates, &e))?;

        Ok(Renderer {
            seat_grid: Value::from_safe_string(seat_grid),
            film_keys,
            env,
            templates_dir: theme.templates.clone(),
            catalog,
            films,
            film_values,
            film_by_slug,
            showtimes,
            showtimes_by_film,
            tz,
            seat_map,
            assets,
        })
    }

    /// Every file of the site. Pages of archived showtimes are simply not in the list.
    pub fn jobs(&self) -> Vec<PageJob> {
        let mut jobs = vec![
            PageJob::Index,
            PageJob::ManageBooking,
            PageJob::NotFound,
            PageJob::Feed(Feed::Sitemap),
            PageJob::Feed(Feed::Robots),
            PageJob::Feed(Feed::ScheduleJson),
        ];
        jobs.extend((0..self.films.len()).flat_map(|i| [PageJob::Film(i), PageJob::Poster(i)]));
        jobs.extend((0..self.showtimes.len()).map(PageJob::Book));
        jobs.extend(self.assets.by_name.keys().cloned().map(PageJob::Asset));
        jobs
    }

    /// Where a job's file goes, under the output root.
    pub fn path(&self, job: &PageJob) -> String {
        match job {
            PageJob::Index => kinds::index::path(),
            PageJob::Film(i) => kinds::film::path(self, *i),
            PageJob::Book(i) => kinds::book::path(self, *i),
            PageJob::ManageBooking => kinds::booking::path(),
            PageJob::NotFound => kinds::not_found::path(),
            PageJob::Feed(feed) => kinds::feeds::path(*feed),
            PageJob::Poster(i) => kinds::poster::path(self, *i),
            PageJob::Asset(name) => kinds::asset::path(self, name),
        }
    }

    /// A hash of everything a film, booking or asset file is made from, or `None` for the
    /// few site-wide files that are simply rendered every time. Equal keys mean equal bytes,
    /// so a build skips rendering such a file when its key has not changed: an edit to one
    /// film re-renders that film's pages, not the whole site.
    pub fn input_key(&self, job: &PageJob) -> Option<Digest> {
        let mut h = blake3::Hasher::new();
        match job {
            PageJob::Film(i) => kinds::film::input_key(self, *i, &mut h),
            PageJob::Book(i) => kinds::book::input_key(self, *i, &mut h)?,
            PageJob::Poster(i) => kinds::poster::input_key(self, *i, &mut h)?,
            PageJob::Asset(name) => kinds::asset::input_key(self, name, &mut h),
            _ => return None,
        }
        Some(Digest::from(h.finalize()))
    }

    /// Renders one file.
    pub fn render(&self, job: &PageJob) -> Result<Page, BuildError> {
        let path = self.path(job);
        let bytes = match job {
            PageJob::Index => kinds::index::render(self)?,
            PageJob::Film(i) => kinds::film::render(self, *i)?,
            PageJob::Book(i) => kinds::book::render(self, *i)?,
            PageJob::ManageBooking => kinds::booking::render(self)?,
            PageJob::NotFound => kinds::not_found::render(self)?,
            PageJob::Feed(feed) => kinds::feeds::render(self, *feed),
            PageJob::Poster(i) => kinds::poster::render(self, *i)?,
            PageJob::Asset(name) => kinds::asset::render(self, name),
        };
        Ok(Page { path, bytes })
    }

    fn page(&self, template: &str, page_url: &str, ctx: Value) -> Result<Vec<u8>, BuildError> {
        let tmpl = self.env.get_template(template).map_err(|e| BuildError::template(&self.templates_dir, &e))?;
        let html = tmpl
            .render(context! { page_url => page_url, ..ctx })
            .map_err(|e| BuildError::template(&self.templates_dir, &e))?;
        let head = &html[..html.find("</head>").unwrap_or(html.len())];
        if !head.contains(csp::META_TAG) {
            return Err(BuildError::Other(format!(
                "{}: the page has no Content-Security-Policy in its <head>; put <meta http-equiv=\"Content-Security-Policy\" content=\"{{{{ site.content_security_policy }}}}\"> first in the <head> of the base template (see docs/theme-contract.md)",
                self.templates_dir.join(template).display()
            )));
        }
        Ok(html.into_bytes())
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

/// Feeds a showtime's identity and times into a key.
fn hash_showtime(h: &mut blake3::Hasher, s: &Showtime) {
    h.update(s.id.as_str().as_bytes());
    h.update(&s.starts_at.timestamp().to_le_bytes());
    h.update(&s.ends_at.timestamp().to_le_bytes());
}

/// A hash of what every page shares: the generator's version, the theme's files (hashed once
/// per build by the caller), the settings and the seat map.
fn shared_key(theme_hash: blake3::Hash, settings: &SiteSettings, seat_map: &cinema::SeatMap) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(concat!("tiketa-gen ", env!("CARGO_PKG_VERSION"), "\n").as_bytes());
    h.update(theme_hash.as_bytes());
    h.update(&serde_json::to_vec(settings).expect("settings serialise"));
    h.update(&serde_json::to_vec(seat_map).expect("the seat map serialises"));
    h.finalize()
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
    let text = value.to_string();
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[last..i]).map_err(minijinja::Error::from)?;
        out.write_str(entity).map_err(minijinja::Error::from)?;
        last = i + 1;
    }
    out.write_str(&text[last..]).map_err(minijinja::Error::from)
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
            time_zone_label: times::zone_long(s.time_zone, chrono::DateTime::UNIX_EPOCH),
            horizon_days: s.horizon_days,
            max_seats: cinema::booking::MAX_SEATS,
            content_security_policy: csp::policy(s),
        }
    }
}
