//! A film: one Markdown file in `content/films/`, TOML front matter between `+++` lines, then
//! the lore as Markdown.
//!
//! The file name (without `.md`) is the film's slug and so its URL: renaming the file moves the
//! page, which is why the slug is not a field that could drift from the file.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::content_error::{ContentError, from_toml};
use crate::content_file::{self, Limit};
use crate::poster_file;
use crate::settings::{check_slots, hhmm};

/// The front matter as written; checked and turned into a [`Film`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    studio: u32,
    title: String,
    release_date: String,
    runtime_min: u32,
    directors: Vec<String>,
    genres: Vec<String>,
    trailer_youtube_id: String,
    #[serde(default)]
    tagline: String,
    #[serde(default)]
    palette: Option<[String; 2]>,
    #[serde(default, with = "hhmm::option")]
    slots: Option<Vec<NaiveTime>>,
    #[serde(default)]
    poster: Option<PathBuf>,
}

/// Whether a loaded film keeps its lore. The site shows it; the booking service never does,
/// and at 10,000 films the lore was 3.4 MB of the service's memory (issue 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lore {
    Keep,
    /// Checked like the rest of the file, then not kept: `lore_markdown` is empty.
    Skip,
}

/// A film of the catalog, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Film {
    pub slug: String,
    pub studio: u32,
    pub title: String,
    pub release_date: NaiveDate,
    pub runtime_min: u32,
    pub directors: Vec<String>,
    pub genres: Vec<String>,
    pub trailer_youtube_id: String,
    pub tagline: String,
    /// Background and accent colours (`#rrggbb`) for the generated poster and page accents.
    pub palette: [String; 2],
    /// The film's own daily slots, when it does not follow its studio's parity rule.
    #[serde(with = "hhmm::option")]
    pub slots: Option<Vec<NaiveTime>>,
    /// A real poster image, relative to the content folder, instead of the generated one.
    pub poster: Option<PathBuf>,
    /// The lore, as Markdown.
    pub lore_markdown: String,
    /// The file the film came from, for error messages.
    #[serde(skip)]
    pub source: PathBuf,
}

impl Film {
    pub fn year(&self) -> i32 {
        self.release_date.year()
    }

    /// Reads and checks one film file: a regular file of at most [`Limit::TEXT`].
    pub fn load(path: &Path, lore: Lore) -> Result<Self, ContentError> {
        let text = content_file::read_text(path, Limit::TEXT).map_err(|e| ContentError::new(path, e.to_string()))?;
        Self::parse_keeping(&text, path, lore)
    }

    /// Parses a film file's text; the slug comes from `path`'s file name.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ContentError> {
        Self::parse_keeping(text, path, Lore::Keep)
    }

    /// [`Film::parse`], keeping the lore or not.
    pub fn parse_keeping(text: &str, path: &Path, lore: Lore) -> Result<Self, ContentError> {
        let slug = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        if !is_slug(&slug) {
            return Err(ContentError::new(
                path,
                format!(
                    "the file name {slug:?} is the film's URL slug: use lowercase letters, digits and single hyphens, such as \"blade-runner-2049.md\""
                ),
            ));
        }
        let (front, body, front_first_line) = split_front_matter(text, path)?;
        let fm: FrontMatter = toml::from_str(front).map_err(|e| from_toml(&e, front, path, front_first_line))?;
        let field_line = |name: &str| {
            front
                .lines()
                .position(|l| l.trim_start().starts_with(name))
                .map(|i| front_first_line + i)
                .unwrap_or(front_first_line)
        };
        let bad =
            |field: &str, message: String| ContentError::new(path, message).field(field).at_line(field_line(field));

        let release_date = NaiveDate::parse_from_str(&fm.release_date, "%Y-%m-%d").map_err(|_| {
            bad("release_date", format!("{:?} is not a date; expected \"YYYY-MM-DD\"", fm.release_date))
        })?;
        if !(1..=99_999).contains(&fm.studio) {
            return Err(bad("studio", format!("is {}; expected a studio number from 1 to 99999", fm.studio)));
        }
        if fm.title.trim().is_empty() {
            return Err(bad("title", "must not be empty".into()));
        }
        if !(1..=600).contains(&fm.runtime_min) {
            return Err(bad("runtime_min", format!("is {}; expected minutes from 1 to 600", fm.runtime_min)));
        }
        if fm.directors.is_empty() || fm.directors.iter().any(|d| d.trim().is_empty()) {
            return Err(bad("directors", "expected a list of one or more names, such as [\"Agnès Varda\"]".into()));
        }
        if fm.genres.iter().any(|g| g.trim().is_empty()) {
            return Err(bad("genres", "a genre must not be empty".into()));
        }
        let id = &fm.trailer_youtube_id;
        if id.len() != 11 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(bad(
                "trailer_youtube_id",
                format!("{id:?} is not a YouTube video id; expected the 11 characters after \"watch?v=\""),
            ));
        }
        let palette = match fm.palette {
            Some(p) => {
                for c in &p {
                    if !is_hex_colour(c) {
                        return Err(bad("palette", format!("{c:?} is not a colour; expected \"#rrggbb\"")));
                    }
                }
                p
            }
            None => default_palette(&slug),
        };
        if let Some(slots) = &fm.slots {
            check_slots(slots).map_err(|m| bad("slots", m))?;
        }
        if let Some(poster) = &fm.poster {
            poster_file::check_path(poster).map_err(|m| bad("poster", m))?;
        }
        Ok(Film {
            slug,
            studio: fm.studio,
            title: fm.title.trim().to_string(),
            release_date,
            runtime_min: fm.runtime_min,
            directors: fm.directors,
            genres: fm.genres,
            trailer_youtube_id: fm.trailer_youtube_id,
            tagline: fm.tagline,
            palette,
            slots: fm.slots,
            poster: fm.poster,
            lore_markdown: match lore {
                Lore::Keep => body.to_string(),
                Lore::Skip => String::new(),
            },
            source: path.to_path_buf(),
        })
    }
}

