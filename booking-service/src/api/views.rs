//! What the API shows of the domain: only public facts about showtimes, and a booking only to
//! whoever holds its token.

use chrono::{DateTime, Utc};
use cinema::booking::{BookingRecord, ManageToken};
use cinema::{Catalog, Showtime};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct FilmView<'a> {
    pub slug: &'a str,
    pub title: &'a str,
}

impl<'a> FilmView<'a> {
    /// The film of `showtime`. A film removed from the content keeps its showtimes' bookings
    /// (and their door) readable: its slug stands for its title.
    pub fn of(showtime: &'a Showtime, catalog: &'a Catalog) -> Self {
        let title = catalog.film(&showtime.film_slug).map_or(showtime.film_slug.as_str(), |f| f.title.as_str());
        FilmView { slug: &showtime.film_slug, title }
    }
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
            film: FilmView::of(s, catalog),
            studio: s.studio,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            seats_total: catalog.seat_map.seat_count,
            seats_free,
        }
    }
}

/// A booking, as shown to whoever proved they hold one of its manage tokens: every reply that
/// carries one (its creation and replays, `GET` and `DELETE` with the token) is to such a
/// holder, so each carries the ticket and a calendar link that opens with that same token.
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
    /// What door staff type when the QR code cannot be scanned.
    pub check_in_code: &'a str,
    /// The ticket's QR code (reference and check-in code, never the token), an SVG document.
    pub ticket_svg: String,
    /// The booking's `.ics`, relative to the API's base, with the token the request proved.
    pub calendar_url: String,
    /// Only in the reply that creates the booking (and its idempotent replays).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_token: Option<&'a str>,
    /// The token the request proved.
    #[serde(skip)]
    token: &'a ManageToken,
}

impl<'a> BookingView<'a> {
    /// The booking for a request that proved `token`; the token itself is not shown (see
    /// [`BookingView::showing_token`]).
    pub fn new(b: &'a BookingRecord, catalog: &'a Catalog, token: &'a ManageToken) -> Self {
        BookingView {
            reference: b.reference.as_str(),
            status: if b.cancelled_at.is_some() { "cancelled" } else { "active" },
            showtime: ShowtimeView::new(&b.showtime, catalog, None),
            seats: &b.seats,
            name: &b.name,
            email: b.email.as_deref(),
            created_at: b.created_at,
            cancelled_at: b.cancelled_at,
            check_in_code: b.check_in_code.as_str(),
            ticket_svg: crate::ticket::qr_svg(&b.reference, &b.check_in_code),
            calendar_url: calendar_url(b.reference.as_str(), token),
            manage_token: None,
            token,
        }
    }

    /// Shows the manage token too: only the reply that creates the booking does.
    pub fn showing_token(self) -> Self {
        BookingView { manage_token: Some(self.token.as_str()), ..self }
    }
}

/// What a path segment or a query value may hold as is: RFC 3986's unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `text` percent-encoded for a path segment or a query value.
pub fn url_component(text: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(text, COMPONENT)
}

/// `/api/bookings/{reference}/calendar.ics?token=...`, each part percent-encoded (neither
/// needs it today: a reference and a token are letters, digits and dashes).
pub fn calendar_url(reference: &str, token: &ManageToken) -> String {
    format!("/api/bookings/{}/calendar.ics?token={}", url_component(reference), url_component(token.as_str()))
}
