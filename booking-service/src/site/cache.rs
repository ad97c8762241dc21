//! How long each file of the site may be cached.
//!
//! The generator names assets by content hash (`/assets/site.1a2b3c4d.css`), so an asset's URL
//! changes whenever it does and can be cached for a year; HTML keeps its URLs and must be
//! revalidated.

use std::path::Path;

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";
pub const SHORT: &str = "public, max-age=3600";

/// How long a file may be cached, from its path relative to the site's root.
pub fn cache_policy(relative: &Path) -> &'static str {
    let in_assets = relative.components().next().is_some_and(|c| c.as_os_str() == "assets");
    let name = relative.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if in_assets && is_hashed(name) {
        IMMUTABLE
    } else if name.ends_with(".html") || name.ends_with(".xml") || name.ends_with(".json") {
        REVALIDATE
    } else {
        SHORT
    }
}

/// `site.1a2b3c4d.css`: a stem, a dot, at least 8 hex digits, a dot, an extension.
fn is_hashed(name: &str) -> bool {
    let mut parts = name.rsplitn(3, '.');
    let (_ext, hash, stem) = (parts.next(), parts.next(), parts.next());
    match (hash, stem) {
        (Some(hash), Some(stem)) => !stem.is_empty() && hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_assets_are_immutable() {
        assert_eq!(cache_policy(Path::new("assets/site.1a2b3c4d.css")), IMMUTABLE);
        assert_eq!(cache_policy(Path::new("assets/posters/akira.0123abcd.svg")), IMMUTABLE);
        assert_eq!(cache_policy(Path::new("assets/site.css")), SHORT);
        assert_eq!(cache_policy(Path::new("site.1a2b3c4d.css")), SHORT, "hashed names outside assets/ are not ours");
        assert_eq!(cache_policy(Path::new("films/akira/index.html")), REVALIDATE);
        assert_eq!(cache_policy(Path::new("assets/site.1a2b3c4.css")), SHORT, "too short to be a hash");
        assert_eq!(cache_policy(Path::new("assets/site.gggggggg.css")), SHORT);
    }
}
