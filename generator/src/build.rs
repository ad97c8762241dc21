//! The build pipeline: load -> (roll) -> render -> write.
//!
//! Each step is a plain function over owned values; nothing is global. Pages render in
//! parallel (rayon) and stream into a new build folder as they are done; the schedule is read
//! from the store a page of showtimes at a time (for the build's fingerprint) and a film at a
//! time (for the film's files), never whole, so memory stays flat however large the catalog.
//! The folder is published in one step (see `output`).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cinema::box_office::KeptShowtime;
use cinema::content_file::{self, Limit};
use cinema::schedule::plan_horizon;
use cinema::store::{Blocking, DatabaseUrl, OpenMode, RollReport, ShowtimePage, ShowtimePosition};
use cinema::times::TimeRange;
use cinema::{Catalog, ContentError, Showtime};
use rayon::prelude::*;
use walkdir::WalkDir;

use crate::error::BuildError;
use crate::output::{OutputDir, WriteSummary};
use crate::render::{FilmSchedule, Renderer, ThemePaths};

/// Where a build reads and writes, and the moment it builds for.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub content: PathBuf,
    pub theme: PathBuf,
    pub out: PathBuf,
    pub db: DatabaseUrl,
    pub now: DateTime<Utc>,
    /// Overrides `site.toml`'s `base_url` (already checked by `cinema::site_url::check`).
    pub base_url: Option<String>,
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub roll: Option<RollReport>,
    pub summary: WriteSummary,
    pub elapsed: Duration,
    /// Live showtimes left out because their film is no longer in the catalog.
    pub orphaned_showtimes: usize,
    /// The catalog the build was made from, for naming films in the report.
    pub catalog: Catalog,
}

impl BuildReport {
    /// The one line a build ends with.
    pub fn line(&self) -> String {
        let s = self.summary;
        let roll = self
            .roll
            .as_ref()
            .map(|r| {
                let p = r.purged;
                format!(
                    "rolled: {} archived, {} created, {} retired, {} kept with bookings; purged {} idempotency records, {} ended holds, {} sent messages; ",
                    r.archived,
                    r.created,
                    r.retired,
                    r.kept.len(),
                    p.idempotency_keys,
                    p.holds,
                    p.sent_mail
                )
            })
            .unwrap_or_default();
        format!(
            "{roll}site: {} pages written, {} unchanged, {} removed in {:.3} s{}",
            s.written,
            s.unchanged,
            s.removed,
            self.elapsed.as_secs_f64(),
            self.roll.as_ref().map(|r| kept_list(&self.catalog, &r.kept)).unwrap_or_default()
        )
    }
}

/// The showtimes a roll kept although the content no longer has them, one line each with their
/// bookings, so the operator's scheduled job tells of them every time it runs until they pass.
fn kept_list(catalog: &Catalog, kept: &[KeptShowtime]) -> String {
    if kept.is_empty() {
        return String::new();
    }
    let tz = catalog.settings.time_zone;
    let mut text = format!(
        "\nkept: {} showtime(s) no longer in the content still have bookings and stay honoured; tell their bookers (`tiketa-ops door-list <showtime>` lists names):",
        kept.len()
    );
    for k in kept {
        let s = &k.showtime;
        let film = catalog
            .film(&s.film_slug)
            .map_or_else(|| format!("{} (no longer in the content)", s.film_slug), |f| f.title.clone());
        let when = TimeRange::new(s.starts_at, s.ends_at, tz);
        let references: Vec<String> = k.bookings.iter().map(ToString::to_string).collect();
        text.push_str(&format!(
            "\n  {}  {film}, studio {}, {} {}: {}",
            s.id,
            s.studio,
            s.local_date.format("%a %-d %b %Y"),
            when.text,
            references.join(", ")
        ));
    }
    text
}

