//! The build manifest: what one build holds, kept in that build's folder beside its `site/`.
//!
//! It lets the next build reuse files whose bytes did not change (so a CDN sync uploads only
//! what changed), count the pages that are gone, and skip the whole build when nothing that
//! feeds it changed. It is written before the build is published and is published with it by
//! the same rename, so it can only ever describe the folder it sits in: a crash cannot leave a
//! manifest that lies about the published site. It sits beside `site/`, so it is never served.
//!
//! Its memory does not grow with the site's paths: a build writes it a line per file as the
//! file is staged ([`ManifestWriter`]), and the next build reads it into a sorted table of
//! 16-byte path hashes ([`Manifest`], 37 bytes a file), not a map of path strings. The format is
//! JSON lines: a header (`build`, `fingerprint`), one line per file (`p` path, `h` hash of its
//! bytes, `k` its input key), and a trailer with the count of files, so a manifest cut short is
//! never trusted.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::BuildError;

/// The manifest's name in a build folder; written as [`PARTIAL`] first.
pub const FILE_NAME: &str = "manifest.json";
/// The manifest while its build is being staged: renamed to [`FILE_NAME`] once complete.
const PARTIAL: &str = "manifest.partial";

/// What a published build holds, read from its manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The number of the build folder this manifest was written into. A manifest found in
    /// another folder is not trusted.
    pub build: u64,
    /// A hash of every input of the build; equal fingerprints mean equal output.
    pub fingerprint: String,
    /// Every file, by the hash of its path, sorted by it.
    records: Vec<(PathKey, FileRecord)>,
}

/// A path's 128-bit BLAKE3 hash: what the manifest's table is keyed by (a collision among a
/// site's paths is as likely as a 128-bit one, which is to say never).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathKey([u8; 16]);

impl PathKey {
    pub fn of(path: &str) -> Self {
        let mut key = [0; 16];
        key.copy_from_slice(&blake3::hash(path.as_bytes()).as_bytes()[..16]);
        PathKey(key)
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// A hash of the file's bytes.
    #[serde(rename = "h")]
    pub hash: Digest,
    /// A hash of what the file was made from, when the renderer can tell (see
    /// `Renderer::input_key`): an unchanged key means the file need not be rendered again.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Digest>,
}

/// The manifest's first line.
#[derive(Serialize, Deserialize)]
struct Header {
    build: u64,
    fingerprint: String,
}

/// One file's line.
#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    #[serde(rename = "p", borrow)]
    path: std::borrow::Cow<'a, str>,
    #[serde(rename = "h")]
    hash: Digest,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    key: Option<Digest>,
}

/// The last line: how many files the lines before it list.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trailer {
    files: usize,
}

impl Manifest {
    /// The manifest of build `build` in its folder `dir`, or `None` when there is none, it
    /// cannot be read, it is cut short, or it was written for another build (a missing manifest
    /// only costs re-rendering, never wrong output).
    pub fn load(dir: &Path, build: u64) -> Option<Manifest> {
        let mut header = None;
        let mut records = Vec::new();
        let complete = each_line(&dir.join(FILE_NAME), |line| match &header {
            None => {
                header = Some(serde_json::from_str::<Header>(line).ok().filter(|h| h.build == build)?);
                Some(true)
            }
            Some(_) => match serde_json::from_str::<Entry>(line) {
                Ok(entry) => {
                    records.push((PathKey::of(&entry.path), FileRecord { hash: entry.hash, key: entry.key }));
                    Some(true)
                }
                Err(_) => {
                    let trailer = serde_json::from_str::<Trailer>(line).ok()?;
                    (trailer.files == records.len()).then_some(false)
                }
            },
        })?;
        if !complete {
            return None;
        }
        records.sort_unstable_by_key(|(key, _)| *key);
        records.shrink_to_fit();
        let Header { build, fingerprint } = header?;
        Some(Manifest { build, fingerprint, records })
    }

    /// How many files the build holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// What the build holds at `path`.
    pub fn get(&self, path: &str) -> Option<&FileRecord> {
        let key = PathKey::of(path);
        self.records.binary_search_by_key(&key, |(k, _)| *k).ok().map(|i| &self.records[i].1)
    }

    /// Whether every file the manifest in `dir` lists is a file under `site`: read again line by
    /// line, so the paths are never all in memory. `false` when the manifest cannot be read.
    pub fn all_files_present(dir: &Path, site: &Path) -> bool {
        let mut first = true;
        each_line(&dir.join(FILE_NAME), |line| {
            if std::mem::take(&mut first) {
                return Some(true);
            }
            match serde_json::from_str::<Entry>(line) {
                Ok(entry) => site.join(&*entry.path).is_file().then_some(true),
                Err(_) => Some(false),
            }
        })
        .is_some_and(|complete| complete)
    }
}

/// Calls `each` with every line of the file at `path` until it returns `Some(false)` (done:
/// `Some(true)` is returned) or `None` (`None` is returned). `Some(false)` when the lines run out
/// first, and `None` when the file cannot be read.
fn each_line(path: &Path, mut each: impl FnMut(&str) -> Option<bool>) -> Option<bool> {
    let mut reader = BufReader::new(File::open(path).ok()?);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return Some(false);
        }
        if !each(line.trim_end_matches('\n'))? {
            return Some(true);
        }
    }
}

