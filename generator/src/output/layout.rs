//! Where builds live beside the output path, and the one step that publishes a build.
//!
//! For `--out /srv/tiketa/dist`:
//!
//! ```text
//! /srv/tiketa/dist -> .dist.builds/7/site     a relative symlink: what servers and syncs read
//! /srv/tiketa/.dist.builds/7/site/            the published build, complete and never modified
//! /srv/tiketa/.dist.builds/7/manifest.json    what build 7 holds (published with it)
//! /srv/tiketa/.dist.builds/6/                 the build before, until the next build starts
//! /srv/tiketa/.dist.builds/8/                 a build in progress (or killed): never read
//! /srv/tiketa/.dist.lock                      serialises builds
//! ```
//!
//! A build writes a new folder aside, then points a new symlink at it under a temporary name and
//! renames that over `dist`: `rename(2)` replaces `dist` in one step, so a reader (or a kill)
//! sees the old build or the new one, never a mix. The target is relative, so the checkout can
//! be moved or mounted elsewhere.

use std::path::{Path, PathBuf};

use crate::error::BuildError;

/// The paths of one output.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The output path itself (`dist`): a symlink to the published build's `site/`.
    pub link: PathBuf,
    /// The folder holding the numbered builds (`.dist.builds`).
    pub builds: PathBuf,
    /// Serialises builds of this output (`.dist.lock`).
    pub lock: PathBuf,
    /// The new symlink, before it is renamed over `link` (`.dist.link.tmp`).
    temp_link: PathBuf,
    /// State of the layout before build folders: `.dist.manifest.json` and `.dist.staging`.
    pub legacy_manifest: PathBuf,
    pub legacy_staging: PathBuf,
    builds_name: String,
}

/// What the output path holds when a build starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Current {
    /// Nothing yet.
    Nothing,
    /// A symlink to build `n` (whose folder may be missing if someone deleted it).
    Build(u64),
    /// A folder written by a version of tiketa-gen before build folders: it is replaced, in one
    /// step too, by the first build after the upgrade.
    Legacy,
}

impl Layout {
    /// The layout for `--out out`. Its last component names the output (`dist`); the build
    /// folders go beside it.
    pub fn new(out: &Path) -> Result<Layout, BuildError> {
        let absolute = std::path::absolute(out).map_err(|e| BuildError::io(out, e))?;
        let (parent, name) = match (absolute.parent(), absolute.file_name().and_then(|n| n.to_str())) {
            (Some(parent), Some(name)) => (parent, name.to_owned()),
            _ => {
                return Err(BuildError::Other(format!(
                    "--out {}: name the output folder itself, such as dist or /srv/tiketa/dist",
                    out.display()
                )));
            }
        };
        // Rebuilt from its parts: `dist/` with a trailing slash would make every call below
        // follow the symlink instead of acting on it.
        let link = parent.join(&name);
        let beside = |suffix: &str| parent.join(format!(".{name}{suffix}"));
        Ok(Layout {
            builds: beside(".builds"),
            lock: beside(".lock"),
            temp_link: beside(".link.tmp"),
            legacy_manifest: beside(".manifest.json"),
            legacy_staging: beside(".staging"),
            builds_name: format!(".{name}.builds"),
            link,
        })
    }

    /// The folder that holds the output, its builds and its lock.
    pub fn parent(&self) -> &Path {
        self.link.parent().expect("checked in Layout::new")
    }

    /// Build `id`'s folder: `site/` and `manifest.json`.
    pub fn build_dir(&self, id: u64) -> PathBuf {
        self.builds.join(id.to_string())
    }

    /// What the output symlink of build `id` holds: relative to the symlink's own folder.
    fn target(&self, id: u64) -> PathBuf {
        Path::new(&self.builds_name).join(id.to_string()).join("site")
    }

