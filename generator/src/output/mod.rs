//! Writing the site: aside first, then into place, so visitors never see a half-built site.
//!
//! Every rendered file goes to a staging folder beside the output. Only when every page has
//! rendered does anything touch the output folder; a failed build deletes the staging folder
//! and leaves the output exactly as it was.
//!
//! Committing: a first build renames the whole staging folder into place (one atomic step). A
//! later build moves only the files whose bytes changed, each with an atomic rename, in an
//! order that never leaves a dangling link: new files first (assets and posters before the
//! pages that use them), then changed pages, the index and feeds last, and only then deletes
//! the files that are gone. Unchanged files are not touched, so their modification times stay
//! and a CDN sync uploads only what changed.

pub mod manifest;

use std::fs::File;
use std::path::{Path, PathBuf};

use self::manifest::{Digest, FileRecord, Manifest};
use crate::error::BuildError;

/// What happened to one file in a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome {
    Written,
    Unchanged,
}

/// The output folder, locked for one build.
pub struct OutputDir {
    root: PathBuf,
    staging: PathBuf,
    manifest_path: PathBuf,
    previous: Manifest,
    root_existed: bool,
    _lock: File,
}

/// The counts a build reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// A path beside `root`: `<parent>/.<name><suffix>`.
fn sibling(root: &Path, suffix: &str) -> PathBuf {
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "dist".into());
    root.with_file_name(format!(".{name}{suffix}"))
}

impl OutputDir {
    /// Locks the output folder against other builds (a second build waits) and prepares a
    /// clean staging folder.
    pub fn open(root: &Path) -> Result<Self, BuildError> {
        let root = std::path::absolute(root).map_err(|e| BuildError::io(root, e))?;
        if let Some(parent) = root.parent() {
            std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
        }
        let lock_path = sibling(&root, ".lock");
        let lock = File::create(&lock_path).map_err(|e| BuildError::io(&lock_path, e))?;
        lock.lock().map_err(|e| BuildError::io(&lock_path, e))?;
        let staging = sibling(&root, ".staging");
        if staging.exists() {
            // Left by a build that crashed: never part of the published site.
            std::fs::remove_dir_all(&staging).map_err(|e| BuildError::io(&staging, e))?;
        }
        let manifest_path = sibling(&root, ".manifest.json");
        let root_existed = root.is_dir();
        let previous = if root_existed { Manifest::load(&manifest_path) } else { Manifest::default() };
        Ok(OutputDir { root, staging, manifest_path, previous, root_existed, _lock: lock })
    }

    pub fn previous(&self) -> &Manifest {
        &self.previous
    }

    /// Whether the last build had `fingerprint` and all its files are still in place.
    pub fn is_up_to_date(&self, fingerprint: &str) -> bool {
        self.root_existed
            && !self.previous.files.is_empty()
            && self.previous.fingerprint == fingerprint
            && self.previous.files.keys().all(|p| self.root.join(p).is_file())
    }

    /// The published file at `path`, if it was made from inputs with this key and is still
    /// there: then it need not even be rendered.
    pub fn fresh(&self, path: &str, key: Digest) -> Option<&FileRecord> {
        self.previous.files.get(path).filter(|r| r.key == Some(key) && self.root.join(path).is_file())
    }

    /// Stages one rendered file unless the published copy already has these bytes.
    /// Safe to call from many threads at once.
    pub fn stage(&self, path: &str, bytes: &[u8], hash: Digest) -> Result<FileOutcome, BuildError> {
        if self.previous.files.get(path).is_some_and(|r| r.hash == hash) && self.root.join(path).is_file() {
            return Ok(FileOutcome::Unchanged);
        }
        let target = self.staging.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
        }
        std::fs::write(&target, bytes).map_err(|e| BuildError::io(&target, e))?;
        Ok(FileOutcome::Written)
    }

    /// Drops everything staged: the output stays as it was.
    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }

    /// Moves the staged files into place and deletes the files that are gone.
    /// `files` is every file of the new site with its hash and outcome.
    pub fn commit(self, fingerprint: String, files: Vec<StagedFile>) -> Result<WriteSummary, BuildError> {
        let mut summary = WriteSummary::default();
        let mut written: Vec<String> = Vec::new();
        let mut hashes = std::collections::BTreeMap::new();
        for StagedFile { path, record, outcome } in files {
            match outcome {
                FileOutcome::Written => written.push(path.clone()),
                FileOutcome::Unchanged => summary.unchanged += 1,
            }
            hashes.insert(path, record);
        }
        summary.written = written.len();
        let manifest = Manifest { fingerprint, files: hashes };

        if !self.root_existed {
            if self.staging.exists() {
                std::fs::rename(&self.staging, &self.root).map_err(|e| BuildError::io(&self.root, e))?;
            } else {
                std::fs::create_dir_all(&self.root).map_err(|e| BuildError::io(&self.root, e))?;
            }
        } else {
            written.sort_by(|a, b| {
                let key = |p: &String| (self.previous.files.contains_key(p), commit_rank(p));
                key(a).cmp(&key(b)).then_with(|| a.cmp(b))
            });
            for path in &written {
                let (from, to) = (self.staging.join(path), self.root.join(path));
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
                }
                std::fs::rename(&from, &to).map_err(|e| BuildError::io(&to, e))?;
            }
            for gone in self.previous.files.keys().filter(|p| !manifest.files.contains_key(*p)) {
                let path = self.root.join(gone);
                match std::fs::remove_file(&path) {
                    Ok(()) => summary.removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(BuildError::io(&path, e)),
                }
                remove_empty_parents(&self.root, &path);
            }
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        manifest.save(&self.manifest_path)?;
        Ok(summary)
    }
}

/// Commit order within new or changed files: what others link to first, the pages that link
/// to many others (index, feeds) last.
fn commit_rank(path: &str) -> u8 {
    if path.starts_with("assets/") || path.starts_with("posters/") {
        0
    } else if path.starts_with("book/") {
        1
    } else if path.starts_with("films/") {
        2
    } else {
        3
    }
}

/// Removes the folders a deleted page leaves empty (`book/<id>/`), up to the output root.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// One file of the new site, staged or found unchanged.
#[derive(Debug)]
pub struct StagedFile {
    pub path: String,
    pub record: FileRecord,
    pub outcome: FileOutcome,
}

/// Hashes and stages a rendered file: the per-page step of a build.
pub fn stage_page(out: &OutputDir, path: String, bytes: &[u8], key: Option<Digest>) -> Result<StagedFile, BuildError> {
    let hash = Digest::of(bytes);
    let outcome = out.stage(&path, bytes, hash)?;
    Ok(StagedFile { path, record: FileRecord { hash, key }, outcome })
}
