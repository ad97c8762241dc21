//! How a generated page shows it carries the site's Content-Security-Policy
//! ([`cinema::page_policy`], which the booking service sends as a header too).

pub use cinema::page_policy::policy;

/// How a page shows it carries the policy (checked on every rendered page).
pub const META_TAG: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"";
