//! Writing the site: a complete new build folder aside, then one atomic switch.
//!
//! Every build writes a new, numbered build folder beside the output (see [`layout`]). A file
//! whose bytes did not change is hard-linked from the published build, so it keeps its bytes,
//! inode and modification time (a CDN sync uploads only what changed); a changed or new file is
//! written, with its precompressed variants (see [`compress`]). A file that is gone is simply
//! not in the new folder. When every file is in place, the folder and its manifest are flushed
//! to disk and `dist` is switched to it by one `rename(2)`: a kill or a power cut at any
//! instant leaves exactly the old site or exactly the new one, and the next build removes what
//! a killed build left.
//!
//! Published build folders are never modified: files are created with `create_new`, so a
//! hard-linked file cannot be written through.

pub mod compress;
mod durable;
mod layout;
pub mod manifest;

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use self::compress::{Coding, compress, wants_variants};
use self::layout::{Current, Layout};
use self::manifest::{Digest, FileRecord, Manifest, ManifestWriter};
use crate::error::BuildError;

/// What happened to one file in a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome {
    Written,
    Unchanged,
}

/// The counts a build reports. They count the site's files, not their `.gz`/`.br` variants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// What a new build can reuse.
enum Previous {
    Nothing,
    /// The published build and its manifest, which was published with it by the same rename:
    /// trusted.
    Published {
        dir: PathBuf,
        site: PathBuf,
        manifest: Manifest,
    },
    /// A folder without a manifest to trust (the old layout's `dist/`, or a published build
    /// whose manifest was lost): a file is reused only if its bytes are equal.
    Unverified {
        site: PathBuf,
    },
}

/// The output, locked for one build, with what the published build holds.
pub struct OutputDir {
    layout: Layout,
    current: Current,
    previous: Previous,
    /// Threads deleting the build folders [`Layout::put_aside`] moved away. Joined before a
    /// build reports success, and when the output is dropped, so nothing is left half-deleted
    /// behind a finished command.
    cleaners: Mutex<Vec<JoinHandle<Result<(), BuildError>>>>,
    _lock: File,
}

impl OutputDir {
    /// Locks the output against other builds (a second build waits), finds the published build,
    /// and removes what killed builds left. The build before the published one stays until a
    /// new build starts (see [`OutputDir::begin`]), so a no-change build deletes nothing.
    pub fn open(root: &Path) -> Result<Self, BuildError> {
        let layout = Layout::new(root)?;
        let parent = layout.parent();
        std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
        let lock = File::create(&layout.lock).map_err(|e| BuildError::io(&layout.lock, e))?;
        lock.lock().map_err(|e| BuildError::io(&layout.lock, e))?;

        let current = layout.current()?;
        layout.remove_temporaries()?;
        // Builds are numbered upwards: one above the published build was never published.
        let killed = layout.put_aside(
            |n| match (current, n) {
                (Current::Build(published), Some(n)) => n > published,
                _ => true,
            },
            true,
        )?;
        if current != Current::Legacy && layout.legacy_manifest.exists() {
            // Left by a switch from the old layout that was killed before tidying up.
            std::fs::remove_file(&layout.legacy_manifest).map_err(|e| BuildError::io(&layout.legacy_manifest, e))?;
        }
        let previous = match current {
            Current::Nothing => Previous::Nothing,
            Current::Legacy => Previous::Unverified { site: layout.link.clone() },
            Current::Build(id) => {
                let dir = layout.build_dir(id);
                let site = dir.join("site");
                match Manifest::load(&dir, id) {
                    Some(manifest) => Previous::Published { dir, site, manifest },
                    None if site.is_dir() => Previous::Unverified { site },
                    None => Previous::Nothing,
                }
            }
        };
        let out = OutputDir { layout, current, previous, cleaners: Mutex::new(Vec::new()), _lock: lock };
        out.delete_in_background(killed);
        Ok(out)
    }

    /// Deletes these folders on a thread of their own.
    fn delete_in_background(&self, folders: Vec<PathBuf>) {
        if !folders.is_empty() {
            let cleaner = std::thread::spawn(move || folders.iter().try_for_each(|dir| layout::remove_if_present(dir)));
            self.cleaners.lock().unwrap_or_else(|e| e.into_inner()).push(cleaner);
        }
    }

