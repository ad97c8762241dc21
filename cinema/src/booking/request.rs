//! A booking request and the checks that need nothing but the request and the seat map.

use std::collections::HashSet;

use serde::Deserialize;

use super::error::BookingError;
use crate::seat_map::SeatMap;

/// The most seats one booking holds.
pub const MAX_SEATS: usize = 8;
/// The longest name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 80;
const MAX_EMAIL_CHARS: usize = 254;

/// A booking request as a client sends it. Unknown fields are refused so a typo such as
/// `"seat"` is an error, not a booking without seats.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub seats: Vec<String>,
}

/// A request that passed every check the store does not need to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    /// Trimmed.
    pub name: String,
    /// Trimmed; an empty email is no email.
    pub email: Option<String>,
    /// As requested, in order.
    pub seats: Vec<String>,
}

impl BookingRequest {
    /// Checks the name, the email and the seats against the room.
    pub fn validate(&self, seat_map: &SeatMap) -> Result<ValidRequest, BookingError> {
        let name = check_name(&self.name)?;
        let email = match self.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(email) => Some(check_email(email)?),
        };
        let seats = check_seats(&self.seats, seat_map)?;
        Ok(ValidRequest { name, email, seats })
    }
}

fn check_name(raw: &str) -> Result<String, BookingError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(BookingError::InvalidName("must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(BookingError::InvalidName("must be at most 80 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(BookingError::InvalidName("must not contain control characters such as line breaks or tabs"));
    }
    Ok(name.to_string())
}

/// A deliberately plain check: one `@`, a non-empty local part, a dotted domain of letters,
/// digits and hyphens, no spaces. Whether the mailbox exists is for a confirmation mail to find.
fn check_email(email: &str) -> Result<String, BookingError> {
    let bad = || BookingError::InvalidEmail("is not an address such as \"ana@example.com\"");
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(BookingError::InvalidEmail("must be at most 254 characters"));
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|c| c.is_ascii_graphic() && !"@\"(),:;<>[\\]".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok { Ok(email.to_string()) } else { Err(bad()) }
}

fn check_seats(seats: &[String], seat_map: &SeatMap) -> Result<Vec<String>, BookingError> {
    if seats.is_empty() {
        return Err(BookingError::NoSeats { max: MAX_SEATS });
    }
    if seats.len() > MAX_SEATS {
        return Err(BookingError::TooManySeats { count: seats.len(), max: MAX_SEATS });
    }
    let mut seen = HashSet::new();
    let mut duplicates: Vec<String> = Vec::new();
    for seat in seats {
        if !seen.insert(seat.as_str()) && !duplicates.contains(seat) {
            duplicates.push(seat.clone());
        }
    }
    if !duplicates.is_empty() {
        return Err(BookingError::DuplicateSeats(duplicates));
    }
    let unknown: Vec<String> = seats.iter().filter(|s| !seat_map.contains(s)).cloned().collect();
    if !unknown.is_empty() {
        return Err(BookingError::UnknownSeats(unknown));
    }
    Ok(seats.to_vec())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn room() -> SeatMap {
        SeatMap::parse("A ssss.ssss\nB ww.ss\n", Path::new("m.txt")).unwrap()
    }

    fn request(name: &str, email: Option<&str>, seats: &[&str]) -> BookingRequest {
        BookingRequest {
            name: name.into(),
            email: email.map(Into::into),
            seats: seats.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn code(r: BookingRequest) -> &'static str {
        r.validate(&room()).unwrap_err().code()
    }

    #[test]
    fn a_good_request_is_trimmed_and_keeps_its_seat_order() {
        let valid = request("  Ana Lima ", Some(" ana@example.com "), &["A3", "B1"]).validate(&room()).unwrap();
        assert_eq!(valid.name, "Ana Lima");
        assert_eq!(valid.email.as_deref(), Some("ana@example.com"));
        assert_eq!(valid.seats, ["A3", "B1"]);
        let no_email = request("Ana", Some("  "), &["A1"]).validate(&room()).unwrap();
        assert_eq!(no_email.email, None);
    }

    #[test]
    fn names_must_be_present_short_and_printable() {
        assert_eq!(code(request("   ", None, &["A1"])), "invalid_name");
        assert_eq!(code(request(&"x".repeat(81), None, &["A1"])), "invalid_name");
        assert!(request(&"é".repeat(80), None, &["A1"]).validate(&room()).is_ok());
        assert_eq!(code(request("Ana\nLima", None, &["A1"])), "invalid_name");
        assert_eq!(code(request("Ana\u{7}", None, &["A1"])), "invalid_name");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@@example.com",
            "a na@example.com",
            "ana@exa mple.com",
            "ana@-example.com",
            "ana@example..com",
        ] {
            assert_eq!(code(request("Ana", Some(bad), &["A1"])), "invalid_email", "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(code(request("Ana", Some(&long), &["A1"])), "invalid_email");
    }

    #[test]
    fn seat_lists_must_be_one_to_eight_distinct_seats_of_the_room() {
        assert_eq!(code(request("Ana", None, &[])), "no_seats");
        let nine = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "B1"];
        assert_eq!(code(request("Ana", None, &nine)), "too_many_seats");
        assert!(request("Ana", None, &nine[..8]).validate(&room()).is_ok());
        let err = request("Ana", None, &["A1", "A2", "A1", "A1"]).validate(&room()).unwrap_err();
        assert_eq!(err.code(), "duplicate_seats");
        assert_eq!(err.seats().unwrap(), ["A1"]);
        let err = request("Ana", None, &["A1", "Z9", "B5", "a1"]).validate(&room()).unwrap_err();
        assert_eq!(err.code(), "unknown_seats");
        assert_eq!(err.seats().unwrap(), ["Z9", "B5", "a1"]);
    }
}
