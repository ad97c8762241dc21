//! `POST /api/door/check-in {"code": "...", "showtime": "<id>"}`: checks a ticket in at the
//! door of one showtime.
//!
//! `code` is what door staff typed (the check-in code, in any case, with or without dashes) or
//! what the camera read (`TIKETA:<reference>:<code>`). The store decides inside one transaction
//! ([`cinema::store::Store::check_in`]): the first check-in of an active booking for this
//! showtime records the moment; a second says when the first was. Every refusal is the one
//! error shape with a code of its own, and a message door staff can read out as it is: a
//! cancelled booking (`409 ticket_cancelled`), a ticket for another showtime (`409
//! ticket_for_other_showtime`, naming it), no such ticket (`404 ticket_not_found`), something
//! that is no code at all (`422 invalid_check_in_code`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cinema::ShowtimeId;
use cinema::booking::{BookingError, BookingRecord};
use cinema::box_office::{CancelledBy, CheckIn, CheckInOutcome};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;
use warp::{Buf, Filter};

use super::store_failed;
use super::ticket;
use super::views::{DoorShowtime, TicketBooking, clock_time};
use crate::App;
use crate::api::body::read_json;
use crate::api::{json, with_app};
use crate::api_error::{ApiError, ErrorCode};
use crate::guard::guard;

/// Relative to `/api/door/`.
pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("check-in")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_app(app))
        .then(|headers: HeaderMap, body, app: Arc<App>| guard(handle(headers, body, app)))
        .boxed()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInRequest {
    /// A typed check-in code or a scanned ticket.
    code: String,
    /// The showtime the door is letting in.
    showtime: String,
}

#[derive(Serialize)]
struct CheckedIn<'a> {
    status: &'static str,
    checked_in_at: DateTime<Utc>,
    /// `19:02`, in the cinema's zone.
    checked_in_at_local: String,
    booking: TicketBooking<'a>,
}

async fn handle(
    headers: HeaderMap,
    body: impl Stream<Item = Result<impl Buf, warp::Error>>,
    app: Arc<App>,
) -> Response {
    let request: CheckInRequest = match read_json(&headers, body).await {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    let ticket = match ticket::read(&request.code) {
        Ok(ticket) => ticket,
        Err(e) => return e.into_response(),
    };
    if request.showtime.is_empty() || !ShowtimeId::is_well_formed(&request.showtime) {
        return ApiError::from(BookingError::ShowtimeNotFound(request.showtime)).into_response();
    }
    let now = app.clock.now();
    // A scanned ticket's reference goes with it: the store holds it to the code's booking.
    let check_in = CheckIn::of(ticket, Some(ShowtimeId(request.showtime)), now);
    let outcome = match app.desk.store().check_in(check_in).await {
        Ok(outcome) => outcome,
        Err(e) => return store_failed(e),
    };
    match outcome {
        CheckInOutcome::CheckedIn(booking) => {
            tracing::info!(reference = %booking.reference, showtime = %booking.showtime.id, "checked in at the door");
            admitted("checked_in", &booking, &app, now)
        }
        CheckInOutcome::AlreadyCheckedIn(booking) => admitted("already_checked_in", &booking, &app, now),
        CheckInOutcome::Cancelled(booking) => cancelled(&booking),
        CheckInOutcome::OtherShowtime(booking) => {
            let showtime = DoorShowtime::new(&booking.showtime, &app.catalog, now);
            ApiError::new(ErrorCode::TicketForOtherShowtime, format!("This ticket is for {}", showtime.sentence()))
                .into_response()
        }
        CheckInOutcome::Unknown => unknown(),
    }
}

fn admitted(status: &'static str, booking: &BookingRecord, app: &App, now: DateTime<Utc>) -> Response {
    // The store records the moment for both answers; `now` only stands in should it not.
    let at = booking.checked_in_at.unwrap_or(now);
    let reply = CheckedIn {
        status,
        checked_in_at: at,
        checked_in_at_local: clock_time(at, app.catalog.settings.time_zone),
        booking: TicketBooking::new(booking, &app.catalog, now),
    };
    json(StatusCode::OK, &reply)
}

fn cancelled(booking: &BookingRecord) -> Response {
    let by = match booking.cancelled_by {
        Some(CancelledBy::Operator) => " at the box office",
        Some(CancelledBy::Booker) => " by the booker",
        None => "",
    };
    let message = format!(
        "Cancelled booking: {} ({}, seats {}) was cancelled{by}; this ticket does not let anyone in",
        booking.reference,
        booking.name,
        booking.seats.join(", ")
    );
    ApiError::new(ErrorCode::TicketCancelled, message).into_response()
}

fn unknown() -> Response {
    ApiError::new(
        ErrorCode::TicketNotFound,
        "No ticket with this code: check the code against the ticket, or look the booker up in the door list",
    )
    .into_response()
}
