//! Check-in codes: what the ticket's QR code carries to the door, beside the reference.
//!
//! A ticket is shown to door staff, printed, forwarded and photographed, so what it carries must
//! let its holder in and nothing more: the check-in code is drawn apart from the manage token,
//! and knowing it never lets anyone see the booker's email or cancel the booking. It is kept as
//! it is (not hashed), since the confirmation, the manage page and every email show it again.
//!
//! Sixteen characters of the reference alphabet (no 0/O, 1/I/L, U/V: people type it when a
//! camera fails), about 78 bits, written in groups of four: `7Q4M-2XHD-K9PA-RT3W`.

use std::fmt;

use rand::Rng;
use serde::Serialize;

use super::BookingReference;

const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const CHARS: usize = 16;

/// A booking's check-in code, in its written form (groups of four joined by `-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CheckInCode(String);

impl CheckInCode {
    pub fn generate(rng: &mut impl Rng) -> Self {
        let chars: String = (0..CHARS).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
        Self::grouped(&chars)
    }

    /// Reads a code as door staff may type it: any case, with or without dashes or spaces.
    /// `None` when it cannot be a code.
    pub fn parse(text: &str) -> Option<Self> {
        let chars: String = text.chars().filter(|c| !matches!(c, '-' | ' ')).map(|c| c.to_ascii_uppercase()).collect();
        (chars.len() == CHARS && chars.bytes().all(|b| ALPHABET.contains(&b))).then(|| Self::grouped(&chars))
    }

    fn grouped(chars: &str) -> Self {
        let groups: Vec<&str> = (0..CHARS / 4).map(|i| &chars[4 * i..4 * i + 4]).collect();
        CheckInCode(groups.join("-"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckInCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a ticket's QR code encodes: `TIKETA:<reference>:<check-in code>`. A fixed prefix so a
/// door scanner can tell a Tiketa ticket from any other QR code, and nothing secret beyond the
/// check-in code itself.
pub fn ticket_payload(reference: &BookingReference, code: &CheckInCode) -> String {
    format!("{TICKET_PREFIX}{reference}:{code}")
}

/// Reads a scanned ticket back into its reference and check-in code.
pub fn parse_ticket_payload(text: &str) -> Option<(BookingReference, CheckInCode)> {
    let rest = text.trim().strip_prefix(TICKET_PREFIX)?;
    let (reference, code) = rest.split_once(':')?;
    Some((BookingReference::parse(reference)?, CheckInCode::parse(code)?))
}

const TICKET_PREFIX: &str = "TIKETA:";

/// What is shown at a door: a check-in code typed off a ticket (any case, dashes and spaces
/// optional), or a ticket's QR code as a camera reads it, which names its booking beside the
/// code. The door page and `tiketa-ops check-in` read it alike, and the store holds a scanned
/// ticket's reference to its code's booking ([`crate::booking::decide::check_in_refusal`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedTicket {
    pub code: CheckInCode,
    /// The booking a scanned ticket names; `None` for a typed code.
    pub reference: Option<BookingReference>,
}

/// Why a presented text is no ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotATicket {
    /// It begins like a Tiketa QR code (`TIKETA:`, any case) but does not read as one.
    UnreadableQrCode,
    /// It is not a check-in code.
    NotACode,
}

impl PresentedTicket {
    pub fn parse(text: &str) -> Result<Self, NotATicket> {
        let upper = text.trim().to_ascii_uppercase();
        if upper.starts_with(TICKET_PREFIX) {
            return parse_ticket_payload(&upper)
                .map(|(reference, code)| PresentedTicket { code, reference: Some(reference) })
                .ok_or(NotATicket::UnreadableQrCode);
        }
        CheckInCode::parse(text).map(|code| PresentedTicket { code, reference: None }).ok_or(NotATicket::NotACode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_however_it_is_typed() {
        let code = CheckInCode::generate(&mut rand::rng());
        assert_eq!(code.as_str().len(), 19);
        assert_eq!(CheckInCode::parse(code.as_str()), Some(code.clone()));
        let typed = code.as_str().replace('-', " ").to_lowercase();
        assert_eq!(CheckInCode::parse(&typed), Some(code.clone()));
        for bad in ["", "ABCD", "0000-0000-0000-0000", "ABCD-EFGH-JKMN-PQR", "ABCD-EFGH-JKMN-PQRST"] {
            assert_eq!(CheckInCode::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_ticket_payload_carries_the_reference_and_the_code_only() {
        let mut rng = rand::rng();
        let reference = BookingReference::generate(&mut rng);
        let code = CheckInCode::generate(&mut rng);
        let payload = ticket_payload(&reference, &code);
        assert_eq!(payload, format!("TIKETA:{reference}:{code}"));
        assert_eq!(parse_ticket_payload(&payload), Some((reference, code)));
        assert_eq!(parse_ticket_payload("https://example.com/"), None);
    }
}
