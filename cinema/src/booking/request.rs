//! A booking request and the checks that need nothing but the request and the seat map.

use std::collections::HashSet;

use serde::Deserialize;

use super::error::BookingError;
use super::visible_text::{
    first_bidi_control, has_visible_text, is_invisible, is_line_breaking_or_control, perceived_len,
};
use crate::seat_map::SeatMap;

/// The most seats one booking holds.
pub const MAX_SEATS: usize = 8;
/// The longest name, in user-perceived characters (grapheme clusters) after trimming.
pub const MAX_NAME_CHARS: usize = 80;
/// The longest name in Unicode code points (what JSON Schema's `maxLength` counts). It bounds
/// stacks of combining marks ("Zalgo" text) that a reader sees as one character each, while
/// leaving room for 80 of the longest common emoji (a ZWJ family is seven code points).
pub const MAX_NAME_CODE_POINTS: usize = 8 * MAX_NAME_CHARS;
/// The longest email address (RFC 5321's path limit less the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest local part (before the `@`) of an email address, per RFC 5321.
pub const MAX_EMAIL_LOCAL_CHARS: usize = 64;

/// A booking request as a client sends it. Unknown fields are refused so a typo such as
/// `"seat"` is an error, not a booking without seats.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub seats: Vec<String>,
    /// The hold token the seats are held with in the seat picker, if any: booking with it
    /// turns its held seats into the booking and ends the hold.
    #[serde(default)]
    pub hold_token: Option<String>,
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

/// Checks seats asked for in a hold: known seats of the room, each once, at most
/// [`MAX_SEATS`]; an empty list is allowed (it asks for the hold as it is).
pub fn check_hold_seats(seats: &[String], seat_map: &SeatMap) -> Result<Vec<String>, BookingError> {
    if seats.is_empty() { Ok(Vec::new()) } else { check_seats(seats, seat_map) }
}

/// A name is kept as sent, less surrounding white space: it is refused, never cut or cleaned,
/// so what staff see is what the booker typed.
fn check_name(raw: &str) -> Result<String, BookingError> {
    let name = raw.trim();
    let invalid = |why: String| Err(BookingError::InvalidName(why));
    if name.is_empty() {
        return invalid("must not be empty".into());
    }
    if name.chars().any(is_line_breaking_or_control) {
        return invalid("must not contain control characters such as line breaks or tabs".into());
    }
    if let Some(c) = first_bidi_control(name) {
        return invalid(format!(
            "must not contain text-direction controls (found U+{:04X}); they reorder the text around the name",
            c as u32
        ));
    }
    if !has_visible_text(name) {
        return invalid("must contain visible text, not only spaces, invisible or formatting characters".into());
    }
    let length = perceived_len(name);
    if length > MAX_NAME_CHARS {
        return invalid(format!("must be at most {MAX_NAME_CHARS} characters; this one has {length}"));
    }
    let code_points = name.chars().count();
    if code_points > MAX_NAME_CODE_POINTS {
        return invalid(format!(
            "must be at most {MAX_NAME_CODE_POINTS} Unicode code points (accents and joiners count); this one has {code_points}"
        ));
    }
    Ok(name.to_string())
}

