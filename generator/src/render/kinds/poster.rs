//! A film's poster, `/posters/<slug>.<ext>`: the film's own image, or an SVG drawn for it.

use cinema::site_paths::{self, UrlPattern};

use super::super::poster;
use super::{PageKind, Site, key};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// Item `i` is film `i`'s poster.
pub struct Poster;

impl PageKind for Poster {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::POSTER
    }

    fn count(&self, site: &Site) -> usize {
        site.film_count()
    }

    fn url(&self, site: &Site, i: usize) -> String {
        site.poster_url(i)
    }

    /// A drawn poster is made from the film's view; a film's own image has no key (it is read
    /// every build, and linked from the published build when its bytes are the same).
    fn input_key(&self, site: &Site, i: usize) -> Option<Digest> {
        if site.film(i).poster.is_some() {
            return None;
        }
        Some(key(b"poster", |h| {
            h.update(site.film_key(i).as_bytes());
        }))
    }

    fn render(&self, site: &Site, i: usize) -> Result<Vec<u8>, BuildError> {
        Ok(match site.read_poster(i)? {
            Some(bytes) => bytes,
            None => poster::svg(site.film(i), &site.settings().name).into_bytes(),
        })
    }
}
