//! Every error code the booking API can send, in one list.
//!
//! Clients branch on `code`, never on the message, so a code never changes meaning once
//! released. The domain's refusals ([`super::BookingError::code`]), the web layer's own errors
//! (a malformed body, a rate limit, an unknown route) and the test that holds the OpenAPI
//! document to the code all read this one list, so a code cannot be sent without being
//! documented, nor documented without being sent.
//!
//! Each code carries its HTTP status beside it: a code means one thing, so it has one status,
//! and adding a code is one line here (then the OpenAPI document, which a test checks).

use std::fmt;

use serde::Serialize;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal, $status:literal;)*) => {
        /// A stable, machine-readable reason for an error reply.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $text)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order the API documents them.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as clients see it, e.g. `"seats_taken"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }

            /// The HTTP status every reply with this code has.
            pub const fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

error_codes! {
    /// No showtime has this id.
    ShowtimeNotFound = "showtime_not_found", 404;
    /// The showtime has started or was archived.
    ShowtimeClosed = "showtime_closed", 410;
    /// Some requested seats are held by another booking (named in `seats`).
    SeatsTaken = "seats_taken", 409;
    SeatsHeld = "seats_held", 409;
    InvalidHoldToken = "invalid_hold_token", 400;
    /// Some requested seats are not in the auditorium (named in `seats`).
    UnknownSeats = "unknown_seats", 422;
    /// A seat is named more than once (named in `seats`).
    DuplicateSeats = "duplicate_seats", 422;
    /// No seat requested.
    NoSeats = "no_seats", 422;
    /// More seats than one booking holds.
    TooManySeats = "too_many_seats", 422;
    /// The name is empty, invisible, too long or holds control or bidi characters.
    InvalidName = "invalid_name", 422;
    /// The email is not an address.
    InvalidEmail = "invalid_email", 422;
    /// No booking with this reference and token (the same answer for both).
    BookingNotFound = "booking_not_found", 404;
    /// The Idempotency-Key was used for a different request.
    IdempotencyKeyReused = "idempotency_key_reused", 422;
    /// The Idempotency-Key is not 1 to 255 visible ASCII characters.
    InvalidIdempotencyKey = "invalid_idempotency_key", 400;
    /// The database cannot be used right now.
    StoreUnavailable = "store_unavailable", 503;
    /// The body is not JSON of the expected shape.
    InvalidJson = "invalid_json", 400;
    /// The body could not be read.
    InvalidBody = "invalid_body", 400;
    /// The body is not sent as `application/json`.
    UnsupportedMediaType = "unsupported_media_type", 415;
    /// The body is over the size limit.
    PayloadTooLarge = "payload_too_large", 413;
    /// Too many bookings from one address.
    RateLimited = "rate_limited", 429;
    /// Nothing answers at this path.
    NotFound = "not_found", 404;
    /// The path answers other methods (listed in `Allow`).
    MethodNotAllowed = "method_not_allowed", 405;
    /// An operator route without the operator's token (`Authorization: Bearer ...`).
    OperatorTokenRequired = "operator_token_required", 401;
    /// The door: no booking has this check-in code (or a scanned ticket's reference is not
    /// the code's booking).
    TicketNotFound = "ticket_not_found", 404;
    /// The door: the ticket's booking was cancelled.
    TicketCancelled = "ticket_cancelled", 409;
    /// The door: the ticket is for another showtime than the one being let in (the message
    /// says which).
    TicketForOtherShowtime = "ticket_for_other_showtime", 409;
    /// The door: the text is neither a check-in code nor a Tiketa ticket's QR code.
    InvalidCheckInCode = "invalid_check_in_code", 422;
    /// The door: `date` is not a day written `YYYY-MM-DD`.
    InvalidDate = "invalid_date", 422;
    /// `GET /api/showtimes`: `limit` is not a whole number in the allowed range.
    InvalidLimit = "invalid_limit", 400;
    /// `GET /api/showtimes`: `cursor` is not one the service gave (an earlier reply's
    /// `next_cursor`).
    InvalidCursor = "invalid_cursor", 400;
    /// The door's day list: `studio` is not a studio's number (a whole number from 1).
    InvalidStudio = "invalid_studio", 400;
    /// The browser origin is not allowed.
    CorsForbidden = "cors_forbidden", 403;
    /// A bug on the service's side.
    Internal = "internal", 500;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_serialise_as_their_text() {
        let texts: std::collections::HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(texts.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code}");
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert!((400..600).contains(&code.status()), "{code}");
        }
    }
}
