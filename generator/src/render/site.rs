//! What a page kind may read of a build: a [`Site`].
//!
//! Made once per build (templates loaded, every film's key hashed), then only read, by many
//! rendering threads at once. It holds nothing per showtime and, per film, only a 32-byte key:
//! a film's view and its live showtimes are made for the pages that show them ([`FilmSchedule`],
//! [`Site::film_view`]) and dropped with them, so the build's memory does not grow with the
//! catalog. Its fields are private to this
//! file, so a kind in `kinds/` sees the build through the methods below only: how the facts
//! are cached (per-film showtime indexes, the seat grid drawn once) can change without
//! touching a kind, and a kind cannot quietly depend on more than it declares in its input key.

use std::collections::HashMap;
use std::path::PathBuf;

use cinema::{Catalog, Film, Showtime, SiteSettings};
use minijinja::{Environment, UndefinedBehavior, Value, context};

use super::assets::{Asset, Assets};
use super::views::{FilmView, ShowtimeView};
use super::{SiteGlobal, ThemePaths, csp, html_formatter, poster_url, template_loader};
use crate::error::BuildError;
use cinema::site_paths::film_url;

/// One film with its live showtimes, in start order: what a film's own files (its page, its
/// schedule, its showtimes' booking pages and calendar files) are made from. Read from the
/// store for the film when its files are rendered, and dropped once they are written.
pub struct FilmSchedule {
    /// The film's number in the catalog.
    pub index: usize,
    pub view: FilmView,
    pub showtimes: Vec<Showtime>,
}

/// One build's catalog and theme, ready to render any page from.
pub struct Site<'a> {
    /// Borrowed for the build: films, settings and the content folder, never copied.
    catalog: &'a Catalog,
    env: Environment<'static>,
    templates_dir: PathBuf,
    tz: chrono_tz::Tz,
    seat_map: Value,
    /// `seat-grid.html` rendered once: the room is the same for every showtime, and drawing
    /// its 216 seats is most of a booking page's rendering time.
    seat_grid: Value,
    /// In name order.
    assets: Vec<Asset>,
    /// Per film: a hash of the film's view and of everything every page shares (theme,
    /// settings, seat map, generator version). See [`Site::film_key`].
    film_keys: Vec<blake3::Hash>,
}

impl<'a> Site<'a> {
    /// Prepares everything pages share.
    pub fn new(catalog: &'a Catalog, theme: &ThemePaths, theme_hash: blake3::Hash) -> Result<Self, BuildError> {
        if !theme.templates.is_dir() {
            return Err(BuildError::Other(format!(
                "{}: no templates folder; pass the theme folder with --theme (it holds templates/ and assets/)",
                theme.templates.display()
            )));
        }
        let assets = Assets::load(&theme.assets)?;
        let settings = &catalog.settings;
        let tz = settings.time_zone;

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
        // Each film's view is made, hashed and dropped: only the keys stay.
        let film_keys = catalog
            .films
            .iter()
            .map(|film| {
                let f = film_view(catalog, film);
                let mut h = blake3::Hasher::new();
                h.update(shared.as_bytes());
                h.update(&serde_json::to_vec(&f).expect("a film view serialises"));
                h.update(f.lore_html.as_bytes());
                h.finalize()
            })
            .collect();

        let seat_map = Value::from_serialize(&catalog.seat_map);
        let seat_grid = env
            .get_template("seat-grid.html")
            .and_then(|t| t.render(context! { seat_map => &seat_map }))
            .map_err(|e| BuildError::template(&theme.templates, &e))?;

        Ok(Site {
            seat_grid: Value::from_safe_string(seat_grid),
            film_keys,
            env,
            templates_dir: theme.templates.clone(),
            catalog,
            tz,
            seat_map,
            assets: assets.by_name.into_values().collect(),
        })
    }

    /// The site's settings (`site.toml`, with any `--base-url` applied).
    pub fn settings(&self) -> &SiteSettings {
        &self.catalog.settings
    }

    /// How many films the catalog has: a film's number (from 0) is its place in the catalog.
    pub fn film_count(&self) -> usize {
        self.catalog.films.len()
    }