/// Splits `+++\n<toml>\n+++\n<body>`; returns the TOML, the body and the TOML's first line number.
fn split_front_matter<'a>(text: &'a str, path: &Path) -> Result<(&'a str, &'a str, usize), ContentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("+++").and_then(|r| r.strip_prefix('\n').or_else(|| r.strip_prefix("\r\n")))
    else {
        return Err(ContentError::new(
            path,
            "malformed front matter: the file must start with a line `+++`, then TOML fields, then `+++`",
        )
        .at_line(1));
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok((front, body, 2));
        }
        offset += line.len();
    }
    Err(ContentError::new(path, "malformed front matter: no closing `+++` line after the TOML fields").at_line(1))
}

/// Lowercase ASCII letters and digits in words joined by single hyphens.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// A stable palette from the slug, for films that do not name one.
fn default_palette(slug: &str) -> [String; 2] {
    let hash = blake3::hash(slug.as_bytes());
    let b = hash.as_bytes();
    let hue = u16::from_le_bytes([b[0], b[1]]) % 360;
    let (bg, accent) = (hsl_to_hex(hue, 0.55, 0.12), hsl_to_hex((hue + 150) % 360, 0.95, 0.62));
    [bg, accent]
}

fn hsl_to_hex(hue: u16, s: f64, l: f64) -> String {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let h = f64::from(hue) / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match hue / 60 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", to(r), to(g), to(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\nstudio = 3\ntitle = \"Akira\"\nrelease_date = \"1988-07-16\"\nruntime_min = 124\ndirectors = [\"Katsuhiro Otomo\"]\ngenres = [\"Animation\"]\ntrailer_youtube_id = \"nA8KmHC2Z-g\"\n+++\n\nNeo-Tokyo.\n";

    fn parse(text: &str) -> Result<Film, ContentError> {
        Film::parse(text, Path::new("content/films/akira.md"))
    }

    #[test]
    fn a_good_film_parses_with_its_slug_and_body() {
        let film = parse(GOOD).unwrap();
        assert_eq!(film.slug, "akira");
        assert_eq!(film.studio, 3);
        assert_eq!(film.year(), 1988);
        assert_eq!(film.lore_markdown.trim(), "Neo-Tokyo.");
        assert!(film.palette.iter().all(|c| is_hex_colour(c)));
    }

    #[test]
    fn missing_front_matter_is_malformed() {
        let err = parse("studio = 3\n").unwrap_err();
        assert!(err.message.contains("malformed front matter"), "{err}");
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn an_unclosed_front_matter_is_malformed() {
        let err = parse("+++\nstudio = 3\n").unwrap_err();
        assert!(err.message.contains("no closing `+++`"), "{err}");
    }

    #[test]
    fn a_toml_syntax_error_names_its_line_in_the_file() {
        let err = parse(&GOOD.replace("runtime_min = 124", "runtime_min = = 124")).unwrap_err();
        assert_eq!(err.line, Some(5), "{err}");
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let err = parse(&GOOD.replace("runtime_min = 124\n", "")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("runtime_min"), "{err}");
        assert!(err.message.contains("missing field"), "{err}");
    }

    #[test]
    fn a_bad_value_names_field_and_line() {
        let err = parse(&GOOD.replace("1988-07-16", "16/07/1988")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("release_date"));
        assert_eq!(err.line, Some(4));
        let err = parse(&GOOD.replace("nA8KmHC2Z-g", "https://youtu.be/x")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trailer_youtube_id"));
    }

    #[test]
    fn a_bad_file_name_is_refused() {
        let err = Film::parse(GOOD, Path::new("Akira The Movie.md")).unwrap_err();
        assert!(err.message.contains("slug"), "{err}");
    }

    #[test]
    fn a_poster_path_out_of_the_content_folder_or_not_an_image_is_refused_at_its_line() {
        for (poster, why) in [
            ("../var/tiketa.db", "`..`"),
            ("/etc/passwd", "absolute"),
            ("posters/akira.svg", "SVG"),
            ("posters/akira.html", "not an image type"),
        ] {
            let text = GOOD.replace("+++\n\nNeo", &format!("poster = {poster:?}\n+++\n\nNeo"));
            let err = parse(&text).unwrap_err();
            assert_eq!((err.field.as_deref(), err.line), (Some("poster"), Some(9)), "{err}");
            assert!(err.message.contains(why), "{poster}: {err}");
        }
        let text = GOOD.replace("+++\n\nNeo", "poster = \"posters/akira.webp\"\n+++\n\nNeo");
        assert_eq!(parse(&text).unwrap().poster.as_deref(), Some(Path::new("posters/akira.webp")));
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let err = parse(&GOOD.replace("studio = 3", "studio = 3\nrunttime = 5")).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("runttime"), "{err}");
    }
}
