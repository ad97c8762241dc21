//! Making a build durable before it is published, and its publication durable before the build
//! says it is done.
//!
//! The promise: once `build` prints its line, a power cut leaves the new site, complete. So the
//! new build folder (files, folders, manifest) reaches the disk before `dist` is switched to it,
//! and the switch reaches the disk before the line is printed.

use std::path::Path;

/// Flushes everything written on the file system that holds `dir`.
///
/// On Linux this is one `syncfs(2)`: fsync-ing each of a 175,000-file build one by one would
/// cost a journal commit per file. Elsewhere it is `sync(2)`, which also waits on Linux and
/// the BSDs.
pub fn sync_file_system(dir: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let folder = std::fs::File::open(dir)?;
        // SAFETY: syncfs only reads the descriptor, which `folder` keeps open for the call.
        if unsafe { libc::syncfs(folder.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        // SAFETY: sync takes no arguments and cannot fail.
        unsafe { libc::sync() };
    }
    Ok(())
}

/// Makes a folder's entries (a rename into it, a new symlink) durable.
pub fn sync_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
