//! A booking as the operator's tools show it: the same status words, seat lists and JSON in
//! the door list, the export, a cancellation and a check-in.
//!
//! Operators may see names and emails (visitors never do); the check-in code is left out of
//! every listing, since a list pasted into a spreadsheet or a message would let anyone who
//! reads it in at the door.

use cinema::booking::BookingRecord;
use serde_json::{Value, json};

use super::Context;

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    CheckedIn,
    Cancelled,
}

impl Status {
    pub fn of(booking: &BookingRecord) -> Self {
        if booking.cancelled_at.is_some() {
            Status::Cancelled
        } else if booking.checked_in_at.is_some() {
            Status::CheckedIn
        } else {
            Status::Active
        }
    }

    /// As text and CSV say it.
    pub fn words(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::CheckedIn => "checked in",
            Status::Cancelled => "cancelled",
        }
    }

    /// As JSON says it.
    pub fn key(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::CheckedIn => "checked_in",
            Status::Cancelled => "cancelled",
        }
    }
}

/// The seats as a ticket lists them: `C3 C4`.
pub fn seats(booking: &BookingRecord) -> String {
    booking.seats.join(" ")
}

/// The booking as JSON: times in the cinema's zone (RFC 3339 with its offset), absent facts
/// as `null`.
pub fn json(context: &Context, booking: &BookingRecord) -> Value {
    let time = context.time;
    let show = &booking.showtime;
    json!({
        "reference": booking.reference,
        "film": { "slug": show.film_slug, "title": context.film_title(&show.film_slug) },
        "showtime": { "id": show.id, "studio": show.studio, "starts_at": time.rfc3339(show.starts_at) },
        "seats": booking.seats,
        "name": booking.name,
        "email": booking.email,
        "status": Status::of(booking).key(),
        "created_at": time.rfc3339(booking.created_at),
        "cancelled_at": booking.cancelled_at.map(|t| time.rfc3339(t)),
        "cancelled_by": booking.cancelled_by.map(|by| by.as_str()),
        "checked_in_at": booking.checked_in_at.map(|t| time.rfc3339(t)),
    })
}

/// `Aurora, studio 1, Thu 10 Jan 2030, 19:00 WIB`: which screening a booking is for.
pub fn screening(context: &Context, booking: &BookingRecord) -> String {
    let show = &booking.showtime;
    format!("{}, studio {}, {}", context.film_title(&show.film_slug), show.studio, context.time.heading(show.starts_at))
}
