//! The catalog: everything in `content/`, loaded and checked as a whole.
//!
//! Checks that span files (two films in one studio, a film too long for its slots) live here,
//! so a loaded `Catalog` is one the schedule rules can trust without checking again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::content_error::ContentError;
use crate::content_file::{self, Limit};
use crate::film::{Film, Lore};
use crate::poster_file;
use crate::schedule::{check_fits, slots_of};
use crate::seat_map::SeatMap;
use crate::settings::SiteSettings;

/// The content folder's layout.
pub const SETTINGS_FILE: &str = "site.toml";
pub const SEAT_MAP_FILE: &str = "auditorium.txt";
pub const FILMS_DIR: &str = "films";

/// Site settings, the auditorium and every film, in studio order.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub root: PathBuf,
    pub settings: SiteSettings,
    pub seat_map: SeatMap,
    pub films: Vec<Film>,
    /// Index into `films` by slug: look-ups happen once per showtime, and a catalog may hold
    /// thousands of films.
    by_slug: HashMap<String, usize>,
}

impl Catalog {
    /// Loads `content/`: `site.toml`, `auditorium.txt`, `films/*.md` and the posters films
    /// name. Nothing else in the folder is opened: stray files (backups, notes, drafts in other
    /// folders, editor files starting with `.`) are ignored, whatever their size or kind.
    pub fn load(root: &Path) -> Result<Self, ContentError> {
        Self::load_keeping(root, Lore::Keep)
    }

    /// [`Catalog::load`] without the films' lore, for a process that never shows it (the
    /// booking service: its pages are the generator's; its mail names films by title).
    pub fn load_without_lore(root: &Path) -> Result<Self, ContentError> {
        Self::load_keeping(root, Lore::Skip)
    }

    fn load_keeping(root: &Path, lore: Lore) -> Result<Self, ContentError> {
        if !root.is_dir() {
            return Err(ContentError::new(root, "is not a folder; pass the content folder with --content"));
        }
        let settings_file = root.join(SETTINGS_FILE);
        confine(root, &settings_file)?;
        let settings = SiteSettings::load(&settings_file)?;
        let seat_map_file = root.join(SEAT_MAP_FILE);
        confine(root, &seat_map_file)?;
        let seat_map = SeatMap::load(&seat_map_file)?;
        let mut films = Vec::new();
        let films_dir = root.join(FILMS_DIR);
        for entry in WalkDir::new(&films_dir).min_depth(1).max_depth(1).sort_by_file_name() {
            let entry = entry.map_err(|e| ContentError::new(&films_dir, format!("cannot list the films: {e}")))?;
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            // Every `*.md` is a film, whatever its kind: a FIFO or a folder named `x.md` is an
            // error naming it (from `Film::load`), never silently skipped or blocked on.
            if path.extension().is_some_and(|e| e == "md") && !hidden {
                confine(root, path)?;
                films.push(Film::load(path, lore)?);
            }
        }
        Self::from_parts(root, settings, seat_map, films)
    }

    /// Checks the whole and sorts films by studio.
    pub fn from_parts(
        root: &Path,
        settings: SiteSettings,
        seat_map: SeatMap,
        mut films: Vec<Film>,
    ) -> Result<Self, ContentError> {
        if films.is_empty() {
            return Err(ContentError::new(root.join(FILMS_DIR), "holds no film; add one `<slug>.md` file per film"));
        }
        films.sort_by_key(|f| f.studio);
        let mut by_studio: HashMap<u32, &Film> = HashMap::new();
        for film in &films {
            if let Some(other) = by_studio.insert(film.studio, film) {
                return Err(ContentError::new(
                    &film.source,
                    format!(
                        "studio {} already screens {:?} ({}); each studio screens exactly one film",
                        film.studio,
                        other.title,
                        other.source.display()
                    ),
                )
                .field("studio")
                .at_line(field_line(&film.source, "studio")));
            }
        }
        let by_slug = films.iter().enumerate().map(|(i, f)| (f.slug.clone(), i)).collect();
        let catalog = Catalog { root: root.to_path_buf(), settings, seat_map, films, by_slug };
        for film in &catalog.films {
            if let Some(poster) = &film.poster {
                poster_file::check(&catalog.root, poster).map_err(|m| poster_error(film, m))?;
            }
            let slots = slots_of(&catalog, film);
            if let Err((start, next, gap)) = check_fits(slots, film.runtime_min, catalog.settings.cleaning_minutes) {
                return Err(ContentError::new(
                    &film.source,
                    format!(
                        "{} minutes plus {} minutes of cleaning does not fit between the {} and {} slots ({gap} minutes); shorten the runtime or give the film its own `slots`",
                        film.runtime_min,
                        catalog.settings.cleaning_minutes,
                        start.format("%H:%M"),
                        next.format("%H:%M")
                    ),
                )
                .field("runtime_min")
                .at_line(field_line(&film.source, "runtime_min")));
            }
        }
        Ok(catalog)
    }

