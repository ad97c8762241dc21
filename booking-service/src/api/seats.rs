//! `GET /api/showtimes/{id}/seats`: the showtime, the room, the taken seat ids and the held ones
//! (under a hold that has not ended; never whose).
//!
//! The busiest route: every visitor of a booking page asks for it. The room is the same for
//! every showtime, so its JSON is made once at start and spliced in. The taken seats come from
//! the store's cache when it has them (kept right by the change feed, across instances), else
//! from one indexed query. Nothing about who took a seat is ever included.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{ShowtimeView, json_response, with_app};
use crate::App;
use crate::api_error::ApiError;
use crate::guard::guard;

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "showtimes" / String / "seats")
        .and(crate::head::get_or_head())
        .and(with_app(app))
        .then(|id: String, app: Arc<App>| guard(handle(id, app)))
        .boxed()
}

async fn handle(id: String, app: Arc<App>) -> Response {
    let now = app.clock.now();
    // From the store's cache when it has the showtime (no await point), the database otherwise.
    let seats = match app.desk.seats(&id, now).await {
        Ok(seats) => seats,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let free = app.catalog.seat_map.seat_count.saturating_sub(seats.taken.len());
    let showtime = serde_json::to_string(&ShowtimeView::new(&seats.showtime, &app.catalog, Some(free)))
        .expect("a showtime serialises");
    let taken = serde_json::to_string(&seats.taken).expect("seat ids serialise");
    // Held by anyone, the caller included: a picker knows its own seats from its hold.
    let held: Vec<&str> = seats.held.iter().map(|h| h.seat.as_str()).collect();
    let held = serde_json::to_string(&held).expect("seat ids serialise");
    // `concat` sizes the reply once: grown piece by piece by `format!`, the 9 KB reply was
    // reallocated, and copied, several times per request.
    let body: String = [
        r#"{"showtime":"#,
        &showtime,
        r#","seat_map":"#,
        &app.seat_map_json,
        r#","taken":"#,
        &taken,
        r#","held":"#,
        &held,
        "}",
    ]
    .concat();
    json_response(StatusCode::OK, body)
}
