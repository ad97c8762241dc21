//! A film's own poster: the one path that content names, and so the one way content could
//! publish a file the generator can read. It is confined to the content folder and to the
//! image types the site publishes.
//!
//! - **Confined.** The path is relative, has no `..`, and resolves (symlinks included, after
//!   canonicalising both it and the content folder) inside the content folder; the resolved
//!   file is then opened without following a symlink as its last component, so a file swapped
//!   for a symlink after the check is refused. (A parent folder swapped for a symlink between the
//!   check and the open is still followed; `openat2` with `RESOLVE_BENEATH` would close that.)
//!   A poster path can no longer publish `../var/tiketa.db` or `/etc/passwd`.
//! - **Images only, by extension and by signature.** JPEG, PNG, WebP, AVIF and GIF, whose first
//!   bytes must match the extension: a CDN serves a file by its extension, and an HTML file
//!   named `.png` is still not an image.
//! - **No SVG.** An SVG is a document, not a picture: opened directly (a visitor following the
//!   image's URL), its `<script>` and event handlers run on the site's own origin, where the
//!   booking pages and their manage tokens live, and a CDN serves it without the booking
//!   service's restrictive headers. Sanitising SVG is a project of its own; the generated
//!   posters (which escape every text) stay SVG, an author's poster is a raster image.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::content_file::{self, Limit, ReadError};

/// An image type a poster may be: extension (lowercase), name, signature check.
type ImageType = (&'static str, &'static str, fn(&[u8]) -> bool);

const TYPES: &[ImageType] = &[
    ("jpg", "JPEG", is_jpeg),
    ("jpeg", "JPEG", is_jpeg),
    ("png", "PNG", |b| b.starts_with(b"\x89PNG\r\n\x1a\n")),
    ("webp", "WebP", |b| b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP"),
    ("avif", "AVIF", is_avif),
    ("gif", "GIF", |b| b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")),
];

/// How many leading bytes the signature checks look at.
const SIGNATURE_LEN: usize = 32;

const EXAMPLE: &str = "such as \"posters/akira.jpg\"";

fn is_jpeg(b: &[u8]) -> bool {
    b.starts_with(&[0xff, 0xd8, 0xff])
}

/// An ISO-BMFF `ftyp` box whose brands (major or compatible) include AVIF.
fn is_avif(b: &[u8]) -> bool {
    if b.len() < 12 || &b[4..8] != b"ftyp" {
        return false;
    }
    let end = (u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize).min(b.len());
    b[8..end].chunks_exact(4).any(|brand| brand == b"avif" || brand == b"avis")
}

/// The image type of a poster path by its extension: (extension, name, signature check).
fn image_type(poster: &Path) -> Result<ImageType, String> {
    let ext = poster.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    if ext == "svg" || ext == "svgz" {
        return Err(format!(
            "`{}`: an SVG poster is not published, because an SVG can carry script that would run on the site's origin when the image is opened directly; export it as PNG, WebP or JPEG",
            poster.display()
        ));
    }
    TYPES.iter().find(|(e, _, _)| *e == ext).copied().ok_or_else(|| {
        format!(
            "`{}` is not an image type the site publishes; use a .jpg, .jpeg, .png, .webp, .avif or .gif file",
            poster.display()
        )
    })
}

/// Checks the path as written, without touching the disk: relative, no `..`, an image type.
pub fn check_path(poster: &Path) -> Result<(), String> {
    if poster.has_root() || poster.components().any(|c| matches!(c, Component::Prefix(_))) {
        return Err(format!(
            "`{}` is an absolute path; a poster must be inside the content folder: name it relative to the content folder, {EXAMPLE}",
            poster.display()
        ));
    }
    if poster.components().any(|c| c == Component::ParentDir) {
        return Err(format!(
            "`{}` climbs out with `..`; a poster must be inside the content folder: name it relative to the content folder, {EXAMPLE}",
            poster.display()
        ));
    }
    if poster.as_os_str().is_empty() {
        return Err(format!("is empty; name an image file relative to the content folder, {EXAMPLE}"));
    }
    image_type(poster).map(|_| ())
}

/// Where a poster really is: canonical, and inside the canonical content folder.
fn resolve(root: &Path, poster: &Path) -> Result<PathBuf, String> {
    check_path(poster)?;
    let root = root.canonicalize().map_err(|e| format!("cannot resolve the content folder {}: {e}", root.display()))?;
    let real = root.join(poster).canonicalize().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "`{}` is not a file in the content folder ({}); check the path, which is relative to the content folder",
                poster.display(),
                root.display()
            )
        } else {
            format!("`{}` cannot be resolved: {e}", poster.display())
        }
    })?;
    if !real.starts_with(&root) {
        return Err(format!(
            "`{}` resolves to {}, outside the content folder {}; a poster must be a file inside the content folder: copy the image there rather than linking to it",
            poster.display(),
            real.display(),
            root.display()
        ));
    }
    Ok(real)
}

