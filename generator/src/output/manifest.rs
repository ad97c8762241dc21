//! The build manifest: what one build holds, kept in that build's folder beside its `site/`.
//!
//! It lets the next build reuse files whose bytes did not change (so a CDN sync uploads only
//! what changed), count the pages that are gone, and skip the whole build when nothing that
//! feeds it changed. It is written before the build is published and is published with it by
//! the same rename, so it can only ever describe the folder it sits in: a crash cannot leave a
//! manifest that lies about the published site. It sits beside `site/`, so it is never served.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::BuildError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The number of the build folder this manifest was written into. A manifest found in
    /// another folder is not trusted.
    pub build: u64,
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
    /// The manifest of build `build` at `path`, or `None` when there is none, it cannot be
    /// read, or it was written for another build (a missing manifest only costs re-rendering,
    /// never wrong output).
    pub fn load(path: &Path, build: u64) -> Option<Manifest> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice::<Manifest>(&bytes).ok().filter(|m| m.build == build)
    }

    /// Writes the manifest into a build folder that is not published yet. It reaches the disk
    /// with the rest of the folder, before the switch (see `durable`).
    pub fn save(&self, path: &Path) -> Result<(), BuildError> {
        use std::io::Write;
        let file = std::fs::File::create_new(path).map_err(|e| BuildError::io(path, e))?;
        let mut writer = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut writer, self).map_err(|e| BuildError::io(path, e.into()))?;
        writer.flush().map_err(|e| BuildError::io(path, e))
    }
}