/// Rolls the schedule forward (when `roll` is set), then builds the site.
pub fn run(opts: &BuildOptions, roll: bool) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    let mut catalog = Catalog::load(&opts.content)?;
    if let Some(base_url) = &opts.base_url {
        catalog.settings.base_url.clone_from(base_url);
    }
    let store = Blocking::open(&opts.db, OpenMode::Create)?;
    let roll = if roll { Some(store.run(|s| s.roll(plan_horizon(&catalog, opts.now), opts.now))?) } else { None };
    let (summary, orphaned_showtimes) = write_site(opts, &catalog, &store)?;
    drop(store);
    Ok(BuildReport { roll, summary, elapsed: started.elapsed(), orphaned_showtimes, catalog })
}

/// Live showtimes read a page at a time for the fingerprint: enough that a page's rows are
/// read in one query, few enough that a page costs well under a megabyte.
const FINGERPRINT_PAGE: usize = 2_000;

/// Renders the site for the store's live showtimes into a new build folder and publishes it in
/// one step; answers what was written and how many live showtimes were left out because their
/// film is no longer in the catalog (a film taken out of `content/` keeps its rows and bookings
/// in the store, but its pages go). On any error the new folder is deleted and the published
/// site stays exactly as it was.
pub fn write_site(
    opts: &BuildOptions,
    catalog: &Catalog,
    store: &Blocking,
) -> Result<(WriteSummary, usize), BuildError> {
    let out = OutputDir::open(&opts.out)?;
    // The theme is read once: for the build's fingerprint and for the pages' input keys.
    let mut theme_hasher = blake3::Hasher::new();
    hash_theme(&mut theme_hasher, &opts.theme)?;
    let theme_hash = theme_hasher.finalize();
    let (fingerprint, orphaned) = fingerprint(catalog, theme_hash, store, opts.now)?;
    if out.is_up_to_date(&fingerprint) {
        out.finish_cleaning()?;
        return Ok((WriteSummary { unchanged: out.published_files(), ..Default::default() }, orphaned));
    }
    let renderer = Renderer::new(catalog, &ThemePaths::new(&opts.theme), theme_hash)?;
    let staging = out.begin(&fingerprint)?;
    // Nothing is collected: each file goes to disk, and its line to the new manifest, as soon
    // as it is rendered, so the build's memory does not grow with the site.
    renderer.jobs().try_for_each(|job| {
        let path = renderer.path(&job);
        staging.put(&path, renderer.input_key(&job), || renderer.render(&job).map(|page| page.bytes))?;
        Ok::<(), BuildError>(())
    })?;
    // A film's showtimes are read just before its files are rendered, and dropped once they
    // are written: at most FILMS_READ_AHEAD films' worth wait, whatever the catalog. One thread
    // reads while the rendering threads render, so no core waits on the store.
    std::thread::scope(|scope| {
        let (films, read) = mpsc::sync_channel::<Result<FilmSchedule, BuildError>>(FILMS_READ_AHEAD);
        let renderer = &renderer;
        scope.spawn(move || {
            for (i, film) in catalog.films.iter().enumerate() {
                let schedule = film_showtimes(store, &film.slug, opts.now).map(|s| renderer.film_schedule(i, s));
                let failed = schedule.is_err();
                // A send fails when the renderers stopped (one failed): nothing more to read.
                if films.send(schedule).is_err() || failed {
                    return;
                }
            }
        });
        read.into_iter().par_bridge().try_for_each(|film| {
            let film = film?;
            for job in renderer.film_jobs(&film) {
                let path = renderer.film_path(&film, &job);
                staging.put(&path, Some(renderer.film_input_key(&film, &job)), || renderer.render_film(&film, &job))?;
            }
            Ok::<(), BuildError>(())
        })
    })?;
    Ok((staging.publish()?, orphaned))
}

/// How many films' showtimes are read ahead of the rendering threads: enough that a thread
/// never waits for the store, few enough to cost nothing (a film's horizon is a few dozen).
const FILMS_READ_AHEAD: usize = 64;

