//! What the API shows of the domain: only public facts about showtimes, and a booking only to
//! whoever holds its token.

use chrono::{DateTime, Utc};
use cinema::booking::BookingRecord;
use cinema::{Catalog, Showtime};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct FilmView<'a> {
    pub slug: &'a str,
    pub title: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ShowtimeView<'a> {
    pub id: &'a str,
    pub film: FilmView<'a>,
    pub studio: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub seats_total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seats_free: Option<usize>,
}

impl<'a> ShowtimeView<'a> {
    pub fn new(s: &'a Showtime, catalog: &'a Catalog, seats_free: Option<usize>) -> Self {
        ShowtimeView {
            id: s.id.as_str(),
            film: FilmView {
                slug: &s.film_slug,
                // A film removed from the content keeps its showtimes' bookings readable.
                title: catalog.film(&s.film_slug).map_or(s.film_slug.as_str(), |f| f.title.as_str()),
            },
            studio: s.studio,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            seats_total: catalog.seat_map.seat_count,
            seats_free,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BookingView<'a> {
    pub reference: &'a str,
    pub status: &'static str,
    pub showtime: ShowtimeView<'a>,
    pub seats: &'a [String],
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Only in the reply that creates the booking (and its idempotent replays).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_token: Option<&'a str>,
}

impl<'a> BookingView<'a> {
    pub fn new(b: &'a BookingRecord, catalog: &'a Catalog, manage_token: Option<&'a str>) -> Self {
        BookingView {
            reference: b.reference.as_str(),
            status: if b.cancelled_at.is_some() { "cancelled" } else { "active" },
            showtime: ShowtimeView::new(&b.showtime, catalog, None),
            seats: &b.seats,
            name: &b.name,
            email: b.email.as_deref(),
            created_at: b.created_at,
            cancelled_at: b.cancelled_at,
            manage_token,
        }
    }
}
