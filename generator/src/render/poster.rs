//! Generated posters.
//!
//! No poster images exist and none may be hot-linked, so each film gets an SVG drawn from its
//! title, studio number, year and palette. The shapes are chosen from a hash of the slug: the
//! same film always gets the same poster, and no two films look alike.

use cinema::Film;

pub const WIDTH: u32 = 400;
pub const HEIGHT: u32 = 600;

use cinema::markup::escape as xml_escape;

/// Breaks a title into lines of at most `width` characters, on word boundaries.
fn wrap(title: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in title.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The poster of a film as an SVG document.
pub fn svg(film: &Film, cinema_name: &str) -> String {
    let [bg, accent] = &film.palette;
    let seed = blake3::hash(film.slug.as_bytes());
    let b = seed.as_bytes();
    let lines = wrap(&film.title, 12);
    // Bold system sans runs about 0.64 em a character; keep the longest line inside 336 px.
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1).max(1) as f64;
    let font_size = ((336.0 / (longest * 0.64)) as u32).clamp(20, 46).min(match lines.len() {
        1 | 2 => 46,
        3 => 40,
        4 => 34,
        _ => 28,
    });
    let mut shapes = String::new();
    // Concentric rings around a point picked by the hash: a "lens" for every film.
    let (cx, cy) = (60 + u32::from(b[0]) % 280, 120 + u32::from(b[1]) % 200);
    for i in 0..5u32 {
        let r = 40 + i * (18 + u32::from(b[2]) % 22);
        let opacity = 0.55 - f64::from(i) * 0.1;
        shapes.push_str(&format!(
            r#"<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="{accent}" stroke-width="{}" opacity="{opacity:.2}"/>"#,
            1 + i % 3
        ));
    }
    // A fan of light rays across the poster.
    for i in 0..(3 + u32::from(b[3]) % 5) {
        let x = (u32::from(b[4 + i as usize]) * 7) % WIDTH;
        shapes.push_str(&format!(
            r#"<line x1="{x}" y1="0" x2="{}" y2="{HEIGHT}" stroke="{accent}" stroke-width="1" opacity="0.18"/>"#,
            (x + 120 + u32::from(b[10]) % 160) % (WIDTH + 100)
        ));
    }
    let title_y = 420 - (lines.len() as u32).saturating_sub(1) * (font_size + 6);
    let title_lines: String = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            format!(r#"<tspan x="32" dy="{}">{}</tspan>"#, if i == 0 { 0 } else { font_size + 6 }, xml_escape(line))
        })
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">
<defs><linearGradient id="g" x1="0" y1="0" x2="0.4" y2="1"><stop offset="0" stop-color="{bg}"/><stop offset="1" stop-color="#05050a"/></linearGradient>
<radialGradient id="glow" cx="{gx:.2}" cy="{gy:.2}" r="0.6"><stop offset="0" stop-color="{accent}" stop-opacity="0.45"/><stop offset="1" stop-color="{accent}" stop-opacity="0"/></radialGradient></defs>
<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#g)"/><rect width="{WIDTH}" height="{HEIGHT}" fill="url(#glow)"/>
{shapes}
<text x="32" y="64" font-family="system-ui, sans-serif" font-size="18" letter-spacing="4" fill="{accent}">STUDIO {studio:02}</text>
<text x="368" y="64" text-anchor="end" font-family="system-ui, sans-serif" font-size="18" fill="#f4f1ea" opacity="0.8">{year}</text>
<text x="32" y="{title_y}" font-family="system-ui, sans-serif" font-weight="800" font-size="{font_size}" fill="#f4f1ea">{title_lines}</text>
<rect x="32" y="470" width="64" height="4" fill="{accent}"/>
<text x="32" y="540" font-family="system-ui, sans-serif" font-size="13" letter-spacing="2" fill="#f4f1ea" opacity="0.8">{cinema}</text>
<text x="32" y="562" font-family="system-ui, sans-serif" font-size="13" letter-spacing="2" fill="{accent}">NOW SHOWING, FOREVER</text>
</svg>
"##,
        label = xml_escape(&format!("Poster for {}", film.title)),
        gx = f64::from(cx) / f64::from(WIDTH),
        gy = f64::from(cy) / f64::from(HEIGHT),
        studio = film.studio,
        year = film.year(),
        cinema = xml_escape(&cinema_name.to_uppercase()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_wrap_on_words() {
        assert_eq!(wrap("The Lord of the Rings", 12), ["The Lord of", "the Rings"]);
        assert_eq!(wrap("Akira", 12), ["Akira"]);
    }

    #[test]
    fn text_is_escaped_in_the_svg() {
        assert_eq!(xml_escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
