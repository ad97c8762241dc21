//! A showtime's date and times as a message says them, in the words of the site's pages
//! ([`cinema::times`]): "Thursday 10 January 2030, 22:00 – 00:49 (+1) WIB".

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cinema::times::TimeRange;

/// "Thursday 10 January 2030, 10:00 – 12:08 WIB".
pub fn showtime_label(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, tz: Tz) -> String {
    let range = TimeRange::new(starts_at, ends_at, tz);
    format!("{}, {}", starts_at.with_timezone(&tz).format("%A %-d %B %Y"), range.text)
}

/// "Thursday 10 January, 10:00 WIB": a subject line's short form.
pub fn start_label(starts_at: DateTime<Utc>, tz: Tz) -> String {
    let range = TimeRange::new(starts_at, starts_at, tz);
    format!("{}, {}", starts_at.with_timezone(&tz).format("%A %-d %B"), range.starts_label)
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