/// A deliberately plain check: one `@`, a non-empty local part, a dotted domain of letters,
/// digits and hyphens, no spaces. Whether the mailbox exists is for a confirmation mail to find.
/// Checks an email address as a booking form's (and the recovery form's) is checked; the
/// address comes back trimmed.
pub fn check_email(email: &str) -> Result<String, BookingError> {
    let email = email.trim();
    let bad = || BookingError::InvalidEmail("is not an address such as \"ana@example.com\"".into());
    let length = email.chars().count();
    if length > MAX_EMAIL_CHARS {
        return Err(BookingError::InvalidEmail(format!(
            "must be at most {MAX_EMAIL_CHARS} characters; this one has {length}"
        )));
    }
    // Domains may be internationalised, but never with invisible characters (a Hangul filler
    // is a "letter") or direction controls.
    if email.chars().any(is_invisible) {
        return Err(BookingError::InvalidEmail("must not contain spaces, invisible or formatting characters".into()));
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= MAX_EMAIL_LOCAL_CHARS
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
            hold_token: None,
        }
    }

    fn code(r: BookingRequest) -> &'static str {
        r.validate(&room()).unwrap_err().code().as_str()
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

    fn name_error(name: &str) -> Option<String> {
        match request(name, None, &["A1"]).validate(&room()) {
            Ok(_) => None,
            Err(BookingError::InvalidName(why)) => Some(why),
            Err(other) => panic!("{name:?}: not a name error: {other}"),
        }
    }

    /// Hostile names, each with a word its refusal must contain (`None`: accepted as is).
    #[test]
    fn hostile_names_are_refused_with_a_reason_and_good_ones_kept_whole() {
        let long_emoji = "👨‍👩‍👧‍👦".repeat(81);
        let zalgo = format!("A{}", "\u{0301}".repeat(MAX_NAME_CODE_POINTS));
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("empty", "", Some("empty")),
            ("spaces", "   ", Some("empty")),
            ("ideographic space", "\u{3000}", Some("empty")),
            ("zero-width spaces", "\u{200B}\u{200B}\u{200B}", Some("visible")),
            ("zero-width joiners", "\u{200D}\u{200C}", Some("visible")),
            ("word joiner and BOM", "\u{2060}\u{FEFF}", Some("visible")),
            ("Hangul fillers", "\u{3164}\u{3164}", Some("visible")),
            ("Hangul choseong filler", "\u{115F}\u{1160}", Some("visible")),
            ("halfwidth Hangul filler", "\u{FFA0}", Some("visible")),
            ("braille blank", "\u{2800}\u{2800}", Some("visible")),
            ("soft hyphen", "\u{00AD}", Some("visible")),
            ("variation selectors", "\u{FE0F}\u{FE0E}", Some("visible")),
            ("tag characters", "\u{E0041}\u{E007F}", Some("visible")),
            ("Mongolian vowel separator", "\u{180E}", Some("visible")),
            ("right-to-left override", "\u{202E}anA", Some("U+202E")),
            ("left-to-right embedding", "Ana\u{202A}", Some("U+202A")),
            ("right-to-left isolate", "\u{2067}Ana\u{2069}", Some("U+2067")),
            ("right-to-left mark", "Ana\u{200F}", Some("U+200F")),
            ("left-to-right mark", "\u{200E}Ana", Some("U+200E")),
            ("Arabic letter mark", "Ana\u{061C}", Some("U+061C")),
            ("override only", "\u{202E}", Some("U+202E")),
            ("line break", "Ana\nLima", Some("control")),
            ("tab", "Ana\tLima", Some("control")),
            ("bell", "Ana\u{7}", Some("control")),
            ("NUL", "Ana\u{0}", Some("control")),
            ("C1 control", "Ana\u{85}Lima", Some("control")),
            ("line separator", "Ana\u{2028}Lima", Some("control")),
            ("paragraph separator", "Ana\u{2029}Lima", Some("control")),
            ("81 letters", &"x".repeat(81), Some("at most 80 characters; this one has 81")),
            ("81 family emoji", &long_emoji, Some("at most 80 characters; this one has 81")),
            ("combining-mark stack", &zalgo, Some("code points")),
            ("80 letters", &"x".repeat(80), None),
            ("80 accented letters", &"é".repeat(80), None),
            ("80 decomposed accented letters", &"e\u{301}".repeat(80), None),
            ("80 family emoji", &"👨‍👩‍👧‍👦".repeat(80), None),
            ("flags", "🇮🇩🇧🇷", None),
            ("Persian with a zero-width non-joiner", "می\u{200C}خواهم", None),
            ("Arabic", "علي", None),
            ("Hebrew", "דנה", None),
            ("Korean", "김민지", None),
            ("Hindi", "अनीता", None),
            ("a zero-width space inside visible text", "Ana\u{200B}Lima", None),
        ];
        for (what, name, expected) in cases {
            match (name_error(name), expected) {
                (None, None) => {
                    let valid = request(name, None, &["A1"]).validate(&room()).unwrap();
                    assert_eq!(valid.name, *name, "{what}: a good name is kept whole");
                }
                (Some(why), Some(word)) => assert!(why.contains(word), "{what}: {why:?} should mention {word:?}"),
                (got, _) => panic!("{what} ({name:?}): expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn a_name_is_trimmed_never_cut() {
        let valid = request("  Ana Lima \u{3000}", None, &["A1"]).validate(&room()).unwrap();
        assert_eq!(valid.name, "Ana Lima");
        // One character over the limit is refused, not shortened to fit (which could split an
        // emoji in two).
        let over = format!("{}👍🏽", "x".repeat(MAX_NAME_CHARS));
        assert!(name_error(&over).unwrap().contains("at most 80"));
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
        for invisible in
            ["ana@\u{3164}.com", "ana@exa\u{200B}mple.com", "ana@example.com\u{202E}", "ana\u{2800}@example.com"]
        {
            assert_eq!(code(request("Ana", Some(invisible), &["A1"])), "invalid_email", "{invisible:?}");
        }
        assert!(request("Ana", Some("ana@bücher.example"), &["A1"]).validate(&room()).is_ok());
    }

    #[test]
    fn seat_lists_must_be_one_to_eight_distinct_seats_of_the_room() {
        assert_eq!(code(request("Ana", None, &[])), "no_seats");
        let nine = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "B1"];
        assert_eq!(code(request("Ana", None, &nine)), "too_many_seats");
        assert!(request("Ana", None, &nine[..8]).validate(&room()).is_ok());
        let err = request("Ana", None, &["A1", "A2", "A1", "A1"]).validate(&room()).unwrap_err();
        assert_eq!(err.code().as_str(), "duplicate_seats");
        assert_eq!(err.seats().unwrap(), ["A1"]);
        let err = request("Ana", None, &["A1", "Z9", "B5", "a1"]).validate(&room()).unwrap_err();
        assert_eq!(err.code().as_str(), "unknown_seats");
        assert_eq!(err.seats().unwrap(), ["Z9", "B5", "a1"]);
    }
}
