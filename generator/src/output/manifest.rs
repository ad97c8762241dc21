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

/// A short hash (80 bits of BLAKE3): enough to tell two versions of one file apart, and small
/// enough that the manifest of a 175,000-file site stays a few megabytes in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 10]);

impl Digest {
    pub fn of(bytes: &[u8]) -> Self {
        Digest::from(blake3::hash(bytes))
    }
}

impl From<blake3::Hash> for Digest {
    fn from(hash: blake3::Hash) -> Self {
        let mut short = [0; 10];
        short.copy_from_slice(&hash.as_bytes()[..10]);
        Digest(short)
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        s.serialize_str(&hex)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <&str>::deserialize(d)?;
        let mut out = [0; 10];
        if text.len() != 20 {
            return Err(serde::de::Error::custom("a digest is 20 hex digits"));
        }
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(serde::de::Error::custom)?;
        }
        Ok(Digest(out))
    }
}

/// What the manifest knows of one published file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// A hash of the file's bytes.
    #[serde(rename = "h")]
    pub hash: Digest,
    /// A hash of what the file was made from, when the renderer can tell (see
    /// `Renderer::input_key`): an unchanged key means the file need not be rendered again.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Digest>,
}

impl Manifest {
    /// The manifest at `path`, or an empty one when there is none or it cannot be read (a
    /// missing manifest only costs a full rewrite, never wrong output).
    pub fn load(path: &Path) -> Manifest {
        std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes the manifest atomically: a crash leaves the old one or the new one.
    pub fn save(&self, path: &Path) -> Result<(), BuildError> {
        use std::io::Write;
        let tmp = path.with_extension("json.tmp");
        let file = std::fs::File::create(&tmp).map_err(|e| BuildError::io(&tmp, e))?;
        let mut writer = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut writer, self).map_err(|e| BuildError::io(&tmp, e.into()))?;
        writer.flush().map_err(|e| BuildError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| BuildError::io(path, e))
    }
}
