//! How long each file of the site may be cached.
//!
//! Which class a file is in is the site's own fact, declared with each kind's URL pattern in
//! [`cinema::site_paths`] (the generator's page kinds name the same patterns); this file only
//! turns a class into its `Cache-Control` text. The generator names assets by content hash
//! (`/assets/site.1a2b3c4d.css`), so an asset's URL changes whenever it does and can be cached
//! for a year; pages keep their URLs and must be revalidated.

use std::path::Path;

use cinema::site_paths::{self, CacheClass};

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";
pub const SHORT: &str = "public, max-age=3600";

/// How long a file may be cached, from its path relative to the site's root: the class of the
/// kind of file it is ([`cinema::site_paths::cache_class`]).
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
    fn each_kind_of_file_gets_its_class_policy() {
        assert_eq!(cache_policy(Path::new("assets/site.1a2b3c4d.css")), IMMUTABLE);
        assert_eq!(cache_policy(Path::new("assets/posters/akira.0123abcd.svg")), IMMUTABLE);
        assert_eq!(cache_policy(Path::new("films/akira/index.html")), REVALIDATE);
        assert_eq!(cache_policy(Path::new("posters/akira.svg")), SHORT);
        assert_eq!(cache_policy(Path::new("robots.txt")), SHORT);
        assert_eq!(cache_policy(Path::new("assets/site.css")), REVALIDATE, "no kind of ours: revalidated");
        assert_eq!(
            cache_policy(Path::new("site.1a2b3c4d.css")),
            REVALIDATE,
            "hashed names outside assets/ are not ours"
        );
        assert_eq!(cache_policy(Path::new("assets/site.1a2b3c4.css")), REVALIDATE, "too short to be a hash");
    }
}