    /// The film whose page has this slug.
    pub fn film(&self, slug: &str) -> Option<&Film> {
        self.by_slug.get(slug).map(|&i| &self.films[i])
    }

    /// The bytes of a film's own poster, checked again as they are read (see [`poster_file`]);
    /// `None` for a film without one.
    pub fn read_poster(&self, film: &Film) -> Result<Option<Vec<u8>>, ContentError> {
        let Some(poster) = &film.poster else { return Ok(None) };
        poster_file::read(&self.root, poster).map(Some).map_err(|m| poster_error(film, m))
    }

    /// Streams a film's own poster, if it has one, into a hash.
    pub fn hash_poster(&self, film: &Film, hasher: &mut blake3::Hasher) -> Result<(), ContentError> {
        let Some(poster) = &film.poster else { return Ok(()) };
        poster_file::hash_into(hasher, &self.root, poster).map_err(|m| poster_error(film, m))
    }
}

/// An error about a film's `poster` field, at its line.
fn poster_error(film: &Film, message: String) -> ContentError {
    ContentError::new(&film.source, message).field("poster").at_line(field_line(&film.source, "poster"))
}

/// The line of a front-matter field in a film file, for errors found after parsing (1 when the
/// file cannot be read again, which only loses precision, never the error).
fn field_line(file: &Path, field: &str) -> usize {
    content_file::read_text(file, Limit::TEXT)
        .ok()
        .and_then(|text| text.lines().position(|l| l.trim_start().starts_with(field)).map(|i| i + 1))
        .unwrap_or(1)
}

