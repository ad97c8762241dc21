//! `tiketa-gen synth-content`: a synthetic catalog of N films, for benchmarks.
//!
//! It copies the real settings and seat map and writes N films with the real films' shape (a
//! few paragraphs of lore, three genres), so a build of it costs what a real catalog of that
//! size would.

use std::path::Path;

use anyhow::Context;

const GENRES: [&str; 8] =
    ["Drama", "Science Fiction", "Animation", "Action", "Romance", "Thriller", "Comedy", "Adventure"];

/// Writes `films` synthetic films into `out` (a new content folder), copying `from`'s settings
/// and seat map.
pub fn write(from: &Path, out: &Path, films: u32) -> anyhow::Result<()> {
    let films_dir = out.join("films");
    if films_dir.exists() {
        std::fs::remove_dir_all(&films_dir).with_context(|| format!("cannot clear {}", films_dir.display()))?;
    }
    std::fs::create_dir_all(&films_dir).with_context(|| format!("cannot create {}", films_dir.display()))?;
    for file in [cinema::catalog::SETTINGS_FILE, cinema::catalog::SEAT_MAP_FILE] {
        std::fs::copy(from.join(file), out.join(file))
            .with_context(|| format!("cannot copy {file} from {}", from.display()))?;
    }
    let lore = "A synthetic film for measuring the build. It has the shape of a real one: a few paragraphs \
                of lore, a poster, a schedule.\n\nThe second paragraph says why it belongs in the canon, at \
                about the length the real films use, so that rendering costs what it would.\n\nThe third \
                paragraph is about seeing it in its studio, and then the page ends.\n";
    for i in 1..=films {
        let runtime = 90 + (i * 7) % 70;
        let text = format!(
            "+++\nstudio = {i}\ntitle = \"Synthetic Film {i}\"\nrelease_date = \"{}-0{}-1{}\"\nruntime_min = {runtime}\n\
             directors = [\"Director {}\"]\ngenres = [\"{}\", \"{}\", \"{}\"]\ntrailer_youtube_id = \"aaaaaaaaa{:02}\"\n\
             tagline = \"Synthetic film number {i}, screening forever.\"\n+++\n\n{lore}",
            1950 + i % 75,
            1 + i % 9,
            i % 10,
            i % 97,
            GENRES[(i % 8) as usize],
            GENRES[((i + 3) % 8) as usize],
            GENRES[((i + 5) % 8) as usize],
            i % 100,
        );
        std::fs::write(films_dir.join(format!("synthetic-film-{i}.md")), text)?;
    }
    Ok(())
}
