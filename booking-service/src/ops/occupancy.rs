//! `tiketa-ops occupancy [--days N]`: how full each film's screenings are, per day, from
//! today on.
//!
//! Built from the showtimes of the days (archived ones included, so today's earlier
//! screenings count) and their active bookings; the capacity is the seat map's, the same room
//! in every studio, and wheelchair spaces are the map's `w` cells.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Days, NaiveDate};
use cinema::SeatKind;
use cinema::box_office::BookingQuery;
use serde_json::json;

use super::output::{Report, Table, plural};
use super::{Context, Failure};

/// One film on one day.
#[derive(Debug, Default)]
struct Day {
    showtimes: usize,
    sold: usize,
    wheelchair_sold: usize,
}

pub fn run(context: &Context, days: Option<u32>) -> Result<Report, Failure> {
    let days = days.unwrap_or(context.catalog.settings.horizon_days).max(1);
    let first = context.today();
    let last = first.checked_add_days(Days::new(u64::from(days - 1))).unwrap_or(first);
    let (from, to) = context.time.days(first, last);
    let showtimes = context.store.run(|s| s.showtimes_between(from, to))?;
    let query = BookingQuery { from, to, film: None, showtime: None, include_cancelled: false };
    let bookings = context.store.run(|s| s.bookings(query))?;

    let map = &context.catalog.seat_map;
    let wheelchair: HashSet<&str> = map
        .rows
        .iter()
        .flat_map(|r| &r.cells)
        .filter(|c| c.kind == SeatKind::Wheelchair)
        .map(|c| c.id.as_str())
        .collect();
    let mut sold: HashMap<&str, (usize, usize)> = HashMap::new();
    for booking in &bookings {
        let entry = sold.entry(booking.showtime.id.as_str()).or_default();
        entry.0 += booking.seats.len();
        entry.1 += booking.seats.iter().filter(|seat| wheelchair.contains(seat.as_str())).count();
    }
    // By day, then studio: the order of the site's schedule.
    let mut by_day: BTreeMap<(NaiveDate, u32, &str), Day> = BTreeMap::new();
    for show in &showtimes {
        let day = by_day.entry((show.local_date, show.studio, show.film_slug.as_str())).or_default();
        let (seats, wheelchair_seats) = sold.get(show.id.as_str()).copied().unwrap_or_default();
        day.showtimes += 1;
        day.sold += seats;
        day.wheelchair_sold += wheelchair_seats;
    }

    let mut table = Table::new(&[
        "date",
        "film",
        "studio",
        "showtimes",
        "seats sold",
        "capacity",
        "fill %",
        "wheelchair sold",
        "wheelchair spaces",
    ])
    .numeric(&["studio", "showtimes", "seats sold", "capacity", "fill %", "wheelchair sold", "wheelchair spaces"]);
    let mut rows = Vec::new();
    for ((date, studio, slug), day) in &by_day {
        let capacity = day.showtimes * map.seat_count;
        let wheelchair_spaces = day.showtimes * map.wheelchair_count;
        let fill = fill_rate(day.sold, capacity);
        let title = context.film_title(slug);
        table.push(vec![
            date.to_string(),
            title.to_string(),
            studio.to_string(),
            day.showtimes.to_string(),
            day.sold.to_string(),
            capacity.to_string(),
            format!("{fill:.1}"),
            day.wheelchair_sold.to_string(),
            wheelchair_spaces.to_string(),
        ]);
        rows.push(json!({
            "date": date,
            "film": { "slug": slug, "title": title },
            "studio": studio,
            "showtimes": day.showtimes,
            "seats_sold": day.sold,
            "capacity": capacity,
            "fill_rate_percent": (fill * 10.0).round() / 10.0,
            "wheelchair_sold": day.wheelchair_sold,
            "wheelchair_spaces": wheelchair_spaces,
        }));
    }
    let sold_total: usize = by_day.values().map(|d| d.sold).sum();
    let capacity_total: usize = by_day.values().map(|d| d.showtimes).sum::<usize>() * map.seat_count;
    Ok(Report::new(table, json!(rows))
        .heading(format!(
            "Occupancy from {first} to {last} ({days} {}, {})",
            plural(days as usize, "day", "days"),
            cinema::times::zone_long(context.time.tz, from)
        ))
        .footing(format!(
            "{} {} in {} {}: {sold_total} of {capacity_total} seats sold ({:.1}%)",
            showtimes.len(),
            plural(showtimes.len(), "showtime", "showtimes"),
            days,
            plural(days as usize, "day", "days"),
            fill_rate(sold_total, capacity_total)
        )))
}

/// Seats sold as a share of the capacity, in percent; 0 for no capacity.
fn fill_rate(sold: usize, capacity: usize) -> f64 {
    if capacity == 0 { 0.0 } else { sold as f64 * 100.0 / capacity as f64 }
}
