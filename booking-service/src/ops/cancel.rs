//! `tiketa-ops cancel <reference>`: a box-office cancellation, for a booker standing at the
//! counter without their manage link.
//!
//! The store applies the same rules as the booker's own cancel (the seats are free once it
//! answers, the notice is queued for the booker) and records that the operator did it. The
//! booking is read first, so that an unknown reference and a booking that was already
//! cancelled get their own answer and exit code instead of a cancellation that did nothing.

use cinema::booking::{BookingRecord, BookingReference, CancelOutcome};
use cinema::box_office::CancelledBy;
use serde_json::{Value, json};

use super::booking_view::{self, Status};
use super::output::{Report, Table};
use super::{Context, Exit, Failure};

pub fn run(context: &Context, reference: BookingReference) -> Result<Report, Failure> {
    let before = context.store.run(|s| s.booking_by_reference(reference.clone()))?;
    let Some(before) = before else { return Err(unknown(&reference)) };
    if before.cancelled_at.is_some() {
        return Ok(already_cancelled(context, &before));
    }
    match context.store.run(|s| s.cancel_by_operator(reference.clone(), context.now))? {
        CancelOutcome::Cancelled(after) if cancelled_now(&after, context) => Ok(cancelled(context, &after)),
        // Someone else cancelled it between the read and the cancel.
        CancelOutcome::Cancelled(after) => Ok(already_cancelled(context, &after)),
        CancelOutcome::NotFound => Err(unknown(&reference)),
        CancelOutcome::ShowtimeClosed => Ok(started(context, &before)),
    }
}

/// Whether this command's cancel did it (stores keep whole seconds).
fn cancelled_now(booking: &BookingRecord, context: &Context) -> bool {
    booking.cancelled_by == Some(CancelledBy::Operator)
        && booking.cancelled_at.is_some_and(|at| at.timestamp() == context.now.timestamp())
}

fn unknown(reference: &BookingReference) -> Failure {
    Failure::not_found(format!(
        "no booking {reference}; check the reference on the booker's confirmation (TK- and eight letters or digits), or find it with `tiketa-ops bookings`"
    ))
}

fn cancelled(context: &Context, booking: &BookingRecord) -> Report {
    let notice = if booking.email.is_some() {
        "The booker is sent a cancellation notice."
    } else {
        "The booker gave no email: tell them yourself."
    };
    report(context, booking, "cancelled")
        .heading(format!(
            "Cancelled {} for {}: {}. Seats {} are free again.",
            booking.reference,
            booking.name,
            booking_view::screening(context, booking),
            booking_view::seats(booking)
        ))
        .heading(notice)
}

fn already_cancelled(context: &Context, booking: &BookingRecord) -> Report {
    let by = match booking.cancelled_by {
        Some(CancelledBy::Booker) => " by the booker",
        Some(CancelledBy::Operator) => " by an operator",
        None => "",
    };
    let when =
        booking.cancelled_at.map(|at| format!(" at {}", context.time.said(at, context.today()))).unwrap_or_default();
    report(context, booking, "already_cancelled")
        .exit(Exit::AlreadyDone)
        .heading(format!("{} was already cancelled{by}{when}; nothing changed.", booking.reference))
}

fn started(context: &Context, booking: &BookingRecord) -> Report {
    report(context, booking, "showtime_started").exit(Exit::Refused).heading(format!(
        "Not cancelled: {}'s showtime has started ({}). A booking can no longer be cancelled once its showtime starts.",
        booking.reference,
        booking_view::screening(context, booking)
    ))
}

/// The booking as it now stands, in every format, with what happened.
fn report(context: &Context, booking: &BookingRecord, outcome: &str) -> Report {
    let mut table = Table::new(&["reference", "film", "starts", "seats", "name", "status"]);
    let show = &booking.showtime;
    table.push(vec![
        booking.reference.to_string(),
        context.film_title(&show.film_slug).to_string(),
        context.time.local(show.starts_at),
        booking_view::seats(booking),
        booking.name.clone(),
        Status::of(booking).words().to_string(),
    ]);
    let mut json = booking_view::json(context, booking);
    if let Value::Object(fields) = &mut json {
        fields.insert("outcome".into(), json!(outcome));
    }
    Report::new(table, json)
}
