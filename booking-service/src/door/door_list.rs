//! `GET /api/door/showtimes/{id}/bookings`: a showtime's door list, every active booking with
//! its reference, name, seats and when it came in, oldest booking first (the store's order).

use std::sync::Arc;

use cinema::ShowtimeId;
use cinema::booking::BookingError;
use cinema::box_office::BookingQuery;
use serde::Serialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::store_failed;
use super::views::{Attendance, DayShowtime, DoorBooking, DoorShowtime};
use crate::App;
use crate::api::{json, with_app};
use crate::api_error::ApiError;
use crate::guard::guard;

/// Relative to `/api/door/`.
pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("showtimes" / String / "bookings")
        .and(crate::head::get_or_head())
        .and(with_app(app))
        .then(|id: String, app: Arc<App>| guard(handle(id, app)))
        .boxed()
}

#[derive(Serialize)]
struct DoorList<'a> {
    showtime: DayShowtime<'a>,
    bookings: Vec<DoorBooking<'a>>,
}

async fn handle(id: String, app: Arc<App>) -> Response {
    let not_found = || ApiError::from(BookingError::ShowtimeNotFound(id.clone())).into_response();
    if !ShowtimeId::is_well_formed(&id) || id.is_empty() {
        return not_found();
    }
    let store = app.desk.store();
    let showtime = match store.showtime(ShowtimeId(id.clone())).await {
        Ok(Some(showtime)) => showtime,
        Ok(None) => return not_found(),
        Err(e) => return store_failed(e),
    };
    let bookings = match store.bookings(BookingQuery::door_list(showtime.id.clone())).await {
        Ok(list) => list,
        Err(e) => return store_failed(e),
    };
    let (now, tz) = (app.clock.now(), app.catalog.settings.time_zone);
    let list = DoorList {
        showtime: DayShowtime {
            showtime: DoorShowtime::new(&showtime, &app.catalog, now),
            attendance: Attendance::of(showtime.id.as_str(), &bookings, app.catalog.seat_map.seat_count),
        },
        bookings: bookings.iter().map(|b| DoorBooking::new(b, tz)).collect(),
    };
    json(StatusCode::OK, &list)
}
