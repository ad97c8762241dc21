//! Reading one file that a build uses: a regular file, up to a size limit, or a clear error.
//!
//! Content and themes are edited by people and synced by tools, so a build meets whatever is
//! there: a 1 GB backup left in `content/`, a FIFO where a film should be, a device node. A
//! build therefore reads only the files it uses (never a folder wholesale) and each through
//! here: the metadata is checked before the file is opened (a FIFO is refused, not opened, so
//! it cannot block), the open itself is non-blocking (a FIFO swapped in after the check cannot
//! block either), the opened file's own metadata is checked again, and at most `limit + 1`
//! bytes are ever read, so a file that grows meanwhile is still refused rather than read whole.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// How large a file of one kind may be, and what to say when it is larger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bytes: u64,
    /// What the file is, for the message ("a text file").
    pub what: &'static str,
    /// What to do about it.
    pub hint: &'static str,
}

impl Limit {
    /// `site.toml`, `auditorium.txt`, a film's Markdown: a few KiB in practice.
    pub const TEXT: Limit = Limit {
        bytes: 1 << 20,
        what: "a content text file",
        hint: "shorten it, or move what is not content out of the content folder",
    };
    /// A film's own poster image.
    pub const POSTER: Limit = Limit {
        bytes: 20 << 20,
        what: "a poster",
        hint: "resize or recompress the image (a 1000 px wide JPEG or WebP is plenty)",
    };
    /// A theme template or asset.
    pub const THEME: Limit = Limit {
        bytes: 20 << 20,
        what: "a theme file",
        hint: "shrink it, or move what the site does not serve out of templates/ and assets/",
    };
}

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(
        "is {kind}, not a regular file; a build reads only regular files: replace it with a file, or move it out of the folder"
    )]
    NotRegular { kind: &'static str },
    #[error("is {}, over the {} limit for {}; {}", exact(*size), Size(limit.bytes), limit.what, limit.hint)]
    TooLarge { size: u64, limit: Limit },
    #[error("is not UTF-8 text (at byte {0}); save it as UTF-8")]
    NotUtf8(usize),
    #[error("cannot be read: {0}")]
    Io(#[from] io::Error),
}

impl ReadError {
    /// The file does not exist (callers that treat a missing file as "none" ask this).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// Opens a regular file of at most `limit` bytes, following symlinks; returns it and its size.
pub fn open(path: &Path, limit: Limit) -> Result<(File, u64), ReadError> {
    open_with_flags(path, limit, 0)
}

/// Like [`open`], but refuses a symlink as the last component of `path` (`O_NOFOLLOW`): for a
/// path already resolved and checked, so that a symlink swapped in afterwards is not followed.
pub fn open_resolved(path: &Path, limit: Limit) -> Result<(File, u64), ReadError> {
    #[cfg(unix)]
    return open_with_flags(path, limit, libc::O_NOFOLLOW);
    #[cfg(not(unix))]
    return open_with_flags(path, limit, 0);
}

fn open_with_flags(path: &Path, limit: Limit, flags: i32) -> Result<(File, u64), ReadError> {
    check(&std::fs::metadata(path)?, limit)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | flags);
    }
    #[cfg(not(unix))]
    let _ = flags;
    let file = options.open(path)?;
    let size = check(&file.metadata()?, limit)?;
    Ok((file, size))
}

/// A regular file within the limit: its size.
fn check(meta: &Metadata, limit: Limit) -> Result<u64, ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotRegular { kind: kind_of(meta) });
    }
    if meta.len() > limit.bytes {
        return Err(ReadError::TooLarge { size: meta.len(), limit });
    }
    Ok(meta.len())
}

fn kind_of(meta: &Metadata) -> &'static str {
    if meta.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Reads a whole file of at most `limit` bytes.
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let (file, size) = open(path, limit)?;
    read_bounded(file, size, limit)
}

