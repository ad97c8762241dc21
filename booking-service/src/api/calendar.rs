//! `GET /api/bookings/{reference}/calendar.ics`: a booking as a calendar event, for whoever
//! holds its manage token (`X-Manage-Token` or `?token=`, as for the booking itself). A wrong
//! token gets the manage route's `404`, after the same work.
//!
//! The event is the showtime in UTC (see [`cinema::calendar`]), the studio as its place, and a
//! link to the site's booking page with the reference only: the file is saved into calendars
//! that sync and are shared, so it never carries the token. Its UID names the booking, so
//! saving the file again updates the one event. A cancelled booking still has its file, marked
//! cancelled in its title and text, so a calendar that takes it again shows the change.

use std::sync::Arc;

use cinema::Catalog;
use cinema::booking::BookingRecord;
use cinema::calendar::{self, CalendarEvent};
use cinema::site_paths::BOOKING_URL;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::manage::token;
use super::views::url_component;
use super::with_app;
use crate::App;
use crate::api_error::ApiError;
use crate::guard::guard;

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "bookings" / String / "calendar.ics")
        .and(crate::head::get_or_head())
        .and(token())
        .and(with_app(app))
        .then(|reference: String, token: String, app: Arc<App>| guard(show(reference, token, app)))
        .boxed()
}

async fn show(reference: String, token: String, app: Arc<App>) -> Response {
    match app.desk.booking(&reference, &token).await {
        Ok(b) => reply(&b, &app.catalog),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn reply(b: &BookingRecord, catalog: &Catalog) -> Response {
    let text = calendar::ics(&catalog.settings.name, &[event(b, catalog)]);
    let mut res = Response::new(text.into());
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{}.ics\"", b.reference)) {
        h.insert(header::CONTENT_DISPOSITION, disposition);
    }
    res
}

/// The booking's event.
pub fn event(b: &BookingRecord, catalog: &Catalog) -> CalendarEvent {
    let settings = &catalog.settings;
    let show = &b.showtime;
    let title = catalog.film(&show.film_slug).map_or(show.film_slug.as_str(), |f| f.title.as_str());
    let cancelled = b.cancelled_at.is_some();
    let mut description =
        format!("Booking {}\nSeats: {}\nCheck-in code: {}", b.reference, b.seats.join(", "), b.check_in_code);
    if cancelled {
        description.insert_str(0, "This booking was cancelled.\n");
    }
    CalendarEvent {
        uid: calendar::uid("booking", b.reference.as_str(), &settings.base_url),
        summary: if cancelled { format!("Cancelled: {title}") } else { title.to_string() },
        description,
        location: format!("Studio {}, {}", show.studio, settings.name),
        starts_at: show.starts_at,
        ends_at: show.ends_at,
        url: Some(format!("{}{BOOKING_URL}?ref={}", settings.base_url, url_component(b.reference.as_str()))),
        // The last change to the booking: the same file for the same booking, and a newer one
        // once it is cancelled.
        stamp: b.cancelled_at.unwrap_or(b.created_at),
    }
}