/// Opens the resolved poster: a regular file within [`Limit::POSTER`], not a symlink.
fn open(root: &Path, poster: &Path) -> Result<(std::fs::File, u64), String> {
    let real = resolve(root, poster)?;
    content_file::open_resolved(&real, Limit::POSTER).map_err(|e| describe(poster, &e))
}

fn describe(poster: &Path, err: &ReadError) -> String {
    format!("`{}` {err}", poster.display())
}

fn check_signature(poster: &Path, head: &[u8]) -> Result<(), String> {
    let (_, name, matches) = image_type(poster)?;
    if matches(head) {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a {name} image (its first bytes are not a {name} signature); save it as {name}, or give it the extension of its real type",
            poster.display()
        ))
    }
}

/// Everything [`read`] checks, reading only the first bytes: for loading the catalog.
pub fn check(root: &Path, poster: &Path) -> Result<(), String> {
    let (file, _) = open(root, poster)?;
    let mut head = Vec::with_capacity(SIGNATURE_LEN);
    file.take(SIGNATURE_LEN as u64).read_to_end(&mut head).map_err(|e| describe(poster, &e.into()))?;
    check_signature(poster, &head)
}

/// The poster's bytes, checked again (the file may have changed since the catalog loaded).
pub fn read(root: &Path, poster: &Path) -> Result<Vec<u8>, String> {
    let (file, size) = open(root, poster)?;
    let bytes = content_file::read_bounded(file, size, Limit::POSTER).map_err(|e| describe(poster, &e))?;
    check_signature(poster, &bytes[..bytes.len().min(SIGNATURE_LEN)])?;
    Ok(bytes)
}

/// Streams the poster into a hash (for the build's fingerprint) without holding it in memory.
pub fn hash_into(hasher: &mut blake3::Hasher, root: &Path, poster: &Path) -> Result<(), String> {
    let (file, size) = open(root, poster)?;
    content_file::hash_opened(hasher, file, size, Limit::POSTER).map_err(|e| describe(poster, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn paths_must_be_relative_without_parent_steps_and_name_an_image() {
        assert!(check_path(Path::new("posters/a.jpg")).is_ok());
        assert!(check_path(Path::new("posters/a.JPEG")).is_ok());
        assert!(check_path(Path::new("./posters/a.webp")).is_ok());
        assert!(check_path(Path::new("/etc/passwd")).unwrap_err().contains("absolute"));
        assert!(check_path(Path::new("../var/tiketa.db")).unwrap_err().contains("`..`"));
        assert!(check_path(Path::new("posters/../../x.png")).unwrap_err().contains("`..`"));
        assert!(check_path(Path::new("posters/a.svg")).unwrap_err().contains("SVG"));
        assert!(check_path(Path::new("posters/a.html")).unwrap_err().contains(".webp"));
        assert!(check_path(Path::new("posters/a")).is_err());
    }

    #[test]
    fn signatures_must_match_the_extension() {
        assert!(check_signature(Path::new("a.png"), PNG).is_ok());
        assert!(check_signature(Path::new("a.jpg"), &[0xff, 0xd8, 0xff, 0xe0]).is_ok());
        assert!(check_signature(Path::new("a.gif"), b"GIF89a..").is_ok());
        assert!(check_signature(Path::new("a.webp"), b"RIFF\0\0\0\0WEBPVP8 ").is_ok());
        assert!(check_signature(Path::new("a.avif"), b"\0\0\0\x1cftypmif1\0\0\0\0mif1avif").is_ok());
        assert!(check_signature(Path::new("a.avif"), b"\0\0\0\x14ftypmif1\0\0\0\0mif1avif").is_err());
        assert!(check_signature(Path::new("a.png"), b"<html>").unwrap_err().contains("not a PNG image"));
        assert!(check_signature(Path::new("a.jpg"), PNG).unwrap_err().contains("not a JPEG image"));
    }

    #[test]
    fn a_poster_resolves_only_inside_the_content_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("content");
        std::fs::create_dir_all(root.join("posters")).unwrap();
        std::fs::write(root.join("posters/a.png"), PNG).unwrap();
        std::fs::write(dir.path().join("outside.png"), PNG).unwrap();
        std::os::unix::fs::symlink("a.png", root.join("posters/inside.png")).unwrap();
        std::os::unix::fs::symlink("../../outside.png", root.join("posters/out.png")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("posters/passwd.png")).unwrap();
        assert_eq!(read(&root, Path::new("posters/a.png")).unwrap(), PNG);
        assert_eq!(read(&root, Path::new("posters/inside.png")).unwrap(), PNG);
        for escape in ["posters/out.png", "posters/passwd.png"] {
            let err = check(&root, Path::new(escape)).unwrap_err();
            assert!(err.contains("outside the content folder"), "{escape}: {err}");
        }
        assert!(check(&root, Path::new("posters/none.png")).unwrap_err().contains("is not a file"));
        // The content folder itself may be reached through a symlink.
        std::os::unix::fs::symlink(&root, dir.path().join("linked")).unwrap();
        assert!(check(&dir.path().join("linked"), Path::new("posters/a.png")).is_ok());
    }
}
