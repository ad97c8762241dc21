//! The build manifest: what the last build wrote, kept beside the output folder.
//!
//! It lets a build skip files whose bytes did not change (so a CDN sync uploads only what
//! changed), delete the pages that are gone, and skip the whole build when nothing that feeds
//! it changed. It sits beside the output, not in it, so it is never published.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::BuildError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// A hash of every input of the build; equal fingerprints mean equal output.
    pub fingerprint: String,
    /// Every file written, by path under the output root.
    pub files: BTreeMap<String, FileRecord>,
}

/// What the manifest knows of one published file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// A hash of the file's bytes.
    #[serde(rename = "h")]
    pub hash: String,
    /// A hash of what the file was made from, when the renderer can tell (see
    /// `Renderer::input_key`): an unchanged key means the file need not be rendered again.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A short content hash: enough to tell two versions of one file apart.
pub fn file_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..20].to_string()
}

impl Manifest {
    /// The manifest at `path`, or an empty one when there is none or it cannot be read (a
    /// missing manifest only costs a full rewrite, never wrong output).
    pub fn load(path: &Path) -> Manifest {
        std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes the manifest atomically: a crash leaves the old one or the new one.
    pub fn save(&self, path: &Path) -> Result<(), BuildError> {
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(self)
            .map_err(|e| BuildError::Other(format!("cannot encode the build manifest: {e}")))?;
        std::fs::write(&tmp, bytes).map_err(|e| BuildError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| BuildError::io(path, e))
    }
}
