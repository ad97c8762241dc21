//! `tiketa-ops door-list <showtime>`: who is coming to one screening.
//!
//! Door staff look a guest up by name, so the list is by name (then reference), not by when
//! each booking was made; cancelled bookings are left out, since their seats are someone
//! else's now.

use cinema::ShowtimeId;
use cinema::box_office::BookingQuery;
use serde_json::json;

use super::booking_view::{self, Status};
use super::output::{Report, Table, plural};
use super::{Context, Failure};

pub fn run(context: &Context, id: &ShowtimeId) -> Result<Report, Failure> {
    let showtime = context.store.run(|s| s.showtime(id.clone()))?.ok_or_else(|| {
        Failure::not_found(format!(
            "no showtime {id}; check the id (<film>-<YYYYMMDD>-<HHMM>, local time): the site's booking page /book/{id}/ or `tiketa-ops occupancy` shows which films screen on which days"
        ))
    })?;
    let mut bookings = context.store.run(|s| s.bookings(BookingQuery::door_list(id.clone())))?;
    bookings.sort_by(|a, b| {
        (a.name.to_lowercase(), a.reference.as_str()).cmp(&(b.name.to_lowercase(), b.reference.as_str()))
    });

    let today = context.time.today(showtime.starts_at);
    let mut table = Table::new(&["reference", "name", "seats", "checked in"]);
    for booking in &bookings {
        let checked_in = booking.checked_in_at.map_or_else(|| "no".to_string(), |at| context.time.said(at, today));
        table.push(vec![booking.reference.to_string(), booking.name.clone(), booking_view::seats(booking), checked_in]);
    }
    let seats: usize = bookings.iter().map(|b| b.seats.len()).sum();
    let checked_in = bookings.iter().filter(|b| Status::of(b) == Status::CheckedIn).count();

    let title = context.film_title(&showtime.film_slug);
    let json = json!({
        "showtime": {
            "id": showtime.id,
            "film": { "slug": showtime.film_slug, "title": title },
            "studio": showtime.studio,
            "starts_at": context.time.rfc3339(showtime.starts_at),
            "ends_at": context.time.rfc3339(showtime.ends_at),
        },
        "bookings": bookings.iter().map(|b| json!({
            "reference": b.reference,
            "name": b.name,
            "seats": b.seats,
            "checked_in_at": b.checked_in_at.map(|t| context.time.rfc3339(t)),
        })).collect::<Vec<_>>(),
    });
    let started = if showtime.has_started(context.now) { " (started)" } else { "" };
    Ok(Report::new(table, json)
        .heading(format!(
            "{title} · studio {} · {}{started} · {}",
            showtime.studio,
            context.time.heading(showtime.starts_at),
            showtime.id
        ))
        .footing(format!(
            "{} {}, {seats} {}, {checked_in} checked in",
            bookings.len(),
            plural(bookings.len(), "booking", "bookings"),
            plural(seats, "seat", "seats")
        )))
}
