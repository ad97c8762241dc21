//! The machine-readable files: the sitemap and its parts, `robots.txt`, and the schedule's
//! JSON (its table of contents, the film list's pages and one file per film).

use cinema::SiteSettings;
use serde::Serialize;

use cinema::Showtime;

use cinema::site_paths::{self, book_url};

use super::views::FilmView;

use cinema::markup::escape as xml_escape;

/// The sitemap's index: one `<sitemap>` per part ([`sitemap_part`]), so that no sitemap file
/// grows with the catalog (search engines take 50,000 URLs a file at most; a part holds far
/// fewer, and stays under 200 KB).
pub fn sitemap_index(settings: &SiteSettings, parts: usize) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for n in 1..=parts {
        let loc = format!("{}{}", settings.base_url, site_paths::sitemap_part_url(n));
        out.push_str(&format!("  <sitemap><loc>{}</loc></sitemap>\n", xml_escape(&loc)));
    }
    out.push_str("</sitemapindex>\n");
    out
}

/// One part of the sitemap: the pages worth indexing it lists (the index's pages and the
/// films', see [`super::kinds::sitemap`]). Booking pages live for hours at most, and the manage
/// page is private to a booker, so neither is listed.
pub fn sitemap_part(settings: &SiteSettings, urls: impl Iterator<Item = String>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
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

/// `/api/schedule.json`: the schedule's table of contents for kiosks and apps, small whatever
/// the catalog. The showtimes are in one file per film ([`film_schedule_json`]), the films in
/// pages ([`films_json`]): at 10,000 films one file of every showtime was 37 MB. Seat
/// availability is live data, so it comes from the booking service (`/api/showtimes`).
pub fn schedule_index(settings: &SiteSettings, films: usize, film_pages: usize) -> Vec<u8> {
    let pages: Vec<String> = (1..=film_pages).map(site_paths::films_json_url).collect();
    let index = serde_json::json!({
        "cinema": settings.name,
        "time_zone": settings.time_zone.name(),
        "films": films,
        "film_pages": pages,
        "film_schedule": site_paths::FILM_SCHEDULE_JSON.pattern,
    });
    let mut out = serde_json::to_vec(&index).expect("JSON values serialise");
    out.push(b'\n');
    out
}

#[derive(Serialize)]
struct FeedFilm<'a> {
    slug: &'a str,
    title: &'a str,
    studio: u32,
    url: &'a str,
    schedule_url: String,
}

/// One page of the film list: each film's slug, title, studio, page and schedule file.
pub fn films_json(number: usize, pages: usize, films: &[FilmView]) -> Vec<u8> {
    let films: Vec<FeedFilm> = films
        .iter()
        .map(|f| FeedFilm {
            slug: &f.slug,
            title: &f.title,
            studio: f.studio,
            url: &f.url,
            schedule_url: site_paths::film_schedule_json_url(&f.slug),
        })
        .collect();
    let next = (number < pages).then(|| site_paths::films_json_url(number + 1));
    let page = serde_json::json!({ "page": number, "pages": pages, "next": next, "films": films });
    let mut out = serde_json::to_vec(&page).expect("JSON values serialise");
    out.push(b'\n');
    out
}

/// `/api/films/<slug>/schedule.json`: one film's live showtimes, in start order. At most a
/// horizon of one studio's slots, so a few kilobytes whatever the catalog.
pub fn film_schedule_json<'a>(
    settings: &SiteSettings,
    film: &FilmView,
    showtimes: impl Iterator<Item = &'a Showtime>,
) -> Vec<u8> {
    let tz = settings.time_zone;
    let showtimes: Vec<FeedShowtime> = showtimes
        .map(|s| FeedShowtime {
            id: s.id.as_str(),
            film: &s.film_slug,
            title: &film.title,
            studio: s.studio,
            starts_at: s.starts_at.with_timezone(&tz).to_rfc3339(),
            ends_at: s.ends_at.with_timezone(&tz).to_rfc3339(),
            url: book_url(s.id.as_str()),
        })
        .collect();
    let feed = serde_json::json!({
        "cinema": settings.name,
        "time_zone": tz.name(),
        "film": { "slug": film.slug, "title": film.title, "studio": film.studio, "url": film.url },
        "showtimes": showtimes,
    });
    let mut out = serde_json::to_vec(&feed).expect("JSON values serialise");
    out.push(b'\n');
    out
}
