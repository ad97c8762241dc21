//! Site settings: `content/site.toml`.
//!
//! Every field has a default that works out of the box, so a new cinema needs only a name.
//! Unknown fields are errors: a typo such as `horizon_day` must not silently fall back to the
//! default.

use std::path::Path;

use chrono::NaiveTime;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::content_error::{ContentError, from_toml};
use crate::content_file::{Limit, read_text};
use crate::site_url;

/// The cinema's settings, as an operator writes them in `content/site.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteSettings {
    /// The cinema's name, shown in every page header.
    pub name: String,
    /// One line under the name.
    pub tagline: String,
    /// Where the site is served, without a trailing slash (`https://tiketa.example`): used for
    /// canonical links, the sitemap and JSON-LD.
    pub base_url: String,
    /// Where the booking service answers, without a trailing slash. Empty means the same origin
    /// as the site, which is how `make run` serves both.
    pub booking_api_url: String,
    /// The cinema's time zone (IANA name). Days, slots and the horizon are in this zone.
    pub time_zone: Tz,
    /// How many days the schedule covers: today and the days after it.
    pub horizon_days: u32,
    /// Minutes between the end of one screening and the next start in the same studio.
    pub cleaning_minutes: u32,
    /// How long a seat chosen in the seat picker stays held for the visitor, in minutes
    /// (fractions allowed: `0.05` is three seconds, for tests). From 0.05 to 60.
    pub hold_minutes: f64,
    /// The daily slot rules by studio parity.
    pub slots: SlotRules,
}

/// Daily start times for even- and odd-numbered studios. A film may override its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlotRules {
    #[serde(with = "hhmm")]
    pub even: Vec<NaiveTime>,
    #[serde(with = "hhmm")]
    pub odd: Vec<NaiveTime>,
}

