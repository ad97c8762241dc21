//! `/api/schedule.json`: every live showtime, for the pages' scripts. Site-wide, so rendered
//! every build (no input key).

use cinema::site_paths::{self, UrlPattern};

use super::super::feeds;
use super::{PageKind, Site};
use crate::error::BuildError;

pub struct ScheduleJson;

impl PageKind for ScheduleJson {
    fn pattern(&self) -> &'static UrlPattern {
        &site_paths::SCHEDULE_JSON
    }

    fn count(&self, _site: &Site) -> usize {
        1
    }

    fn url(&self, _site: &Site, _item: usize) -> String {
        site_paths::SCHEDULE_JSON_URL.to_string()
    }

    fn render(&self, site: &Site, _item: usize) -> Result<Vec<u8>, BuildError> {
        Ok(feeds::schedule_json(site.settings(), site.films(), site.showtimes()))
    }
}
