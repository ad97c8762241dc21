//! `tiketa-ops bookings --from --to [--film] [--include-cancelled]`: an export of bookings, by
//! the day their showtime starts, for a spreadsheet (`--format csv`) or a script (`json`).
//!
//! The range is whole days in the cinema's time zone with both ends included, as people say
//! "from the 3rd to the 9th"; without dates it is the seven days ending today, "last week's
//! bookings" as an operator asks for them.

use chrono::Days;
use cinema::box_office::BookingQuery;
use serde_json::json;

use super::booking_view::{self, Status};
use super::dates::DateArg;
use super::output::{Report, Table, plural};
use super::{Context, Failure};

/// The days asked for, as given.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: Option<DateArg>,
    pub to: Option<DateArg>,
}

/// Days in the default range, today included.
const DEFAULT_DAYS: u64 = 7;

pub const COLUMNS: &[&str] = &[
    "reference",
    "film",
    "showtime",
    "starts",
    "seats",
    "name",
    "email",
    "status",
    "created",
    "cancelled at",
    "cancelled by",
    "checked in at",
];

pub fn run(context: &Context, range: Range, film: Option<String>, include_cancelled: bool) -> Result<Report, Failure> {
    let today = context.today();
    let last = range.to.map_or(today, |to| to.resolve(today));
    let first = range
        .from
        .map_or_else(|| last.checked_sub_days(Days::new(DEFAULT_DAYS - 1)).unwrap_or(last), |from| from.resolve(today));
    if first > last {
        return Err(Failure::usage(format!(
            "--from {first} is after --to {last}; give the earlier day as --from (both days are included)"
        )));
    }
    let (from, to) = context.time.days(first, last);
    let query = BookingQuery { from, to, film: film.clone(), showtime: None, include_cancelled };
    let bookings = context.store.run(|s| s.bookings(query))?;

    let time = context.time;
    let mut table = Table::new(COLUMNS);
    for b in &bookings {
        let show = &b.showtime;
        table.push(vec![
            b.reference.to_string(),
            context.film_title(&show.film_slug).to_string(),
            show.id.to_string(),
            time.local(show.starts_at),
            booking_view::seats(b),
            b.name.clone(),
            b.email.clone().unwrap_or_default(),
            Status::of(b).words().to_string(),
            time.local(b.created_at),
            b.cancelled_at.map(|t| time.local(t)).unwrap_or_default(),
            b.cancelled_by.map(|by| by.as_str().to_string()).unwrap_or_default(),
            b.checked_in_at.map(|t| time.local(t)).unwrap_or_default(),
        ]);
    }
    let json = json!(bookings.iter().map(|b| booking_view::json(context, b)).collect::<Vec<_>>());

    let whose = match &film {
        Some(slug) => format!(" of {}", context.film_title(slug)),
        None => String::new(),
    };
    let cancelled = if include_cancelled { ", cancelled ones included" } else { "" };
    let mut report = Report::new(table, json)
        .heading(format!(
            "Bookings{whose} for showtimes from {first} to {last} (both included, {}){cancelled}",
            cinema::times::zone_long(time.tz, from)
        ))
        .footing(format!("{} {}", bookings.len(), plural(bookings.len(), "booking", "bookings")));
    if let Some(slug) = &film
        && context.catalog.film(slug).is_none()
    {
        report = report.footing(format!(
            "Note: no film {slug:?} in the content folder; a film removed from it keeps its bookings, so check the slug if you expected some."
        ));
    }
    Ok(report)
}
