//! One of the theme's assets, `/assets/<name>.<hash>.<ext>`: copied as it is.

use cinema::site_paths::{self, UrlPattern};

use super::{PageKind, Site, key};
use crate::error::BuildError;
use crate::output::manifest::Digest;

/// Item `i` is the theme's asset `i`, in name order.
pub struct Asset;

impl PageKind for Asset {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::ASSET
    }

    fn count(&self, site: &Site) -> usize {
        site.assets().len()
    }

    fn url(&self, site: &Site, i: usize) -> String {
        format!("/{}", site.assets()[i].output_path)
    }

    /// Its output path holds its content hash.
    fn input_key(&self, site: &Site, i: usize) -> Option<Digest> {
        Some(key(b"asset", |h| {
            h.update(site.assets()[i].output_path.as_bytes());
        }))
    }

    fn render(&self, site: &Site, i: usize) -> Result<Vec<u8>, BuildError> {
        Ok(site.assets()[i].bytes.clone())
    }
}
