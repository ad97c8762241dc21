//! What door staff present: a check-in code typed from a ticket (any case, with or without
//! dashes or spaces), or a ticket's QR code as the camera reads it, `TIKETA:<reference>:<code>`.
//!
//! A scanned ticket carries its reference beside the code, and the store holds the two to each
//! other inside the check-in's transaction: a QR code whose reference is not the code's booking
//! (a forged or garbled one) is no ticket at all, answered as an unknown code.

use cinema::booking::check_in::{NotATicket, PresentedTicket};

use crate::api_error::{ApiError, ErrorCode};

/// Reads what was typed or scanned, or says what a code looks like.
pub fn read(text: &str) -> Result<PresentedTicket, ApiError> {
    PresentedTicket::parse(text).map_err(|e| {
        let message = match e {
            NotATicket::UnreadableQrCode => {
                "this QR code is not a readable Tiketa ticket (TIKETA:<reference>:<check-in code>); type the check-in code printed under it"
            }
            NotATicket::NotACode => {
                "a check-in code is 16 letters and digits in four groups, such as 7Q4M-2XHD-K9PA-RT3W (no 0, 1, I, L, O or U); check what was typed"
            }
        };
        ApiError::new(ErrorCode::InvalidCheckInCode, message)
    })
}

#[cfg(test)]
mod tests {
    use cinema::booking::check_in::ticket_payload;
    use cinema::booking::{BookingReference, CheckInCode};

    use super::*;

    #[test]
    fn a_code_is_read_however_it_is_typed_and_a_qr_code_with_its_reference() {
        let mut rng = rand::rng();
        let code = CheckInCode::generate(&mut rng);
        let reference = BookingReference::generate(&mut rng);
        let typed = code.as_str().replace('-', "").to_lowercase();
        assert_eq!(read(&format!(" {typed} ")).unwrap(), PresentedTicket { code: code.clone(), reference: None });
        let scanned = read(&ticket_payload(&reference, &code)).unwrap();
        assert_eq!(scanned, PresentedTicket { code: code.clone(), reference: Some(reference.clone()) });
        let lower = ticket_payload(&reference, &code).to_lowercase();
        assert_eq!(read(&lower).unwrap(), scanned);
    }

    #[test]
    fn anything_else_is_refused_saying_what_a_code_looks_like() {
        for bad in ["", "TK-7Q4M-2XHD", "7Q4M-2XHD-K9PA", "https://example.com/", "0000-0000-0000-0000"] {
            let err = read(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidCheckInCode, "{bad:?}");
            assert!(err.message.contains("7Q4M-2XHD-K9PA-RT3W"), "{}", err.message);
        }
        for bad in ["TIKETA:", "TIKETA:TK-7Q4M-2XHD", "tiketa:TK-7Q4M-2XHD:nonsense"] {
            let err = read(bad).unwrap_err();
            assert!(err.message.contains("not a readable Tiketa ticket"), "{bad:?}: {}", err.message);
        }
    }
}
