//! The machine-readable files: `sitemap.xml`, `robots.txt` and `/api/schedule.json`.

use cinema::SiteSettings;
use serde::Serialize;

use super::views::{FilmView, ShowtimeView};

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The pages worth indexing: the index and the films. Booking pages live for hours at most,
/// and the manage page is private to a booker, so neither is listed.
pub fn sitemap(settings: &SiteSettings, films: &[FilmView]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    let urls = std::iter::once("/".to_string()).chain(films.iter().map(|f| f.url.clone()));
    for url in urls {
        out.push_str(&format!("  <url><loc>{}</loc></url>\n", xml_escape(&format!("{}{}", settings.base_url, url))));
    }
    out.push_str("</urlset>\n");
    out
}

pub fn robots(settings: &SiteSettings) -> String {
    format!("User-agent: *\nAllow: /\nDisallow: /booking/\n\nSitemap: {}/sitemap.xml\n", settings.base_url)
}

#[derive(Serialize)]
struct ScheduleFeed<'a> {
    cinema: &'a str,
    time_zone: &'a str,
    showtimes: Vec<FeedShowtime<'a>>,
}

#[derive(Serialize)]
struct FeedShowtime<'a> {
    id: &'a str,
    film: &'a str,
    title: &'a str,
    studio: u32,
    starts_at: &'a str,
    ends_at: &'a str,
    url: &'a str,
}

/// The live schedule for kiosks and apps. Seat availability is live data, so it comes from the
/// booking service (`/api/showtimes`), not from this file.
pub fn schedule_json(settings: &SiteSettings, films: &[FilmView], showtimes: &[ShowtimeView]) -> String {
    let titles: std::collections::HashMap<&str, &str> = films.iter().map(|f| (f.slug.as_str(), f.title.as_str())).collect();
    let title_of = |slug: &str| titles.get(slug).copied().unwrap_or_default();
    let feed = ScheduleFeed {
        cinema: &settings.name,
        time_zone: settings.time_zone.name(),
        showtimes: showtimes
            .iter()
            .map(|s| FeedShowtime {
                id: &s.id,
                film: &s.film_slug,
                title: title_of(&s.film_slug),
                studio: s.studio,
                starts_at: &s.starts_at,
                ends_at: &s.ends_at,
                url: &s.url,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&feed).expect("the schedule serialises");
    text.push('\n');
    text
}
