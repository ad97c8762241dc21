//! `GET /api/door/showtimes[?date=YYYY-MM-DD]`: a day's showtimes for the door to pick from,
//! today (in the cinema's zone, by the service's clock) unless `date` names another day, a
//! page at a time: at 10,000 films a day holds about 50,000 showtimes, and one reply of all of
//! them was 21 MB. `film=<slug>` and `studio=<n>` keep one film's (a door stands at one
//! studio), `limit` and `cursor` page the list as `GET /api/showtimes` does (see
//! [`DayQuery`]); the store reads only the page's rows, and the page's bookings only.
//!
//! Started and archived showtimes are listed too: door staff let latecomers in. Each comes with
//! how many bookings and seats it has and how many have come in; the reply names the service's
//! "now" and the showtime the door most likely wants ([`super::views::suggested`]), so the page
//! never judges times by its device's clock.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use cinema::Showtime;
use cinema::booking::BookingRecord;
use cinema::box_office::BookingQuery;
use cinema::store::{ShowtimePage, ShowtimePosition};
use serde::Serialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::day::Day;
use super::day_query::DayQuery;
use super::store_failed;
use super::suggestion::suggestion;
use super::views::{Attendance, DayShowtime, DoorShowtime};
use crate::App;
use crate::api::showtimes_query::cursor_of;
use crate::api::{json, with_app};
use crate::guard::guard;

/// Relative to `/api/door/`.
pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("showtimes")
        .and(crate::head::get_or_head())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(with_app(app))
        .then(|query: String, app: Arc<App>| guard(handle(query, app)))
        .boxed()
}

#[derive(Serialize)]
struct DayReply<'a> {
    /// The day listed.
    date: NaiveDate,
    date_label: String,
    /// The cinema's today, by the service's clock.
    today: NaiveDate,
    now: DateTime<Utc>,
    /// The id of the showtime to offer first, if the day (under the filter) has any.
    suggested: Option<String>,
    showtimes: Vec<DayShowtime<'a>>,
    /// The cursor of the next page; `None` (`null`) when this page is the last.
    next_cursor: Option<String>,
}

async fn handle(query: String, app: Arc<App>) -> Response {
    let (now, tz) = (app.clock.now(), app.catalog.settings.time_zone);
    let asked = match DayQuery::read(&query, now, tz) {
        Ok(asked) => asked,
        Err(e) => return e.into_response(),
    };
    let store = app.desk.store();
    let (showtimes, more, suggested) = match asked.selection(&app.catalog, now) {
        None => (Vec::new(), false, None),
        Some(selection) => {
            // One more than the page: whether a next page exists, without an empty last page.
            let page = ShowtimePage { limit: asked.limit + 1, ..selection.clone() };
            let mut list: Vec<Showtime> = match store.live_showtimes_page(page).await {
                Ok(list) => list.into_iter().map(|(s, _)| s).collect(),
                Err(e) => return store_failed(e),
            };
            let more = list.len() > asked.limit;
            list.truncate(asked.limit);
            let suggested = match suggestion(store.as_ref(), &app.catalog, &selection, now).await {
                Ok(s) => s.map(|s| s.id.0),
                Err(e) => return store_failed(e),
            };
            (list, more, suggested)
        }
    };
    let bookings = match (showtimes.first(), showtimes.last()) {
        (Some(first), Some(last)) => {
            // Only the page's span: the bookings of its showtimes (and of any others starting
            // at its first or last showtime's time, left aside below).
            let query = BookingQuery {
                from: first.starts_at,
                to: last.starts_at + TimeDelta::seconds(1),
                film: showtimes.iter().all(|s| s.film_slug == first.film_slug).then(|| first.film_slug.clone()),
                showtime: None,
                include_cancelled: false,
            };
            match store.bookings(query).await {
                Ok(list) => list,
                Err(e) => return store_failed(e),
            }
        }
        _ => Vec::new(),
    };
    let mut by_showtime: HashMap<&str, Vec<&BookingRecord>> = HashMap::new();
    for b in &bookings {
        by_showtime.entry(b.showtime.id.as_str()).or_default().push(b);
    }
    let seats_total = app.catalog.seat_map.seat_count;
    let listed = showtimes
        .iter()
        .map(|s| {
            let own = by_showtime.get(s.id.as_str()).map_or(&[][..], Vec::as_slice);
            DayShowtime {
                showtime: DoorShowtime::new(s, &app.catalog, now),
                attendance: Attendance::of(s.id.as_str(), own.iter().copied(), seats_total),
            }
        })
        .collect();
    let next_cursor = more.then(|| showtimes.last().map(|s| cursor_of(&ShowtimePosition::of(s)))).flatten();
    let reply = DayReply {
        date: asked.day.date,
        date_label: asked.day.date.format("%A %-d %B %Y").to_string(),
        today: Day::containing(now, tz).date,
        now,
        suggested,
        showtimes: listed,
        next_cursor,
    };
    json(StatusCode::OK, &reply)
}
