//! Theme assets with content-hashed names.
//!
//! `site.css` is published as `/assets/site.<hash>.css`: a new version is a new URL, so a CDN
//! and browsers may cache every asset forever.

use std::collections::BTreeMap;
use std::path::Path;

use cinema::ContentError;
use cinema::content_file::{self, Limit};
use walkdir::WalkDir;

use crate::error::BuildError;

/// One asset: its published path (under the output root) and bytes.
#[derive(Debug, Clone)]
pub struct Asset {
    pub output_path: String,
    pub bytes: Vec<u8>,
}

/// Every asset of a theme, by logical name (`site.css`, `icons/star.svg`).
#[derive(Debug, Clone, Default)]
pub struct Assets {
    pub by_name: BTreeMap<String, Asset>,
}

impl Assets {
    pub fn load(dir: &Path) -> Result<Self, BuildError> {
        let mut by_name = BTreeMap::new();
        if !dir.is_dir() {
            return Ok(Assets { by_name });
        }
        for entry in WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.map_err(|e| BuildError::io(dir, e.into()))?;
            // Symlinks are not followed (as before): the theme publishes its own files only.
            if entry.file_type().is_dir() || entry.file_type().is_symlink() {
                continue;
            }
            let path = entry.path();
            let name =
                path.strip_prefix(dir).expect("walkdir stays under its root").to_string_lossy().replace('\\', "/");
            // Bounded, regular files only: a FIFO or a huge file is an error naming it.
            let bytes = content_file::read(path, Limit::THEME).map_err(|e| ContentError::new(path, e.to_string()))?;
            let hash = blake3::hash(&bytes).to_hex();
            let hashed = match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() && !stem.ends_with('/') => {
                    format!("{stem}.{}.{ext}", &hash[..10])
                }
                _ => format!("{name}.{}", &hash[..10]),
            };
            by_name.insert(name, Asset { output_path: format!("{}/{hashed}", cinema::site_paths::ASSETS_DIR), bytes });
        }
        Ok(Assets { by_name })
    }

    /// The URL of an asset by logical name.
    pub fn url(&self, name: &str) -> Option<String> {
        self.by_name.get(name).map(|a| format!("/{}", a.output_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_content_hash_that_changes_with_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.css"), "a{}").unwrap();
        let first = Assets::load(dir.path()).unwrap().url("site.css").unwrap();
        assert!(first.starts_with("/assets/site.") && first.ends_with(".css"), "{first}");
        std::fs::write(dir.path().join("site.css"), "b{}").unwrap();
        let second = Assets::load(dir.path()).unwrap().url("site.css").unwrap();
        assert_ne!(first, second);
    }
}
