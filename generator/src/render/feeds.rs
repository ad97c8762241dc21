//! The machine-readable files: `sitemap.xml`, `robots.txt` and `/api/schedule.json`.

use cinema::SiteSettings;
use serde::Serialize;

use std::collections::HashMap;

use cinema::Showtime;

use cinema::site_paths::{self, book_url};

use super::views::FilmView;

use cinema::markup::escape as xml_escape;

/// The pages worth indexing: the index and the films. Booking pages live for hours at most,
/// and the manage page is private to a booker, so neither is listed.
pub fn sitemap(settings: &SiteSettings, films: &[FilmView]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let urls = std::iter::once(site_paths::INDEX_URL.to_string()).chain(films.iter().map(|f| f.url.clone()));
    for url in urls {
        out.push_str(&format!("  <url><loc>{}</loc></url>\n", xml_escape(&format!("{}{}", settings.base_url, url))));
    }
    out.push_str("</urlset>\n");
    out
}

pub fn robots(settings: &SiteSettings) -> String {
    format!(
        "User-agent: *\nAllow: /\nDisallow: {}\n\nSitemap: {}{}\n",
        site_paths::BOOKING_URL,
        settings.base_url,
        site_paths::SITEMAP_URL
    )
}

#[derive(Serialize)]
struct FeedShowtime<'a> {
    id: &'a str,
    film: &'a str,
    title: &'a str,
    studio: u32,
    starts_at: String,
    ends_at: String,
    url: String,
}

/// The live schedule for kiosks and apps. Seat availability is live data, so it comes from the
/// booking service (`/api/showtimes`), not from this file. Written item by item: at 10,000
/// films the schedule has 150,000 showtimes, and a full tree of them would dwarf the file.
pub fn schedule_json(settings: &SiteSettings, films: &[FilmView], showtimes: &[Showtime]) -> Vec<u8> {
    let titles: HashMap<&str, &str> = films.iter().map(|f| (f.slug.as_str(), f.title.as_str())).collect();
    let tz = settings.time_zone;
    // Over-reserve: untouched capacity costs no resident memory, and one growth would double it.
    let mut out = Vec::with_capacity(256 + showtimes.len() * 320);
    let header = serde_json::json!({"cinema": settings.name, "time_zone": tz.name()}).to_string();
    out.extend_from_slice(&header.as_bytes()[..header.len() - 1]);
    out.extend_from_slice(b",\"showtimes\":[\n");
    for (i, s) in showtimes.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        let item = FeedShowtime {
            id: s.id.as_str(),
            film: &s.film_slug,
            title: titles.get(s.film_slug.as_str()).copied().unwrap_or_default(),
            studio: s.studio,
            starts_at: s.starts_at.with_timezone(&tz).to_rfc3339(),
            ends_at: s.ends_at.with_timezone(&tz).to_rfc3339(),
            url: book_url(s.id.as_str()),
        };
        serde_json::to_writer(&mut out, &item).expect("writing to a Vec cannot fail");
    }
    out.extend_from_slice(b"\n]}\n");
    out
}
