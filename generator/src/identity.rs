//! Which generator made a build: part of every page's input key and of the build's fingerprint.
//!
//! The version number alone is not enough: an operator who installs a newer `tiketa-gen` built
//! from the same version (a fix, a changed page kind) would keep every page the old one wrote,
//! because nothing the pages read had changed. The running executable's size and modification
//! time change whenever the binary is replaced, and cost one `stat` (hashing its bytes would
//! cost tens of milliseconds per build, which `watch` pays on every edit). A copy of the same
//! binary with a new time only costs one full rebuild.

use std::time::UNIX_EPOCH;

/// The generator's version and, where the system tells, its executable's size and time.
pub fn generator_identity() -> String {
    let exe = std::env::current_exe().and_then(std::fs::metadata);
    let stamp = exe.ok().map(|m| {
        let mtime = m.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).unwrap_or_default();
        format!(" {} {}.{:09}", m.len(), mtime.as_secs(), mtime.subsec_nanos())
    });
    format!("tiketa-gen {}{}\n", env!("CARGO_PKG_VERSION"), stamp.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_version_and_this_executable() {
        let identity = generator_identity();
        assert!(identity.starts_with(concat!("tiketa-gen ", env!("CARGO_PKG_VERSION"), " ")), "{identity}");
        let size = std::fs::metadata(std::env::current_exe().unwrap()).unwrap().len();
        assert!(identity.contains(&format!(" {size} ")), "{identity} should hold the executable's size {size}");
    }
}