/// Start times are written `"HH:MM"` in content files, as people write them.
pub mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn parse(text: &str) -> Result<NaiveTime, String> {
        NaiveTime::parse_from_str(text, "%H:%M")
            .map_err(|_| format!("{text:?} is not a start time; expected \"HH:MM\" such as \"18:00\""))
    }

    pub fn serialize<S: Serializer>(times: &[NaiveTime], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(times.iter().map(|t| t.format("%H:%M").to_string()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NaiveTime>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|t| parse(t).map_err(D::Error::custom)).collect()
    }

    /// The same, for an optional list (a film's own slots).
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(times: &Option<Vec<NaiveTime>>, s: S) -> Result<S::Ok, S::Error> {
            match times {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<NaiveTime>>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

fn times(list: &[&str]) -> Vec<NaiveTime> {
    list.iter().map(|t| NaiveTime::parse_from_str(t, "%H:%M").expect("valid default slot")).collect()
}

impl Default for SlotRules {
    fn default() -> Self {
        SlotRules {
            even: times(&["06:00", "09:00", "12:00", "15:00", "18:00", "21:00"]),
            odd: times(&["06:00", "10:00", "14:00", "18:00", "22:00"]),
        }
    }
}

impl Default for SiteSettings {
    fn default() -> Self {
        SiteSettings {
            name: "The Time Gallery".into(),
            tagline: "Now Showing, Forever".into(),
            base_url: "http://127.0.0.1:8080".into(),
            booking_api_url: String::new(),
            time_zone: chrono_tz::Asia::Jakarta,
            horizon_days: 3,
            cleaning_minutes: 15,
            hold_minutes: 10.0,
            slots: SlotRules::default(),
        }
    }
}

impl SlotRules {
    /// The default slots of a studio: even studios take `even`, odd ones `odd`.
    pub fn for_studio(&self, studio: u32) -> &[NaiveTime] {
        if studio.is_multiple_of(2) { &self.even } else { &self.odd }
    }
}

impl SiteSettings {
    /// How long a seat hold lasts.
    pub fn hold_duration(&self) -> chrono::Duration {
        chrono::Duration::milliseconds((self.hold_minutes * 60_000.0).round() as i64)
    }

    /// Reads and checks `site.toml`: a regular file of at most [`Limit::TEXT`].
    pub fn load(path: &Path) -> Result<Self, ContentError> {
        let text = read_text(path, Limit::TEXT).map_err(|e| ContentError::new(path, e.to_string()))?;
        Self::parse(&text, path)
    }

    /// Parses settings text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ContentError> {
        let mut settings: SiteSettings = toml::from_str(text).map_err(|e| from_toml(&e, text, path, 1))?;
        settings.base_url = settings.base_url.trim_end_matches('/').to_string();
        settings.booking_api_url = settings.booking_api_url.trim_end_matches('/').to_string();
        settings.check(path)?;
        Ok(settings)
    }

    fn check(&self, path: &Path) -> Result<(), ContentError> {
        if self.name.trim().is_empty() {
            return Err(ContentError::new(path, "must not be empty; the cinema needs a name").field("name"));
        }
        if !(1..=31).contains(&self.horizon_days) {
            return Err(ContentError::new(
                path,
                format!("is {}; expected a number of days from 1 to 31", self.horizon_days),
            )
            .field("horizon_days"));
        }
        if !(0.05..=60.0).contains(&self.hold_minutes) {
            return Err(ContentError::new(
                path,
                format!("is {}; expected minutes from 0.05 to 60, such as 10", self.hold_minutes),
            )
            .field("hold_minutes"));
        }
        site_url::check(&self.base_url).map_err(|m| ContentError::new(path, m).field("base_url"))?;
        if !self.booking_api_url.is_empty() {
            site_url::check(&self.booking_api_url).map_err(|m| ContentError::new(path, m).field("booking_api_url"))?;
        }
        for (field, slots) in [("slots.even", &self.slots.even), ("slots.odd", &self.slots.odd)] {
            check_slots(slots).map_err(|m| ContentError::new(path, m).field(field))?;
        }
        Ok(())
    }
}

/// Slots must be non-empty, strictly increasing and on whole minutes.
pub fn check_slots(slots: &[NaiveTime]) -> Result<(), String> {
    if slots.is_empty() {
        return Err("is empty; expected at least one start time such as \"18:00\"".into());
    }
    if slots.windows(2).any(|w| w[0] >= w[1]) {
        return Err("must list start times in increasing order without repeats".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_documented_defaults() {
        let s = SiteSettings::parse("", Path::new("site.toml")).unwrap();
        assert_eq!(s.time_zone, chrono_tz::Asia::Jakarta);
        assert_eq!(s.horizon_days, 3);
        assert_eq!(s.cleaning_minutes, 15);
        assert_eq!(s.slots.for_studio(2).len(), 6);
        assert_eq!(s.slots.for_studio(7).len(), 5);
        assert_eq!(s.booking_api_url, "");
    }

    #[test]
    fn a_misspelt_field_is_an_error_with_its_line() {
        let err = SiteSettings::parse("name = \"X\"\nhorizon_day = 4\n", Path::new("site.toml")).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("horizon_day"), "{err}");
    }

    #[test]
    fn an_unknown_time_zone_is_an_error() {
        let err = SiteSettings::parse("time_zone = \"Mars/Olympus\"\n", Path::new("site.toml")).unwrap_err();
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn site_urls_must_be_absolute_http_urls_without_query_or_fragment() {
        let s = SiteSettings::parse("booking_api_url = \"https://api.example/v1/\"\n", Path::new("site.toml")).unwrap();
        assert_eq!(s.booking_api_url, "https://api.example/v1");
        for (text, field) in [
            ("base_url = \"tiketa.example\"", "base_url"),
            ("base_url = \"https://tiketa.example/?x=1\"", "base_url"),
            ("booking_api_url = \"https://api.example; script-src *\"", "booking_api_url"),
            ("booking_api_url = \"/api\"", "booking_api_url"),
        ] {
            let err = SiteSettings::parse(text, Path::new("site.toml")).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field), "{text}: {err}");
        }
    }

    #[test]
    fn unordered_slots_are_an_error() {
        let err = SiteSettings::parse("[slots]\neven = [\"09:00\", \"06:00\"]\n", Path::new("site.toml")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("slots.even"));
    }
}
