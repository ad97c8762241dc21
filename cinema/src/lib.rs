//! Tiketa's domain: what the generator and the booking service both need to agree on.
//!
//! The crate knows the catalog (site settings, films, the auditorium), the schedule rules that
//! turn a catalog and a moment into showtimes, and the store that keeps showtimes (and, through
//! the booking rules, bookings) durable. It knows nothing of HTML or HTTP, so both binaries can
//! share it without reaching into each other.

pub mod booking;
pub mod box_office;
pub mod calendar;
pub mod catalog;
pub mod content_error;
pub mod content_file;
pub mod film;
pub mod markup;
pub mod outbox;
pub mod page_policy;
pub mod poster_file;
pub mod precompressed;
pub mod schedule;
pub mod seat_map;
pub mod settings;
pub mod site_paths;
pub mod site_url;
pub mod store;
pub mod times;

pub use catalog::Catalog;
pub use content_error::ContentError;
pub use film::Film;
pub use schedule::{Showtime, ShowtimeId};
pub use seat_map::{Cell, SeatKind, SeatMap};
pub use settings::SiteSettings;