    /// Waits for the old build folders to be deleted.
    pub fn finish_cleaning(&self) -> Result<(), BuildError> {
        let cleaners = std::mem::take(&mut *self.cleaners.lock().unwrap_or_else(|e| e.into_inner()));
        for cleaner in cleaners {
            cleaner.join().map_err(|_| BuildError::Other("deleting old build folders panicked".into()))??;
        }
        Ok(())
    }

    /// How many files the published build holds, by its manifest.
    pub fn published_files(&self) -> usize {
        match &self.previous {
            Previous::Published { manifest, .. } => manifest.len(),
            _ => 0,
        }
    }

    /// Whether the published build was made from inputs with this fingerprint and all its files
    /// are still there: then there is nothing to build.
    pub fn is_up_to_date(&self, fingerprint: &str) -> bool {
        match &self.previous {
            Previous::Published { dir, site, manifest } => {
                !manifest.is_empty() && manifest.fingerprint == fingerprint && Manifest::all_files_present(dir, site)
            }
            _ => false,
        }
    }

    /// Starts a new build folder for inputs with this fingerprint, which nothing reads until
    /// [`Staging::publish`]. The builds
    /// before the published one go now: once the new build is published, the published one
    /// becomes the build before, kept for readers that resolved `dist` a moment before the
    /// switch.
    pub fn begin(&self, fingerprint: &str) -> Result<Staging<'_>, BuildError> {
        if let Current::Build(published) = self.current {
            // Trash left before is being deleted already (see `open`).
            self.delete_in_background(self.layout.put_aside(|n| n.is_some_and(|n| n < published), false)?);
        }
        let builds = &self.layout.builds;
        std::fs::create_dir_all(builds).map_err(|e| BuildError::io(builds, e))?;
        let mut id = match self.current {
            Current::Build(id) => id.checked_add(1),
            _ => Some(1),
        };
        let (id, dir) = loop {
            let Some(n) = id else {
                return Err(BuildError::Other(format!(
                    "{}: no build number left after the published one; delete the output and its build folders to start again",
                    self.layout.link.display()
                )));
            };
            let dir = self.layout.build_dir(n);
            match std::fs::create_dir(&dir) {
                Ok(()) => break (n, dir),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => id = n.checked_add(1),
                Err(e) => return Err(BuildError::io(&dir, e)),
            }
        };
        let site = dir.join("site");
        // No `Staging` owns the folder yet to delete it if either step fails: done here.
        let made = std::fs::create_dir(&site)
            .map_err(|e| BuildError::io(&site, e))
            .and_then(|()| ManifestWriter::create(&dir, id, fingerprint));
        let manifest = match made {
            Ok(manifest) => manifest,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        Ok(Staging {
            out: self,
            id,
            site,
            dir,
            manifest,
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            kept: AtomicUsize::new(0),
            published: false,
        })
    }
}

/// A build folder being filled. Dropped without [`Staging::publish`] (an error, a panic), it
/// is deleted; killed, it is deleted by the next build.
pub struct Staging<'a> {
    out: &'a OutputDir,
    id: u64,
    dir: PathBuf,
    site: PathBuf,
    /// The new build's manifest, a line per file as it is staged.
    manifest: ManifestWriter,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    /// Files of the published build that are in the new one too: the rest were removed.
    kept: AtomicUsize,
    published: bool,
}

