//! Times as visitors read them: always with the cinema's zone, and an end on a later day marked.
//!
//! A visitor planning from another zone (or a phone set to one) must never have to guess whose
//! "22:00" a page means, so every shown time names the zone. The name is the zone's own
//! abbreviation at that instant where it has a real one ("WIB", "EST"/"EDT", "WET"/"WEST": it
//! changes with daylight saving, so it is taken per instant, never once per zone); where the
//! time-zone database only has a numeric stand-in ("+04" for Asia/Dubai) it is "<City> time",
//! which a visitor can read. The long forms, for screen readers, always say "<City> time":
//! "WIB" read aloud means little.
//!
//! A screening that ends after midnight ends on the next day: "22:00 – 00:49 (+1) WIB", long
//! form "22:00 to 00:49 the next day, Jakarta time", so "00:49" is not read as before "22:00".
//!
//! One module for the site's pages (the generator) and the booking service's mail, so a
//! visitor reads the same time in a message as on the page.

use chrono::{DateTime, NaiveDate, Offset, Utc};
use chrono_tz::{OffsetName, Tz};
use serde::Serialize;

/// The zone's name at an instant: its abbreviation ("WIB", "EDT") when it has a real one,
/// otherwise [`zone_long`] ("Dubai time").
pub fn zone_short(tz: Tz, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&tz);
    match local.offset().abbreviation() {
        Some(abbr) if is_real_abbreviation(abbr) => abbr.to_string(),
        _ => zone_long(tz, at),
    }
}

/// The zone in words: "Jakarta time", "New York time"; a zone with no city (`UTC`,
/// `Etc/GMT-7`) as its offset, "UTC+07:00 time" (`UTC time` for UTC itself).
pub fn zone_long(tz: Tz, at: DateTime<Utc>) -> String {
    match city(tz) {
        Some(city) => format!("{city} time"),
        None => {
            let seconds = at.with_timezone(&tz).offset().fix().local_minus_utc();
            if seconds == 0 {
                "UTC time".to_string()
            } else {
                let sign = if seconds < 0 { '-' } else { '+' };
                let minutes = seconds.unsigned_abs() / 60;
                format!("UTC{sign}{:02}:{:02} time", minutes / 60, minutes % 60)
            }
        }
    }
}

/// The city of a zone name, as people write it: `America/Argentina/Buenos_Aires` -> `Buenos
/// Aires`; `None` for zones named after no place (`UTC`, `Etc/...`).
fn city(tz: Tz) -> Option<String> {
    let name = tz.name();
    if name.starts_with("Etc/") || !name.contains('/') {
        return None;
    }
    name.rsplit('/').next().map(|c| c.replace('_', " "))
}

/// Letters only, like "WIB" or "CEST": the database writes zones without an abbreviation of
/// their own as a signed offset ("+07", "-0330"), which is no name. (chrono-tz 0.10 already
/// answers `None` for those; this keeps an offset off the page should a version pass it on.)
fn is_real_abbreviation(abbr: &str) -> bool {
    !abbr.is_empty() && abbr.chars().all(|c| c.is_ascii_alphabetic())
}

/// A start and an end in the cinema's zone, formatted every way a page needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// `22:00 WIB`: the start alone, with its zone.
    pub starts_label: String,
    /// `22:00 – 00:49 (+1) WIB`; `00:30 WET – 03:00 WEST` when the zone's name changes between
    /// the two (daylight saving began or ended during the screening).
    pub text: String,
    /// `22:00 to 00:49 the next day, Jakarta time`: for screen readers and titles.
    pub long: String,
    /// The zone's short name at the start (`WIB`).
    pub zone: String,
    /// The zone in words (`Jakarta time`).
    pub zone_long: String,
    /// Local days between the start's date and the end's (0 the same day, 1 the next).
    pub end_day_offset: i64,
    /// `(+1)` when the end is on a later local day than the start, else empty.
    pub end_day_mark: String,
}

impl TimeRange {
    pub fn new(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, tz: Tz) -> Self {
        let (start, end) = (starts_at.with_timezone(&tz), ends_at.with_timezone(&tz));
        let (start_hm, end_hm) = (start.format("%H:%M").to_string(), end.format("%H:%M").to_string());
        let (zone, end_zone) = (zone_short(tz, starts_at), zone_short(tz, ends_at));
        let zone_long = zone_long(tz, starts_at);
        let end_day_offset = days_between(start.date_naive(), end.date_naive());
        let end_day_mark = if end_day_offset > 0 { format!("(+{end_day_offset})") } else { String::new() };
        let end_text = if end_day_mark.is_empty() { end_hm.clone() } else { format!("{end_hm} {end_day_mark}") };
        let text = if zone == end_zone {
            format!("{start_hm} – {end_text} {zone}")
        } else {
            format!("{start_hm} {zone} – {end_text} {end_zone}")
        };
        let later = match end_day_offset {
            0 => String::new(),
            1 => " the next day".to_string(),
            n => format!(" {n} days later"),
        };
        TimeRange {
            starts_label: format!("{start_hm} {zone}"),
            text,
            long: format!("{start_hm} to {end_hm}{later}, {zone_long}"),
            zone,
            zone_long,
            end_day_offset,
            end_day_mark,
        }
    }
}

fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A local wall-clock time in a zone, as UTC (unambiguous times only).
    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("an unambiguous local time").with_timezone(&Utc)
    }

    #[test]
    fn jakarta_names_its_abbreviation_and_marks_a_next_day_end() {
        let tz = chrono_tz::Asia::Jakarta;
        let r = TimeRange::new(at(tz, 2026, 11, 24, 22, 0), at(tz, 2026, 11, 25, 0, 49), tz);
        assert_eq!(r.text, "22:00 – 00:49 (+1) WIB");
        assert_eq!(r.long, "22:00 to 00:49 the next day, Jakarta time");
        assert_eq!(r.starts_label, "22:00 WIB");
        assert_eq!((r.zone.as_str(), r.zone_long.as_str()), ("WIB", "Jakarta time"));
        assert_eq!((r.end_day_offset, r.end_day_mark.as_str()), (1, "(+1)"));
    }

    #[test]
    fn a_same_day_screening_has_no_mark() {
        let tz = chrono_tz::Asia::Jakarta;
        let r = TimeRange::new(at(tz, 2026, 11, 24, 18, 0), at(tz, 2026, 11, 24, 20, 49), tz);
        assert_eq!(r.text, "18:00 – 20:49 WIB");
        assert_eq!(r.long, "18:00 to 20:49, Jakarta time");
        assert_eq!((r.end_day_offset, r.end_day_mark.as_str()), (0, ""));
    }

    #[test]
    fn an_end_at_midnight_is_on_the_next_day() {
        let tz = chrono_tz::Asia::Jakarta;
        let r = TimeRange::new(at(tz, 2026, 11, 24, 22, 0), at(tz, 2026, 11, 25, 0, 0), tz);
        assert_eq!(r.text, "22:00 – 00:00 (+1) WIB");
    }

    #[test]
    fn a_zone_with_only_a_numeric_abbreviation_is_named_by_its_city() {
        let tz = chrono_tz::Asia::Dubai; // "+04" in the database
        let r = TimeRange::new(at(tz, 2026, 11, 24, 18, 0), at(tz, 2026, 11, 24, 20, 0), tz);
        assert_eq!(r.text, "18:00 – 20:00 Dubai time");
        assert_eq!(r.long, "18:00 to 20:00, Dubai time");
        let tz: Tz = "America/Argentina/Buenos_Aires".parse().unwrap(); // "-03"
        assert_eq!(zone_short(tz, at(tz, 2026, 1, 1, 12, 0)), "Buenos Aires time");
    }

    #[test]
    fn an_offset_is_no_abbreviation() {
        for name in ["WIB", "EST", "CEST", "UTC"] {
            assert!(is_real_abbreviation(name), "{name}");
        }
        for offset in ["+07", "-03", "+0530", "", "W1B"] {
            assert!(!is_real_abbreviation(offset), "{offset}");
        }
    }

    #[test]
    fn a_zone_named_after_no_city_is_named_by_its_offset() {
        let utc: Tz = "UTC".parse().unwrap();
        assert_eq!(zone_short(utc, at(utc, 2026, 1, 1, 12, 0)), "UTC");
        assert_eq!(zone_long(utc, at(utc, 2026, 1, 1, 12, 0)), "UTC time");
        let tz: Tz = "Etc/GMT-7".parse().unwrap(); // POSIX sign: seven hours ahead of UTC
        assert_eq!(zone_short(tz, at(tz, 2026, 1, 1, 12, 0)), "UTC+07:00 time");
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        assert_eq!(zone_long(tz, at(tz, 2026, 1, 1, 12, 0)), "Kolkata time");
    }

    #[test]
    fn new_york_names_standard_and_daylight_time_by_date() {
        let tz = chrono_tz::America::New_York;
        let winter = TimeRange::new(at(tz, 2026, 1, 15, 21, 0), at(tz, 2026, 1, 15, 23, 30), tz);
        assert_eq!(winter.text, "21:00 – 23:30 EST");
        let summer = TimeRange::new(at(tz, 2026, 7, 15, 22, 0), at(tz, 2026, 7, 16, 0, 49), tz);
        assert_eq!(summer.text, "22:00 – 00:49 (+1) EDT");
        assert_eq!(summer.long, "22:00 to 00:49 the next day, New York time");
    }

    #[test]
    fn a_screening_across_a_daylight_saving_change_names_both_sides() {
        // Lisbon springs forward on 29 March 2026 at 01:00 WET, to 02:00 WEST.
        let tz = chrono_tz::Europe::Lisbon;
        let start = at(tz, 2026, 3, 28, 23, 0);
        let end = start + chrono::Duration::minutes(150); // 01:30 WET is 02:30 WEST
        let r = TimeRange::new(start, end, tz);
        assert_eq!(r.text, "23:00 WET – 02:30 (+1) WEST");
        assert_eq!(r.long, "23:00 to 02:30 the next day, Lisbon time");
        // And falls back on 25 October 2026 at 02:00 WEST, to 01:00 WET.
        let start = at(tz, 2026, 10, 24, 23, 30);
        let end = start + chrono::Duration::minutes(180); // past 01:30 WEST, to 01:30 WET
        let r = TimeRange::new(start, end, tz);
        assert_eq!(r.text, "23:30 WEST – 01:30 (+1) WET");
        // A summer evening in Lisbon, whole in WEST.
        let r = TimeRange::new(at(tz, 2026, 7, 1, 18, 0), at(tz, 2026, 7, 1, 20, 0), tz);
        assert_eq!(r.text, "18:00 – 20:00 WEST");
    }
}
