//! The "my booking" page, `/booking/`: its script opens a booking by reference and token.

use cinema::site_paths;
use minijinja::context;

use super::super::Renderer;
use crate::error::BuildError;

pub fn path() -> String {
    site_paths::file_of(site_paths::BOOKING_URL)
}

pub fn render(r: &Renderer) -> Result<Vec<u8>, BuildError> {
    r.page("booking.html", site_paths::BOOKING_URL, context! {})
}
