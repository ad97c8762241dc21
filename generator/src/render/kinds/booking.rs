//! The "my booking" page, `/booking/`: its script opens a booking by reference and token.

use cinema::site_paths::{self, UrlPattern};
use minijinja::context;

use super::{PageKind, Site};
use crate::error::BuildError;

pub struct Booking;

impl PageKind for Booking {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::BOOKING
    }

    fn count(&self, _site: &Site) -> usize {
        1
    }

    fn url(&self, _site: &Site, _item: usize) -> String {
        site_paths::BOOKING_URL.to_string()
    }

    fn render(&self, site: &Site, _item: usize) -> Result<Vec<u8>, BuildError> {
        site.page("booking.html", site_paths::BOOKING_URL, context! {})
    }
}
