//! A showtime's date and times as a message says them: in the cinema's zone, with the zone
//! named, an end on a later day marked: "Thursday 10 January 2030, 22:00 – 00:49 (+1) WIB".
//!
//! The same words as the site's pages (the generator's `render/times.rs`, whose rules this
//! follows: the zone's abbreviation where it has a real one, else "<City> time"), so a visitor
//! reads the same time in the mail as on the page. Those rules belong in one module of the
//! `cinema` crate that both read; until it moves there, this is a faithful copy of the part a
//! message needs.

use chrono::{DateTime, Utc};
use chrono_tz::{OffsetName, Tz};

/// "Thursday 10 January 2030, 10:00 – 12:08 WIB".
pub fn showtime_label(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, tz: Tz) -> String {
    let (start, end) = (starts_at.with_timezone(&tz), ends_at.with_timezone(&tz));
    let days = (end.date_naive() - start.date_naive()).num_days();
    let end_text = match days {
        0 => end.format("%H:%M").to_string(),
        n => format!("{} (+{n})", end.format("%H:%M")),
    };
    let (zone, end_zone) = (zone_short(tz, starts_at), zone_short(tz, ends_at));
    let times = if zone == end_zone {
        format!("{} – {end_text} {zone}", start.format("%H:%M"))
    } else {
        format!("{} {zone} – {end_text} {end_zone}", start.format("%H:%M"))
    };
    format!("{}, {times}", start.format("%A %-d %B %Y"))
}

/// "Thursday 10 January, 10:00 WIB": a subject line's short form.
pub fn start_label(starts_at: DateTime<Utc>, tz: Tz) -> String {
    let start = starts_at.with_timezone(&tz);
    format!("{}, {} {}", start.format("%A %-d %B"), start.format("%H:%M"), zone_short(tz, starts_at))
}

/// The zone's abbreviation at an instant ("WIB", "EDT") when it has a real one, else
/// "<City> time" ("Dubai time"), else the offset ("UTC+07:00 time").
fn zone_short(tz: Tz, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&tz);
    match local.offset().abbreviation() {
        Some(abbr) if !abbr.is_empty() && abbr.chars().all(|c| c.is_ascii_alphabetic()) => abbr.to_string(),
        _ => {
            let name = tz.name();
            if !name.starts_with("Etc/") && name.contains('/') {
                format!("{} time", name.rsplit('/').next().unwrap_or(name).replace('_', " "))
            } else {
                local.format("UTC%:z time").to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(tz: Tz, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(2026, 11, d, h, mi, 0).single().unwrap().with_timezone(&Utc)
    }

    #[test]
    fn times_are_local_with_the_zone_named_as_the_site_names_it() {
        let tz = chrono_tz::Asia::Jakarta;
        assert_eq!(
            showtime_label(at(tz, 24, 22, 0), at(tz, 25, 0, 49), tz),
            "Tuesday 24 November 2026, 22:00 – 00:49 (+1) WIB"
        );
        assert_eq!(start_label(at(tz, 24, 18, 0), tz), "Tuesday 24 November, 18:00 WIB");
        let dubai = chrono_tz::Asia::Dubai;
        assert_eq!(
            showtime_label(at(dubai, 24, 18, 0), at(dubai, 24, 20, 0), dubai),
            "Tuesday 24 November 2026, 18:00 – 20:00 Dubai time"
        );
        let utc = chrono_tz::Etc::GMTMinus7;
        assert_eq!(start_label(at(utc, 24, 18, 0), utc), "Tuesday 24 November, 18:00 UTC+07:00 time");
    }
}
