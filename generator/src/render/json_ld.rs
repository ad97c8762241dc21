//! schema.org JSON-LD for film pages (`Movie`) and booking pages (`ScreeningEvent`).

use cinema::SiteSettings;
use serde_json::{Value, json};

use super::views::{FilmView, ShowtimeView};

/// JSON made safe to sit inside `<script type="application/ld+json">`: a title holding
/// `</script>` must not end the script element, so `<`, `>` and `&` become `\u` escapes.
pub fn to_script_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// The whole `Movie`, for the film's own page: its [`movie_reference`] and every detail.
fn movie(settings: &SiteSettings, film: &FilmView) -> Value {
    let mut movie = movie_reference(settings, film);
    movie["datePublished"] = json!(film.release_date);
    movie["duration"] = json!(format!("PT{}M", film.runtime_min));
    movie["genre"] = json!(film.genres);
    movie["director"] = film.directors.iter().map(|d| json!({"@type": "Person", "name": d})).collect();
    movie["description"] = json!(film.tagline);
    movie["trailer"] = json!({
        "@type": "VideoObject",
        "name": format!("{} trailer", film.title),
        "embedUrl": format!("https://www.youtube-nocookie.com/embed/{}", film.trailer_youtube_id),
        "thumbnailUrl": format!("{}{}", settings.base_url, film.poster_url),
    });
    movie
}

pub fn film_page(settings: &SiteSettings, film: &FilmView) -> String {
    let mut value = movie(settings, film);
    value["@context"] = json!("https://schema.org");
    to_script_json(&value)
}

/// The film a screening presents, named and linked, not repeated: its page (`url`) carries the
/// whole `Movie`. A booking page exists per showtime, so the film's details here would be copied
/// into every one of them (a tenth of the page; see the README's booking page section).
fn movie_reference(settings: &SiteSettings, film: &FilmView) -> Value {
    json!({
        "@type": "Movie",
        "name": film.title,
        "url": format!("{}{}", settings.base_url, film.url),
        "image": format!("{}{}", settings.base_url, film.poster_url),
    })
}

pub fn booking_page(settings: &SiteSettings, film: &FilmView, showtime: &ShowtimeView) -> String {
    to_script_json(&json!({
        "@context": "https://schema.org",
        "@type": "ScreeningEvent",
        "name": format!("{} in Studio {}", film.title, film.studio),
        "url": format!("{}{}", settings.base_url, showtime.url),
        "startDate": showtime.starts_at,
        "endDate": showtime.ends_at,
        "eventStatus": "https://schema.org/EventScheduled",
        "location": {
            "@type": "MovieTheater",
            "name": settings.name,
            "url": settings.base_url,
        },
        "workPresented": movie_reference(settings, film),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_closing_tags_cannot_escape_the_script_element() {
        let out = to_script_json(&json!({"name": "</script><script>alert(1)</script>"}));
        assert!(!out.contains('<') && !out.contains('>'), "{out}");
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["name"], "</script><script>alert(1)</script>");
    }
}
