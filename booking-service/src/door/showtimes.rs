//! `GET /api/door/showtimes[?date=YYYY-MM-DD]`: a day's showtimes for the door to pick from,
//! today (in the cinema's zone, by the service's clock) unless `date` names another day.
//!
//! Started and archived showtimes are listed too: door staff let latecomers in. Each comes with
//! how many bookings and seats it has and how many have come in; the reply names the service's
//! "now" and the showtime the door most likely wants ([`super::views::suggested`]), so the page
//! never judges times by its device's clock.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use cinema::box_office::BookingQuery;
use serde::Serialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::day::Day;
use super::store_failed;
use super::views::{Attendance, DayShowtime, DoorShowtime, suggested};
use crate::App;
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
    /// The id of the showtime to offer first, if the day has any.
    suggested: Option<&'a str>,
    showtimes: Vec<DayShowtime<'a>>,
}

async fn handle(query: String, app: Arc<App>) -> Response {
    let (now, tz) = (app.clock.now(), app.catalog.settings.time_zone);
    let day = match Day::from_query(&query, now, tz) {
        Ok(day) => day,
        Err(e) => return e.into_response(),
    };
    let store = app.desk.store();
    let showtimes = match store.showtimes_between(day.from, day.to).await {
        Ok(list) => list,
        Err(e) => return store_failed(e),
    };
    let query = BookingQuery { from: day.from, to: day.to, film: None, showtime: None, include_cancelled: false };
    let bookings = match store.bookings(query).await {
        Ok(list) => list,
        Err(e) => return store_failed(e),
    };
    let seats_total = app.catalog.seat_map.seat_count;
    let listed = showtimes
        .iter()
        .map(|s| DayShowtime {
            showtime: DoorShowtime::new(s, &app.catalog, now),
            attendance: Attendance::of(s.id.as_str(), &bookings, seats_total),
        })
        .collect();
    let reply = DayReply {
        date: day.date,
        date_label: day.date.format("%A %-d %B %Y").to_string(),
        today: Day::containing(now, tz).date,
        now,
        suggested: suggested(&showtimes, now).map(|s| s.id.as_str()),
        showtimes: listed,
    };
    json(StatusCode::OK, &reply)
}