    /// Film `i` as templates see it, made for the page that asks (its lore's Markdown rendered
    /// again each time): keeping every film's view would grow the build's memory with the
    /// catalog, and pages that list films (the index's 24, the film list's 500) ask for theirs.
    pub fn film_view(&self, i: usize) -> FilmView {
        film_view(self.catalog, &self.catalog.films[i])
    }

    /// Film `i`'s page URL (`/films/<slug>/`), without making its view.
    pub fn film_url(&self, i: usize) -> String {
        film_url(&self.catalog.films[i].slug)
    }

    /// Film `i`'s poster URL, without making its view.
    pub fn poster_url(&self, i: usize) -> String {
        poster_url(&self.catalog.films[i])
    }

    /// Film `i` with its live showtimes (in start order): what its own files are made from.
    pub fn film_schedule(&self, i: usize, showtimes: Vec<Showtime>) -> FilmSchedule {
        FilmSchedule { index: i, view: self.film_view(i), showtimes }
    }

    /// A film's view as a template value (`lore_html` marked safe), made for the page that
    /// asks and dropped with it: a minijinja map of every field is several times a view's size.
    pub fn film_value(&self, f: &FilmView) -> Value {
        context! { lore_html => Value::from_safe_string(f.lore_html.clone()), ..Value::from_serialize(f) }
    }

    /// Film `i` as it was loaded from `content/films`: for its poster file.
    pub fn film(&self, i: usize) -> &Film {
        &self.catalog.films[i]
    }

    /// Film `i`'s own poster image, or `None` when it names none (one is drawn for it).
    pub fn read_poster(&self, i: usize) -> Result<Option<Vec<u8>>, BuildError> {
        Ok(self.catalog.read_poster(&self.catalog.films[i])?)
    }

    /// A hash of film `i`'s view and of everything every page shares (the generator's version,
    /// the theme, the settings, the seat map): what a kind's input key starts from.
    pub fn film_key(&self, i: usize) -> blake3::Hash {
        self.film_keys[i]
    }

    /// A showtime as templates see it, in the cinema's zone.
    pub fn showtime_view(&self, showtime: &Showtime) -> ShowtimeView {
        ShowtimeView::new(showtime, self.tz)
    }

    /// The auditorium, as templates see it.
    pub fn seat_map(&self) -> &Value {
        &self.seat_map
    }

    /// `seat-grid.html` rendered (safe HTML): the same for every showtime.
    pub fn seat_grid(&self) -> &Value {
        &self.seat_grid
    }

    /// The theme's assets, in name order, each with its hashed output path.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// Renders the theme's `template` as the page at `page_url` with `ctx` (and the globals).
    /// Fails naming the template when it fails, or when the page's `<head>` lacks the
    /// Content-Security-Policy every page must carry.
    pub fn page(&self, template: &str, page_url: &str, ctx: Value) -> Result<Vec<u8>, BuildError> {
        let dir = &self.templates_dir;
        let tmpl = self.env.get_template(template).map_err(|e| BuildError::template(dir, &e))?;
        let html = tmpl.render(context! { page_url => page_url, ..ctx }).map_err(|e| BuildError::template(dir, &e))?;
        let head = &html[..html.find("</head>").unwrap_or(html.len())];
        if !head.contains(csp::META_TAG) {
            return Err(BuildError::Other(format!(
                "{}: the page has no Content-Security-Policy in its <head>; put <meta http-equiv=\"Content-Security-Policy\" content=\"{{{{ site.content_security_policy }}}}\"> first in the <head> of the base template (see docs/theme-contract.md)",
                dir.join(template).display()
            )));
        }
        Ok(html.into_bytes())
    }
}

/// Film `film` as templates see it.
fn film_view(catalog: &Catalog, film: &Film) -> FilmView {
    FilmView::new(catalog, film, poster_url(film))
}

/// A hash of what every page shares: the generator (version and binary), the theme's files (hashed once
/// per build by the caller), the settings and the seat map.
fn shared_key(theme_hash: blake3::Hash, settings: &SiteSettings, seat_map: &cinema::SeatMap) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(crate::identity::generator_identity().as_bytes());
    h.update(theme_hash.as_bytes());
    h.update(&serde_json::to_vec(settings).expect("settings serialise"));
    h.update(&serde_json::to_vec(seat_map).expect("the seat map serialises"));
    h.finalize()
}
