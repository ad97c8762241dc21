//! What door staff present: a check-in code typed from a ticket (any case, with or without
//! dashes or spaces), or a ticket's QR code as the camera reads it, `TIKETA:<reference>:<code>`.
//!
//! A scanned ticket carries its reference beside the code; the door holds the two to each
//! other, so a QR code whose reference is not the code's booking (a forged or garbled one) is
//! no ticket at all, and is answered as an unknown code before anything is checked in.

use cinema::booking::check_in::parse_ticket_payload;
use cinema::booking::{BookingReference, CheckInCode};

use crate::api_error::{ApiError, ErrorCode};

/// A ticket as presented at the door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// A typed check-in code.
    Code(CheckInCode),
    /// A scanned QR code: the reference the ticket names and its code.
    Scanned { reference: BookingReference, code: CheckInCode },
}

/// How a QR code that the door can read begins (in any case).
const SCANNED_PREFIX: &str = "TIKETA:";

impl Presented {
    /// Reads what was typed or scanned, or says what a code looks like.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let upper = text.trim().to_ascii_uppercase();
        if upper.starts_with(SCANNED_PREFIX) {
            return parse_ticket_payload(&upper).map(|(reference, code)| Presented::Scanned { reference, code }).ok_or_else(
                || {
                    ApiError::new(
                        ErrorCode::InvalidCheckInCode,
                        "this QR code is not a readable Tiketa ticket (TIKETA:<reference>:<check-in code>); type the check-in code printed under it",
                    )
                },
            );
        }
        CheckInCode::parse(text).map(Presented::Code).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidCheckInCode,
                "a check-in code is 16 letters and digits in four groups, such as 7Q4M-2XHD-K9PA-RT3W (no 0, 1, I, L, O or U); check what was typed",
            )
        })
    }

    pub fn code(&self) -> &CheckInCode {
        match self {
            Presented::Code(code) | Presented::Scanned { code, .. } => code,
        }
    }

    /// The reference a scanned ticket names; `None` for a typed code.
    pub fn reference(&self) -> Option<&BookingReference> {
        match self {
            Presented::Code(_) => None,
            Presented::Scanned { reference, .. } => Some(reference),
        }
    }
}

#[cfg(test)]
mod tests {
    use cinema::booking::check_in::ticket_payload;

    use super::*;

    #[test]
    fn a_code_is_read_however_it_is_typed_and_a_qr_code_with_its_reference() {
        let mut rng = rand::rng();
        let code = CheckInCode::generate(&mut rng);
        let reference = BookingReference::generate(&mut rng);
        let typed = code.as_str().replace('-', "").to_lowercase();
        assert_eq!(Presented::parse(&format!(" {typed} ")).unwrap(), Presented::Code(code.clone()));
        let scanned = Presented::parse(&ticket_payload(&reference, &code)).unwrap();
        assert_eq!(scanned, Presented::Scanned { reference: reference.clone(), code: code.clone() });
        assert_eq!((scanned.code(), scanned.reference()), (&code, Some(&reference)));
        let lower = ticket_payload(&reference, &code).to_lowercase();
        assert_eq!(Presented::parse(&lower).unwrap(), scanned);
    }

    #[test]
    fn anything_else_is_refused_saying_what_a_code_looks_like() {
        for bad in ["", "TK-7Q4M-2XHD", "7Q4M-2XHD-K9PA", "https://example.com/", "0000-0000-0000-0000"] {
            let err = Presented::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidCheckInCode, "{bad:?}");
            assert!(err.message.contains("7Q4M-2XHD-K9PA-RT3W"), "{}", err.message);
        }
        for bad in ["TIKETA:", "TIKETA:TK-7Q4M-2XHD", "tiketa:TK-7Q4M-2XHD:nonsense"] {
            let err = Presented::parse(bad).unwrap_err();
            assert!(err.message.contains("not a readable Tiketa ticket"), "{bad:?}: {}", err.message);
        }
    }
}