/// Refuses a content file that resolves outside the content folder (a symlink to elsewhere, or
/// a `films/` folder that is one): its text would be published as lore, or echoed in an error.
/// A file that does not exist passes here; its loader says it is missing.
fn confine(root: &Path, file: &Path) -> Result<(), ContentError> {
    let Ok(real) = file.canonicalize() else { return Ok(()) };
    let root =
        root.canonicalize().map_err(|e| ContentError::new(root, format!("cannot resolve the content folder: {e}")))?;
    if real.starts_with(&root) {
        return Ok(());
    }
    Err(ContentError::new(
        file,
        format!(
            "resolves to {}, outside the content folder {}; content must be files inside the content folder: copy it there rather than linking to it",
            real.display(),
            root.display()
        ),
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// A catalog of `n` films (`film-1` in studio 1 ...), 150 minutes each.
    pub(crate) fn catalog_of(n: u32, settings_toml: &str) -> Catalog {
        let settings = SiteSettings::parse(settings_toml, Path::new("site.toml")).unwrap();
        let seat_map = SeatMap::parse("A ss.ss\n", Path::new("auditorium.txt")).unwrap();
        let films = (1..=n)
            .map(|i| Film {
                slug: format!("film-{i}"),
                studio: i,
                title: format!("Film {i}"),
                release_date: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
                runtime_min: 150,
                directors: vec!["Someone".into()],
                genres: vec!["Drama".into()],
                trailer_youtube_id: "aaaaaaaaaaa".into(),
                tagline: String::new(),
                palette: ["#000000".into(), "#ffffff".into()],
                slots: None,
                poster: None,
                lore_markdown: String::new(),
                source: PathBuf::from(format!("films/film-{i}.md")),
            })
            .collect();
        Catalog::from_parts(Path::new("content"), settings, seat_map, films).unwrap()
    }

    #[test]
    fn the_real_content_loads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
        let catalog = Catalog::load(&root).unwrap();
        assert_eq!(catalog.films.len(), 21);
        let studios: Vec<u32> = catalog.films.iter().map(|f| f.studio).collect();
        assert_eq!(studios, (1..=21).collect::<Vec<_>>());
        assert_eq!(catalog.seat_map.seat_count, 216);
    }

    #[test]
    fn a_catalog_without_lore_is_the_catalog_with_empty_lore() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
        let mut full = Catalog::load(&root).unwrap();
        let light = Catalog::load_without_lore(&root).unwrap();
        assert!(full.films.iter().all(|f| !f.lore_markdown.is_empty()), "the real films have lore");
        assert!(light.films.iter().all(|f| f.lore_markdown.is_empty()));
        full.films.iter_mut().for_each(|f| f.lore_markdown.clear());
        assert_eq!(light.films, full.films, "everything else as loaded");
    }

    /// A minimal content folder on disk with one film, `akira.md`.
    fn content_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SETTINGS_FILE), "").unwrap();
        std::fs::write(dir.path().join(SEAT_MAP_FILE), "A ss.ss\n").unwrap();
        std::fs::create_dir(dir.path().join(FILMS_DIR)).unwrap();
        std::fs::write(
            dir.path().join("films/akira.md"),
            "+++\nstudio = 3\ntitle = \"Akira\"\nrelease_date = \"1988-07-16\"\nruntime_min = 124\ndirectors = [\"Katsuhiro Otomo\"]\ngenres = []\ntrailer_youtube_id = \"nA8KmHC2Z-g\"\n+++\nNeo-Tokyo.\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn only_films_md_files_are_read_and_each_must_be_a_regular_file() {
        let dir = content_dir();
        let films = dir.path().join(FILMS_DIR);
        // Ignored: not `*.md`, or hidden (an editor's lock file is a dangling symlink).
        std::fs::write(films.join("notes.txt"), "not a film").unwrap();
        std::os::unix::fs::symlink("nobody@host.1234", films.join(".#akira.md")).unwrap();
        std::fs::write(dir.path().join("backup.md"), "not in films/").unwrap();
        assert_eq!(Catalog::load(dir.path()).unwrap().films.len(), 1);

        let fifo = std::ffi::CString::new(films.join("x.md").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let err = Catalog::load(dir.path()).unwrap_err();
        assert!(err.file.ends_with("films/x.md") && err.message.contains("FIFO"), "{err}");
    }

    #[test]
    fn a_poster_is_checked_when_the_catalog_loads_at_its_line() {
        let dir = content_dir();
        let film = dir.path().join("films/akira.md");
        let text = std::fs::read_to_string(&film).unwrap().replace("+++\nNeo", "poster = \"posters/a.png\"\n+++\nNeo");
        std::fs::write(&film, text).unwrap();
        let err = Catalog::load(dir.path()).unwrap_err();
        assert_eq!((err.field.as_deref(), err.line), (Some("poster"), Some(9)), "{err}");
        assert!(err.message.contains("is not a file in the content folder"), "{err}");
        std::fs::create_dir(dir.path().join("posters")).unwrap();
        std::fs::write(dir.path().join("posters/a.png"), b"\x89PNG\r\n\x1a\n").unwrap();
        let catalog = Catalog::load(dir.path()).unwrap();
        assert_eq!(catalog.read_poster(&catalog.films[0]).unwrap().unwrap(), b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn two_films_in_one_studio_is_an_error_naming_both() {
        let mut catalog = catalog_of(2, "");
        catalog.films[1].studio = 1;
        let err =
            Catalog::from_parts(Path::new("content"), catalog.settings, catalog.seat_map, catalog.films).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("studio"));
        assert!(err.message.contains("Film 1") && err.file.ends_with("film-2.md"), "{err}");
    }

    #[test]
    fn a_runtime_that_does_not_fit_is_an_error() {
        let mut catalog = catalog_of(2, "");
        catalog.films[1].runtime_min = 170; // studio 2: slots every 180 minutes, 15 of cleaning
        let err =
            Catalog::from_parts(Path::new("content"), catalog.settings, catalog.seat_map, catalog.films).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("runtime_min"));
        assert!(err.message.contains("06:00 and 09:00"), "{err}");
    }

    #[test]
    fn a_content_file_that_resolves_outside_the_content_folder_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.md");
        std::fs::write(&secret, std::fs::read(content_dir().path().join("films/akira.md")).unwrap()).unwrap();
        let dir = content_dir();
        std::os::unix::fs::symlink(&secret, dir.path().join("films/leak.md")).unwrap();
        let err = Catalog::load(dir.path()).unwrap_err();
        assert!(err.file.ends_with("films/leak.md") && err.message.contains("outside the content folder"), "{err}");

        // A symlink that stays inside the content folder is fine.
        std::fs::remove_file(dir.path().join("films/leak.md")).unwrap();
        std::fs::rename(dir.path().join(SETTINGS_FILE), dir.path().join("real-site.toml")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real-site.toml"), dir.path().join(SETTINGS_FILE)).unwrap();
        assert!(Catalog::load(dir.path()).is_ok());

        // site.toml linked from elsewhere is refused like a film.
        std::fs::remove_file(dir.path().join(SETTINGS_FILE)).unwrap();
        std::fs::rename(dir.path().join("real-site.toml"), outside.path().join("site.toml")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("site.toml"), dir.path().join(SETTINGS_FILE)).unwrap();
        let err = Catalog::load(dir.path()).unwrap_err();
        assert!(err.file.ends_with(SETTINGS_FILE) && err.message.contains("outside the content folder"), "{err}");
    }
}