/// Reads an opened file, never more than `limit + 1` bytes.
pub fn read_bounded(file: File, size: u64, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit.bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit.bytes {
        return Err(ReadError::TooLarge { size: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// Reads a whole UTF-8 text file of at most `limit` bytes.
pub fn read_text(path: &Path, limit: Limit) -> Result<String, ReadError> {
    String::from_utf8(read(path, limit)?).map_err(|e| ReadError::NotUtf8(e.utf8_error().valid_up_to()))
}

/// Feeds a file's length and bytes into a hash, streaming: memory stays flat whatever its size.
pub fn hash_into(hasher: &mut blake3::Hasher, path: &Path, limit: Limit) -> Result<(), ReadError> {
    let (file, size) = open(path, limit)?;
    hash_opened(hasher, file, size, limit)
}

/// [`hash_into`] for a file already opened by [`open`] or [`open_resolved`].
pub fn hash_opened(hasher: &mut blake3::Hasher, file: File, size: u64, limit: Limit) -> Result<(), ReadError> {
    hasher.update(&size.to_le_bytes());
    let read = io::copy(&mut file.take(limit.bytes + 1), hasher)?;
    if read > limit.bytes {
        return Err(ReadError::TooLarge { size: read, limit });
    }
    // A file that changed length while being hashed gets a different hash than either version.
    hasher.update(&read.to_le_bytes());
    Ok(())
}

/// "1.9 MiB (2000000 bytes)", or "12 bytes".
fn exact(size: u64) -> String {
    if size < 1024 { Size(size).to_string() } else { format!("{} ({size} bytes)", Size(size)) }
}

/// A size as people read it: "1.9 MiB", "20 MiB", "512 KiB", "12 bytes".
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MIB: u64 = 1 << 20;
        const KIB: u64 = 1 << 10;
        match self.0 {
            n if n >= MIB && n.is_multiple_of(MIB) => write!(f, "{} MiB", n / MIB),
            n if n >= MIB => write!(f, "{:.1} MiB", n as f64 / MIB as f64),
            n if n >= KIB => write!(f, "{} KiB", n / KIB),
            n => write!(f, "{n} bytes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limit = Limit { bytes: 10, what: "a test file", hint: "make it smaller" };

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_text(&path, SMALL).unwrap(), "0123456789");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_size_and_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "0123456789!").unwrap();
        let err = read(&path, SMALL).unwrap_err();
        assert_eq!(err.to_string(), "is 11 bytes, over the 10 bytes limit for a test file; make it smaller");
        let big = dir.path().join("big");
        File::create(&big).unwrap().set_len((3 << 20) / 2).unwrap();
        let err = read(&big, Limit::TEXT).unwrap_err().to_string();
        assert!(err.starts_with("is 1.5 MiB (1572864 bytes), over the 1 MiB limit"), "{err}");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("films.md");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let err = read(&path, SMALL).unwrap_err();
        assert!(matches!(err, ReadError::NotRegular { kind: "a FIFO (named pipe)" }), "{err}");
        // Even opened directly (the race the metadata check cannot close), it does not block.
        assert!(matches!(check_after_open(&path), Err(ReadError::NotRegular { .. })));
    }

    /// The check on the opened file alone, as if the metadata check had raced.
    fn check_after_open(path: &Path) -> Result<u64, ReadError> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
        check(&file.metadata()?, SMALL)
    }

    #[test]
    fn a_folder_and_a_missing_file_are_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path(), SMALL).unwrap_err().to_string().starts_with("is a folder"));
        assert!(read(&dir.path().join("nope"), SMALL).unwrap_err().is_not_found());
    }

    #[test]
    fn open_resolved_refuses_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "x").unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        assert!(open_resolved(&dir.path().join("a"), SMALL).is_ok());
        assert!(open_resolved(&dir.path().join("b"), SMALL).is_err());
    }

    #[test]
    fn hashing_streams_and_tells_contents_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        let hash = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let mut h = blake3::Hasher::new();
            hash_into(&mut h, &path, SMALL).unwrap();
            h.finalize()
        };
        assert_ne!(hash("one"), hash("two"));
        assert_eq!(hash("one"), hash("one"));
    }
}
