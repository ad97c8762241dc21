//! How long each file of the site may be cached.
//!
//! The generator names assets by content hash (`/assets/site.1a2b3c4d.css`), so an asset's URL
//! changes whenever it does and can be cached for a year; HTML keeps its URLs and must be
//! revalidated.

use std::path::Path;

use cinema::site_paths::{self, CacheClass};

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";
pub const SHORT: &str = "public, max-age=3600";

/// How long a file may be cached, from its path relative to the site's root: its class is
/// decided with the site's paths, in [`cinema::site_paths::cache_class`].
pub fn cache_policy(relative: &Path) -> &'static str {
    match site_paths::cache_class(relative) {
        CacheClass::Immutable => IMMUTABLE,
        CacheClass::Revalidate => REVALIDATE,
        CacheClass::Short => SHORT,
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