    /// What the output path holds now. Anything that is not a build of this layout, nor a folder
    /// an older tiketa-gen wrote, is refused rather than replaced.
    pub fn current(&self) -> Result<Current, BuildError> {
        let meta = match std::fs::symlink_metadata(&self.link) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Current::Nothing),
            Err(e) => return Err(BuildError::io(&self.link, e)),
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&self.link).map_err(|e| BuildError::io(&self.link, e))?;
            let id = target
                .strip_prefix(&self.builds_name)
                .ok()
                .and_then(|rest| rest.to_str()?.strip_suffix("/site")?.parse::<u64>().ok())
                .filter(|id| target == self.target(*id));
            return id.map(Current::Build).ok_or_else(|| {
                BuildError::Other(format!(
                    "{} is a symlink to {}, which is not a build of tiketa-gen (those point to {}/<n>/site); \
                     remove the symlink or choose another --out",
                    self.link.display(),
                    target.display(),
                    self.builds_name
                ))
            });
        }
        let empty =
            meta.is_dir() && std::fs::read_dir(&self.link).map_err(|e| BuildError::io(&self.link, e))?.next().is_none();
        if meta.is_dir() && (empty || self.legacy_manifest.is_file()) {
            return Ok(Current::Legacy);
        }
        Err(BuildError::Other(format!(
            "{} exists and is not a site tiketa-gen built (no {} beside it); move it away or choose another --out",
            self.link.display(),
            self.legacy_manifest.display()
        )))
    }

    /// Removes a temporary symlink and the old layout's staging folder, left by a killed build.
    pub fn remove_temporaries(&self) -> Result<(), BuildError> {
        remove_if_present(&self.temp_link)?;
        remove_if_present(&self.legacy_staging)
    }

    /// Renames out of the way (`.trash-<name>`, never a build number) the entries of the
    /// builds folder that `unwanted` picks by number (`None`: not a build number), and returns
    /// them, with the trash an earlier process left if `old_trash`. Deleting them can take
    /// seconds for a large site, so the caller does it while the new build renders.
    pub fn put_aside(
        &self,
        unwanted: impl Fn(Option<u64>) -> bool,
        old_trash: bool,
    ) -> Result<Vec<PathBuf>, BuildError> {
        let entries = match std::fs::read_dir(&self.builds) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(BuildError::io(&self.builds, e)),
        };
        let mut trash = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| BuildError::io(&self.builds, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".trash-") {
                if old_trash {
                    trash.push(entry.path());
                }
            } else if unwanted(name.parse().ok()) {
                let aside = self.builds.join(format!(".trash-{name}"));
                remove_if_present(&aside)?;
                std::fs::rename(entry.path(), &aside).map_err(|e| BuildError::io(&entry.path(), e))?;
                trash.push(aside);
            }
        }
        Ok(trash)
    }

    /// Points the output at build `id`, in one `rename(2)`, and makes that durable.
    pub fn switch(&self, id: u64, current: Current) -> Result<(), BuildError> {
        remove_if_present(&self.temp_link)?;
        std::os::unix::fs::symlink(self.target(id), &self.temp_link).map_err(|e| BuildError::io(&self.temp_link, e))?;
        if current == Current::Legacy {
            self.replace_legacy_folder()?;
        } else {
            std::fs::rename(&self.temp_link, &self.link).map_err(|e| BuildError::io(&self.link, e))?;
        }
        super::durable::sync_folder(self.parent()).map_err(|e| BuildError::io(self.parent(), e))
    }

    /// A folder cannot be renamed over: it is exchanged with the new symlink in one step
    /// (`renameat2(RENAME_EXCHANGE)`), then moved among the builds, where the next build
    /// deletes it. Where the file system cannot exchange, it is moved away first, and `dist` is
    /// missing for the moment between the two renames.
    fn replace_legacy_folder(&self) -> Result<(), BuildError> {
        let aside = self.builds.join("legacy");
        remove_if_present(&aside)?;
        if exchange(&self.temp_link, &self.link).is_ok() {
            std::fs::rename(&self.temp_link, &aside).map_err(|e| BuildError::io(&aside, e))?;
        } else {
            std::fs::rename(&self.link, &aside).map_err(|e| BuildError::io(&self.link, e))?;
            std::fs::rename(&self.temp_link, &self.link).map_err(|e| BuildError::io(&self.link, e))?;
        }
        Ok(())
    }
}

/// Swaps two paths atomically.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Removes a file, symlink or folder tree if it is there.
pub fn remove_if_present(path: &Path) -> Result<(), BuildError> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(BuildError::io(path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sit_beside_the_output_and_the_target_is_relative() {
        let layout = Layout::new(Path::new("/srv/tiketa/dist")).unwrap();
        assert_eq!(layout.builds, Path::new("/srv/tiketa/.dist.builds"));
        assert_eq!(layout.lock, Path::new("/srv/tiketa/.dist.lock"));
        assert_eq!(layout.build_dir(7), Path::new("/srv/tiketa/.dist.builds/7"));
        assert_eq!(layout.target(7), Path::new(".dist.builds/7/site"));
        let slash = Layout::new(Path::new("/srv/tiketa/dist/")).unwrap();
        assert_eq!(slash.link.as_os_str(), "/srv/tiketa/dist", "a trailing slash would follow the symlink");
        assert!(Layout::new(Path::new("/")).is_err());
        assert!(Layout::new(Path::new("/srv/..")).is_err());
    }

    #[test]
    fn a_foreign_symlink_or_folder_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(&dir.path().join("dist")).unwrap();
        assert_eq!(layout.current().unwrap(), Current::Nothing);
        std::os::unix::fs::symlink("/var/www", &layout.link).unwrap();
        assert!(layout.current().unwrap_err().to_string().contains("not a build of tiketa-gen"));
        std::fs::remove_file(&layout.link).unwrap();
        std::os::unix::fs::symlink(".dist.builds/12/site", &layout.link).unwrap();
        assert_eq!(layout.current().unwrap(), Current::Build(12));
        std::fs::remove_file(&layout.link).unwrap();
        std::fs::create_dir(&layout.link).unwrap();
        assert_eq!(layout.current().unwrap(), Current::Legacy, "an empty folder");
        std::fs::write(layout.link.join("notes.txt"), "mine").unwrap();
        assert!(layout.current().unwrap_err().to_string().contains("not a site tiketa-gen built"));
        std::fs::write(&layout.legacy_manifest, "{}").unwrap();
        assert_eq!(layout.current().unwrap(), Current::Legacy);
    }
}
