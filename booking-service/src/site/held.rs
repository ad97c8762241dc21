//! The site's files held in memory, so that a file is read from disk once per build rather
//! than opened, read and closed on every request.
//!
//! An entry is keyed by the build it was read from, the URL path and the codings the client
//! accepts, and is used only while both of these still hold, checked on every request with one
//! `stat` each and no open or read:
//! - the site's root (`stat` follows the `dist` symlink) is the same folder: same device, inode
//!   and modification time. The generator publishes a build by pointing `dist` at a new folder,
//!   so the request after a swap names another build, misses, and reads the new build's file:
//!   an old build's bytes are never served after the swap, even by a request already past its
//!   own check (the next one misses);
//! - the held file itself is unchanged: same device, inode, length and modification time at
//!   its real path. Published builds are never modified, but `--site` may name any folder, one
//!   that is edited or synced in place: a changed or deleted file misses and is located afresh,
//!   its confinement checked again.
//!
//! Both are metadata calls on paths the kernel has just resolved, answered from its caches in
//! about a microsecond, so they run on the executor with the rest of the reply; a hand-over to
//! the blocking pool costs more than the whole hit. A miss locates and reads the file on the
//! blocking pool, as before.
//!
//! Memory is bounded: at most [`HELD_BYTES`] of files, weighed by their length, with
//! `quick_cache`'s eviction (CLOCK-Pro: what is asked for again stays); a file over
//! [`HELD_FILE`] is streamed from disk and never held.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use warp::hyper::body::Bytes;

use super::Description;
use super::locate::VARIANTS;
use crate::encoding::Coding;

/// The most bytes of files held at once.
pub const HELD_BYTES: u64 = 32 * 1024 * 1024;
/// Larger files are streamed from disk, never held.
pub const HELD_FILE: u64 = 1024 * 1024;
/// What an entry costs beyond its bytes (its key, paths and headers), for the bound.
const ENTRY_OVERHEAD: u64 = 512;

/// Which file on disk, in which state: equal identities mean the same bytes, as far as the
/// file system tells (a rewrite in place changes the modification time; a new file, the inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    modified: (i64, i64),
}

impl Identity {
    pub fn of(meta: &Metadata) -> Self {
        Identity { dev: meta.dev(), ino: meta.ino(), len: meta.len(), modified: (meta.mtime(), meta.mtime_nsec()) }
    }

    /// The identity of what `path` names now, following symlinks; `None` if nothing.
    pub fn at(path: &Path) -> Option<Self> {
        std::fs::metadata(path).ok().map(|meta| Identity::of(&meta))
    }
}

/// What an entry is found by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The site root's identity: the build.
    pub build: Identity,
    pub url_path: String,
    /// The accepted codings, best first, packed (see [`wanted_key`]).
    pub wanted: u8,
}

/// The codings a client accepts, best first, as one small number: each coding's place in
/// [`VARIANTS`] plus one, two bits each, in order.
pub fn wanted_key(wanted: &[Coding]) -> u8 {
    wanted.iter().take(3).fold(0, |key, coding| {
        let place = VARIANTS.iter().position(|c| c == coding).map_or(0, |p| p + 1);
        (key << 2) | place as u8
    })
}

/// A file read whole, with where it was read from.
#[derive(Debug)]
pub struct HeldFile {
    /// Its real path, and its identity when it was read.
    pub path: PathBuf,
    pub identity: Identity,
    pub description: Arc<Description>,
    pub bytes: Bytes,
}

impl HeldFile {
    /// Whether the file at its path is still the one that was read.
    fn is_current(&self) -> bool {
        Identity::at(&self.path) == Some(self.identity)
    }
}

#[derive(Debug, Clone)]
struct ByLength;

impl Weighter<Key, Arc<HeldFile>> for ByLength {
    fn weight(&self, key: &Key, held: &Arc<HeldFile>) -> u64 {
        let paths = key.url_path.len() + held.path.as_os_str().len() + held.description.relative.as_os_str().len();
        held.bytes.len() as u64 + paths as u64 + ENTRY_OVERHEAD
    }
}

/// The held files of one site.
pub struct Held {
    cache: Cache<Key, Arc<HeldFile>, ByLength>,
}

impl Default for Held {
    fn default() -> Self {
        Held { cache: Cache::with_weighter((HELD_BYTES / (8 * 1024)) as usize, HELD_BYTES, ByLength) }
    }
}

impl Held {
    /// The held file for `key`, if it is still what is on disk.
    pub fn get(&self, key: &Key) -> Option<Arc<HeldFile>> {
        let held = self.cache.get(key)?;
        if held.is_current() {
            Some(held)
        } else {
            self.cache.remove(key);
            None
        }
    }

    pub fn insert(&self, key: Key, held: Arc<HeldFile>) {
        self.cache.insert(key, held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_order_of_codings_has_its_own_key() {
        let keys = [
            wanted_key(&[]),
            wanted_key(&[Coding::Brotli]),
            wanted_key(&[Coding::Gzip]),
            wanted_key(&[Coding::Brotli, Coding::Gzip]),
            wanted_key(&[Coding::Gzip, Coding::Brotli]),
        ];
        let distinct: std::collections::HashSet<u8> = keys.iter().copied().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    }
}