/// Film `slug`'s live showtimes, in start order, from the store.
fn film_showtimes(store: &Blocking, slug: &str, now: DateTime<Utc>) -> Result<Vec<Showtime>, BuildError> {
    let page = ShowtimePage {
        now,
        film: Some(slug.to_string()),
        starting: None,
        after: None,
        limit: usize::MAX,
        started_too: false,
    };
    Ok(store.run(|s| s.live_showtimes_page(page))?.into_iter().map(|(s, _taken)| s).collect())
}

/// Calls `each` with every live showtime, in start order (then id), reading the store
/// [`FINGERPRINT_PAGE`] showtimes at a time.
fn each_live_showtime(store: &Blocking, now: DateTime<Utc>, mut each: impl FnMut(&Showtime)) -> Result<(), BuildError> {
    let mut after = None;
    loop {
        let page = ShowtimePage { now, film: None, starting: None, after, limit: FINGERPRINT_PAGE, started_too: false };
        let got = store.run(|s| s.live_showtimes_page(page))?;
        got.iter().for_each(|(s, _taken)| each(s));
        match got.last() {
            Some((last, _)) if got.len() == FINGERPRINT_PAGE => after = Some(ShowtimePosition::of(last)),
            _ => return Ok(()),
        }
    }
}

/// Feeds the theme's `templates/` and `assets/` files (path, length, bytes, in name order)
/// into a hash. Only those two folders: a README or screenshot beside them is never opened.
/// Each file is streamed through [`content_file`], so a huge one costs no memory and a FIFO or
/// device fails the build with its name instead of hanging it.
fn hash_theme(hasher: &mut blake3::Hasher, theme: &Path) -> Result<(), BuildError> {
    let paths = ThemePaths::new(theme);
    for dir in [&paths.templates, &paths.assets] {
        if !dir.is_dir() {
            continue; // the renderer says what is missing
        }
        for entry in WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.map_err(|e| BuildError::io(dir, e.into()))?;
            // What `Assets::load` publishes: files, not folders, and no symlinks.
            if entry.file_type().is_dir() || entry.file_type().is_symlink() {
                continue;
            }
            hasher.update(entry.path().to_string_lossy().as_bytes());
            content_file::hash_into(hasher, entry.path(), Limit::THEME)
                .map_err(|e| ContentError::new(entry.path(), e.to_string()))?;
        }
    }
    Ok(())
}

/// A hash of everything the output depends on: the generator (version and binary), the catalog as loaded
/// (settings with any `--base-url` override, seat map, films) and the posters films name, the
/// theme, and the live showtimes of the catalog's films (read from the store a page at a
/// time). Built from what the build read, not from the content folder wholesale: a stray file
/// there is never opened. Answers the hash and how many live showtimes are of films no longer
/// in the catalog.
fn fingerprint(
    catalog: &Catalog,
    theme_hash: blake3::Hash,
    store: &Blocking,
    now: DateTime<Utc>,
) -> Result<(String, usize), BuildError> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(crate::identity::generator_identity().as_bytes());
    hasher.update(&serde_json::to_vec(&catalog.settings).expect("settings serialise"));
    hasher.update(&serde_json::to_vec(&catalog.seat_map).expect("the seat map serialises"));
    for film in &catalog.films {
        hasher.update(&serde_json::to_vec(film).expect("a film serialises"));
        catalog.hash_poster(film, &mut hasher)?;
    }
    hasher.update(theme_hash.as_bytes());
    let mut orphaned = 0;
    each_live_showtime(store, now, |s| {
        if catalog.film(&s.film_slug).is_none() {
            orphaned += 1;
            return;
        }
        hasher.update(s.id.as_str().as_bytes());
        hasher.update(&s.starts_at.timestamp().to_le_bytes());
        hasher.update(&s.ends_at.timestamp().to_le_bytes());
    })?;
    Ok((hasher.finalize().to_hex().to_string(), orphaned))
}
