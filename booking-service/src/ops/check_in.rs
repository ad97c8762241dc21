//! `tiketa-ops check-in <code> [--showtime ID]`: a ticket checked in at the door, from the
//! code typed off it or the text its QR code holds.
//!
//! The store decides in one transaction (two doors scanning one ticket: one is first); this
//! only says the answer the way door staff need it: who, which seats, and for a second scan
//! when the first one was, so a ticket shown twice is noticed.

use cinema::ShowtimeId;
use cinema::booking::BookingRecord;
use cinema::booking::check_in::PresentedTicket;
use cinema::box_office::{CheckIn, CheckInOutcome};
use serde_json::{Value, json};

use super::booking_view::{self, Status};
use super::output::{Report, Table};
use super::{Context, Exit, Failure};

/// A typed check-in code (any case, dashes and spaces optional) or a QR code's text, for the
/// command line.
pub fn parse_ticket(text: &str) -> Result<PresentedTicket, String> {
    PresentedTicket::parse(text).map_err(|_| {
        format!(
            "{text:?} is not a check-in code; expected the sixteen letters and digits printed under the ticket's QR code (such as 7Q4M-2XHD-K9PA-RT3W), or the QR code's text (TIKETA:<reference>:<code>)"
        )
    })
}

pub fn run(context: &Context, ticket: PresentedTicket, showtime: Option<ShowtimeId>) -> Result<Report, Failure> {
    let check_in = CheckIn::of(ticket.clone(), showtime.clone(), context.now);
    let outcome = context.store.run(|s| s.check_in(check_in))?;
    let today = context.today();
    Ok(match outcome {
        CheckInOutcome::CheckedIn(booking) => report(context, &booking, "checked_in").heading(format!(
            "Checked in {}: {}, seats {}. {}.",
            booking.reference,
            booking.name,
            booking_view::seats(&booking),
            booking_view::screening(context, &booking)
        )),
        CheckInOutcome::AlreadyCheckedIn(booking) => {
            let when = booking.checked_in_at.map(|at| context.time.said(at, today)).unwrap_or_default();
            report(context, &booking, "already_checked_in").exit(Exit::AlreadyDone).heading(format!(
                "Already checked in at {when}: {} ({}, seats {}). Do not let the same ticket in twice.",
                booking.reference,
                booking.name,
                booking_view::seats(&booking)
            ))
        }
        CheckInOutcome::Cancelled(booking) => {
            let when =
                booking.cancelled_at.map(|at| format!(" at {}", context.time.said(at, today))).unwrap_or_default();
            report(context, &booking, "cancelled").exit(Exit::Refused).heading(format!(
                "Refused: {} was cancelled{when}; its seats may be someone else's now.",
                booking.reference
            ))
        }
        CheckInOutcome::OtherShowtime(booking) => {
            let asked = showtime.map(|id| format!(", not {id}")).unwrap_or_default();
            report(context, &booking, "other_showtime").exit(Exit::Refused).heading(format!(
                "Refused: {} is for {} ({}{asked}).",
                booking.reference,
                booking_view::screening(context, &booking),
                booking.showtime.id
            ))
        }
        CheckInOutcome::Unknown => {
            let mut table = Table::new(&["code", "outcome"]);
            table.push(vec![ticket.code.to_string(), "unknown".into()]);
            Report::new(table, json!({ "outcome": "unknown", "code": ticket.code }))
                .exit(Exit::NotFound)
                .without_table_in_text()
                .heading(match &ticket.reference {
                    Some(reference) => format!(
                        "Refused: no ticket has the check-in code {}; the QR code names {reference}: look it up with `tiketa-ops bookings`.",
                        ticket.code
                    ),
                    None => format!(
                        "Refused: no ticket has the check-in code {}; check it against the ticket (letters and digits only, no 0, 1, I, L, O, U or V).",
                        ticket.code
                    ),
                })
        }
    })
}

/// The booking as it now stands, in every format, with the outcome.
fn report(context: &Context, booking: &BookingRecord, outcome: &str) -> Report {
    let mut table = Table::new(&["reference", "name", "seats", "film", "starts", "status", "outcome"]);
    let show = &booking.showtime;
    table.push(vec![
        booking.reference.to_string(),
        booking.name.clone(),
        booking_view::seats(booking),
        context.film_title(&show.film_slug).to_string(),
        context.time.local(show.starts_at),
        Status::of(booking).words().to_string(),
        outcome.replace('_', " "),
    ]);
    let mut json = booking_view::json(context, booking);
    if let Value::Object(fields) = &mut json {
        fields.insert("outcome".into(), json!(outcome));
    }
    Report::new(table, json).without_table_in_text()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_a_typed_code_or_the_qr_text() {
        let typed = parse_ticket("7q4m 2xhd k9pa rt3w").unwrap();
        assert_eq!((typed.code.as_str(), typed.reference), ("7Q4M-2XHD-K9PA-RT3W", None));
        let scanned = parse_ticket("TIKETA:TK-7Q4M-2XHD:7Q4M-2XHD-K9PA-RT3W\n").unwrap();
        assert_eq!(scanned.code.as_str(), "7Q4M-2XHD-K9PA-RT3W");
        assert_eq!(scanned.reference.as_ref().map(cinema::booking::BookingReference::as_str), Some("TK-7Q4M-2XHD"));
        for bad in ["", "TK-7Q4M-2XHD", "TIKETA:TK-7Q4M-2XHD:nope", "https://example.com/"] {
            assert!(parse_ticket(bad).unwrap_err().contains("check-in code"), "{bad:?}");
        }
    }
}