/// Writes a new build's manifest as its files are staged, from many threads: a line each, so
/// the list of the site's files is never held in memory.
pub struct ManifestWriter {
    dir: PathBuf,
    partial: PathBuf,
    /// The open file and the count of files so far; `None` once finished.
    lines: Mutex<Option<(BufWriter<File>, usize)>>,
}

impl ManifestWriter {
    /// Starts the manifest of build `build` in its folder `dir`, not yet published.
    pub fn create(dir: &Path, build: u64, fingerprint: &str) -> Result<Self, BuildError> {
        let partial = dir.join(PARTIAL);
        let file = File::create_new(&partial).map_err(|e| BuildError::io(&partial, e))?;
        let mut writer = BufWriter::with_capacity(64 * 1024, file);
        let header = Header { build, fingerprint: fingerprint.to_owned() };
        serde_json::to_writer(&mut writer, &header).map_err(|e| BuildError::io(&partial, e.into()))?;
        writer.write_all(b"\n").map_err(|e| BuildError::io(&partial, e))?;
        Ok(ManifestWriter { dir: dir.to_owned(), partial, lines: Mutex::new(Some((writer, 0))) })
    }

    /// Records one file of the build. Safe to call from many threads.
    pub fn record(&self, path: &str, record: FileRecord) -> Result<(), BuildError> {
        let mut line = serde_json::to_vec(&Entry { path: path.into(), hash: record.hash, key: record.key })
            .expect("an entry serialises");
        line.push(b'\n');
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let Some((writer, files)) = lines.as_mut() else {
            return Err(BuildError::Other(format!(
                "{}: a file recorded after the manifest was finished",
                self.partial.display()
            )));
        };
        writer.write_all(&line).map_err(|e| BuildError::io(&self.partial, e))?;
        *files += 1;
        Ok(())
    }

    /// Ends the manifest with its count and gives it its final name. It reaches the disk with
    /// the rest of the build folder, before the switch (see `durable`).
    pub fn finish(&self) -> Result<(), BuildError> {
        let finished = self.lines.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some((mut writer, files)) = finished else {
            return Err(BuildError::Other(format!("{}: the manifest was finished already", self.partial.display())));
        };
        serde_json::to_writer(&mut writer, &Trailer { files }).map_err(|e| BuildError::io(&self.partial, e.into()))?;
        writer.write_all(b"\n").and_then(|()| writer.flush()).map_err(|e| BuildError::io(&self.partial, e))?;
        drop(writer);
        let done = self.dir.join(FILE_NAME);
        std::fs::rename(&self.partial, &done).map_err(|e| BuildError::io(&done, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u8, key: bool) -> FileRecord {
        FileRecord { hash: Digest::of(&[n]), key: key.then(|| Digest::of(&[n, n])) }
    }

    fn write(dir: &Path, build: u64, files: &[(&str, FileRecord)]) -> ManifestWriter {
        let writer = ManifestWriter::create(dir, build, "fp").unwrap();
        for (path, r) in files {
            writer.record(path, *r).unwrap();
        }
        writer
    }

    #[test]
    fn a_written_manifest_reads_back_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let files = [("index.html", record(1, false)), ("book/a b\"c/index.html", record(2, true))];
        write(dir.path(), 7, &files).finish().unwrap();
        let manifest = Manifest::load(dir.path(), 7).unwrap();
        assert_eq!((manifest.build, manifest.fingerprint.as_str(), manifest.len()), (7, "fp", 2));
        for (path, r) in &files {
            assert_eq!(manifest.get(path), Some(r), "{path}");
        }
        assert_eq!(manifest.get("films/gone/index.html"), None);
        assert!(Manifest::load(dir.path(), 8).is_none(), "written for another build");

        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("book/a b\"c")).unwrap();
        std::fs::write(site.join("index.html"), "").unwrap();
        assert!(!Manifest::all_files_present(dir.path(), &site));
        std::fs::write(site.join("book/a b\"c/index.html"), "").unwrap();
        assert!(Manifest::all_files_present(dir.path(), &site));
    }

    #[test]
    fn a_manifest_cut_short_or_unfinished_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let files = [("index.html", record(1, false)), ("404.html", record(2, true))];
        drop(write(dir.path(), 3, &files));
        assert!(Manifest::load(dir.path(), 3).is_none(), "never finished: not under its name");
        std::fs::remove_file(dir.path().join(PARTIAL)).unwrap();
        write(dir.path(), 3, &files).finish().unwrap();
        let path = dir.path().join(FILE_NAME);
        let text = std::fs::read_to_string(&path).unwrap();
        let without_last_file: String =
            text.lines().enumerate().filter(|(i, _)| *i != 2).map(|(_, l)| format!("{l}\n")).collect();
        std::fs::write(&path, without_last_file).unwrap();
        assert!(Manifest::load(dir.path(), 3).is_none(), "a line lost");
        let without_trailer: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, without_trailer).unwrap();
        assert!(Manifest::load(dir.path(), 3).is_none(), "cut short");
        std::fs::write(&path, "{\"build\":3,\"fingerprint\":\"fp\",\"files\":{}}").unwrap();
        assert!(Manifest::load(dir.path(), 3).is_none(), "the format before JSON lines");
    }
}