impl Staging<'_> {
    /// Puts the file at `path` into the new build and records it in the manifest: linked from
    /// the published build (with its variants) when that was made from inputs with this `key`,
    /// without calling `render`; otherwise rendered, then linked if its bytes are the same, or
    /// written with its variants. Safe to call from many threads, once per path.
    pub fn put(
        &self,
        path: &str,
        key: Option<Digest>,
        render: impl FnOnce() -> Result<Vec<u8>, BuildError>,
    ) -> Result<FileOutcome, BuildError> {
        let previous = match &self.out.previous {
            Previous::Published { manifest, .. } => manifest.get(path).copied(),
            _ => None,
        };
        if previous.is_some() {
            self.kept.fetch_add(1, Ordering::Relaxed);
        }
        let fresh = match (&self.out.previous, previous, key) {
            (Previous::Published { site, .. }, Some(old), Some(key)) if old.key == Some(key) => {
                self.reuse(site, path)?.then_some(old)
            }
            _ => None,
        };
        let (record, outcome) = match fresh {
            Some(record) => (record, FileOutcome::Unchanged),
            None => {
                let bytes = render()?;
                let hash = Digest::of(&bytes);
                (FileRecord { hash, key }, self.stage(path, &bytes, hash, previous)?)
            }
        };
        self.manifest.record(path, record)?;
        let count = match outcome {
            FileOutcome::Written => &self.written,
            FileOutcome::Unchanged => &self.unchanged,
        };
        count.fetch_add(1, Ordering::Relaxed);
        Ok(outcome)
    }

    /// Puts one rendered file into the new build: linked from the published build when the bytes
    /// are the same (`previous` is the published build's record of it), written (with its
    /// variants) otherwise.
    fn stage(
        &self,
        path: &str,
        bytes: &[u8],
        hash: Digest,
        previous: Option<FileRecord>,
    ) -> Result<FileOutcome, BuildError> {
        let reused = match &self.out.previous {
            Previous::Published { site, .. } => previous.is_some_and(|r| r.hash == hash) && self.reuse(site, path)?,
            Previous::Unverified { site } => same_bytes(&site.join(path), bytes) && self.reuse(site, path)?,
            Previous::Nothing => false,
        };
        if reused {
            return Ok(FileOutcome::Unchanged);
        }
        self.write(path, bytes)?;
        if wants_variants(path, bytes.len() as u64) {
            for coding in Coding::ALL {
                self.write(&coding.variant_of(path), &compress(coding, path, bytes))?;
            }
        }
        Ok(FileOutcome::Written)
    }

    /// Hard-links `path` and its variants from `site` into the new build. `false` when the file
    /// is not there to link. A variant the previous build lacks is made from the file's bytes.
    fn reuse(&self, site: &Path, path: &str) -> Result<bool, BuildError> {
        let to = self.site.join(path);
        create_parent(&self.site, &to)?;
        match std::fs::hard_link(site.join(path), &to) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(BuildError::io(&to, e)),
        }
        let len = std::fs::metadata(&to).map_err(|e| BuildError::io(&to, e))?.len();
        if !wants_variants(path, len) {
            return Ok(true);
        }
        for coding in Coding::ALL {
            let variant = coding.variant_of(path);
            let variant_to = self.site.join(&variant);
            match std::fs::hard_link(site.join(&variant), &variant_to) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    let bytes = std::fs::read(&to).map_err(|e| BuildError::io(&to, e))?;
                    self.write(&variant, &compress(coding, path, &bytes))?;
                }
                Err(e) => return Err(BuildError::io(&variant_to, e)),
            }
        }
        Ok(true)
    }

    /// Writes a new file of the build. `create_new`: a path is written once per build, and a
    /// file linked from a published build is never written through.
    fn write(&self, path: &str, bytes: &[u8]) -> Result<(), BuildError> {
        use std::io::Write;
        let to = self.site.join(path);
        create_parent(&self.site, &to)?;
        let mut file = File::create_new(&to).map_err(|e| BuildError::io(&to, e))?;
        file.write_all(bytes).map_err(|e| BuildError::io(&to, e))
    }

    /// Ends the manifest, flushes the build to disk, and switches `dist` to it. Every file of
    /// the new site has been [`Staging::put`] by now.
    pub fn publish(mut self) -> Result<WriteSummary, BuildError> {
        let mut summary = WriteSummary {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            removed: 0,
        };
        if let Previous::Published { manifest, .. } = &self.out.previous {
            summary.removed = manifest.len().saturating_sub(self.kept.load(Ordering::Relaxed));
        }
        self.manifest.finish()?;
        durable::sync_file_system(&self.dir).map_err(|e| BuildError::io(&self.dir, e))?;

        let layout = &self.out.layout;
        // From here the folder may be what `dist` points to, even if the switch reports an
        // error after its rename: it must not be deleted on the way out. If it was not
        // published after all, the next build deletes it as a killed build's.
        self.published = true;
        layout.switch(self.id, self.out.current)?;
        if self.out.current == Current::Legacy {
            let _ = std::fs::remove_file(&layout.legacy_manifest);
        }
        self.out.finish_cleaning().map_err(|e| {
            BuildError::Other(format!(
                "the new site is published, but an old build folder could not be deleted: {e}; delete it by hand"
            ))
        })?;
        Ok(summary)
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        let _ = self.finish_cleaning();
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Creates the folders above a file of the build (`book/<id>/`), inside `site`.
fn create_parent(site: &Path, file: &Path) -> Result<(), BuildError> {
    match file.parent() {
        Some(dir) if dir != site => std::fs::create_dir_all(dir).map_err(|e| BuildError::io(dir, e)),
        _ => Ok(()),
    }
}

/// Whether the file at `path` holds exactly `bytes` (a missing file does not).
fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == bytes)
}
