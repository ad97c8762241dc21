//! The site's feeds: `/sitemap.xml`, `/robots.txt` and `/api/schedule.json`. Site-wide files,
//! rendered every build (they have no input key).

use cinema::site_paths;

use super::super::{Renderer, feeds};

/// Which feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Sitemap,
    Robots,
    ScheduleJson,
}

pub fn path(feed: Feed) -> String {
    site_paths::file_of(match feed {
        Feed::Sitemap => site_paths::SITEMAP_URL,
        Feed::Robots => site_paths::ROBOTS_URL,
        Feed::ScheduleJson => site_paths::SCHEDULE_JSON_URL,
    })
}

pub fn render(r: &Renderer, feed: Feed) -> Vec<u8> {
    let settings = &r.catalog.settings;
    match feed {
        Feed::Sitemap => feeds::sitemap(settings, &r.films).into_bytes(),
        Feed::Robots => feeds::robots(settings).into_bytes(),
        Feed::ScheduleJson => feeds::schedule_json(settings, &r.films, r.showtimes),
    }
}
