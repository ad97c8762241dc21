//! Finding the file a URL names: inside the site, and nowhere else.
//!
//! The site root is resolved to its real path on every request, because the generator swaps
//! builds by pointing a `dist` symlink at the new build folder: a root resolved once at start
//! would keep serving a deleted build. The file's own real path (every symlink resolved) must
//! then lie inside that root, so a symlink in the site that points outside it (to
//! `/etc/passwd`, to the bookings database) answers 404 like a missing file.
//!
//! The check and the open are two steps: someone who can write into the site folder could swap
//! a checked directory for a symlink between them. Only the generator writes there; where that
//! does not hold, `openat2` with `RESOLVE_BENEATH` (Linux 5.6+) would close the gap.
//!
//! A file may have precompressed variants beside it, `<file>.br` and `<file>.gz`, which the
//! generator writes for text files; each is confined the same way. A URL that names a `.br` or
//! `.gz` file itself gets that file as it is, never a variant of it.

use std::fs::{File, Metadata};
use std::io;
use std::path::{Component, Path, PathBuf};

use percent_encoding::percent_decode_str;

use crate::encoding::Coding;

/// Every coding the site may have a variant in, in the service's own order of preference.
pub const VARIANTS: &[Coding] = &[Coding::Brotli, Coding::Gzip];

/// The file to send for a URL.
#[derive(Debug)]
pub struct Located {
    /// The site's real root when the file was located: the build it belongs to.
    pub root: PathBuf,
    /// The real path of the file sent: the original or the chosen variant.
    pub path: PathBuf,
    /// The original or the chosen variant, open.
    pub file: File,
    pub meta: Metadata,
    /// The requested file's path relative to the site root: its content type and cache policy.
    pub relative: PathBuf,
    /// The variant's coding, or `None` for the original.
    pub coding: Option<Coding>,
    /// Whether the file has variants, so that the reply varies by `Accept-Encoding`.
    pub has_variants: bool,
}

/// Locates the file `url_path` names under `site`, open; `wanted` are the codings the client
/// accepts, best first (empty for the original only). `Ok(None)` when there is no such file
/// inside the site; `Err` when the site itself cannot be read or the file cannot be opened.
pub fn locate(site: &Path, url_path: &str, wanted: &[Coding]) -> io::Result<Option<Located>> {
    let Some(mut relative) = relative_path(url_path) else { return Ok(None) };
    let root = site.canonicalize()?;
    let Some(mut real) = confined(&root, &relative) else { return Ok(None) };
    if real.is_dir() {
        relative.push("index.html");
        match confined(&root, &relative) {
            Some(index) => real = index,
            None => return Ok(None),
        }
    } else if url_path.ends_with('/') {
        return Ok(None); // `/page.html/` names a folder, and there is none
    }
    if !real.is_file() {
        return Ok(None);
    }
    let variants: Vec<(Coding, PathBuf)> = if is_encoded_itself(&relative) {
        Vec::new()
    } else {
        VARIANTS
            .iter()
            .filter_map(|&coding| {
                let mut name = relative.clone().into_os_string();
                name.push(coding.file_suffix());
                confined(&root, Path::new(&name)).filter(|p| p.is_file()).map(|p| (coding, p))
            })
            .collect()
    };
    let chosen = wanted.iter().find_map(|&want| variants.iter().find(|(coding, _)| *coding == want));
    let has_variants = !variants.is_empty();
    let (coding, path) = match chosen {
        Some((coding, path)) => (Some(*coding), path.clone()),
        None => (None, real),
    };
    let file = File::open(&path)?;
    let meta = file.metadata()?;
    Ok(Some(Located { root, path, file, meta, relative, coding, has_variants }))
}

/// The site-relative path a URL path names, or `None` if it tries to leave the site or is not
/// valid UTF-8 once decoded. Empty segments are skipped; `.`, `..`, backslashes and NUL are
/// refused outright.
pub fn relative_path(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode_str(url_path).decode_utf8().ok()?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." || segment.contains(['\\', '\0']) {
            return None;
        }
        relative.push(segment);
    }
    // One normal component per segment: nothing absolute, no prefix, nothing to climb.
    relative.components().all(|c| matches!(c, Component::Normal(_))).then_some(relative)
}

/// The real path of `root/relative`, if it exists and lies inside `root` (itself real).
fn confined(root: &Path, relative: &Path) -> Option<PathBuf> {
    let real = root.join(relative).canonicalize().ok()?;
    if real.starts_with(root) {
        Some(real)
    } else {
        tracing::debug!("{} leads out of the site (to {}); answering 404", relative.display(), real.display());
        None
    }
}

fn is_encoded_itself(relative: &Path) -> bool {
    relative.extension().is_some_and(|e| e == "gz" || e == "br")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_never_climb_out() {
        assert_eq!(relative_path("/films/akira/"), Some(PathBuf::from("films/akira")));
        assert_eq!(relative_path("/"), Some(PathBuf::new()));
        assert_eq!(relative_path("//assets//site.css"), Some(PathBuf::from("assets/site.css")));
        assert_eq!(relative_path("/caf%C3%A9.html"), Some(PathBuf::from("café.html")));
        for hostile in ["/../etc/passwd", "/a/%2e%2e/%2e%2e/etc/passwd", "/a/./b", "/a%5c..%5cb", "/a%00b", "/%ff"] {
            assert_eq!(relative_path(hostile), None, "{hostile}");
        }
        assert_eq!(relative_path("/a%2fb"), Some(PathBuf::from("a/b")), "an encoded slash is only a slash");
    }
}
