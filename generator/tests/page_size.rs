//! No file of the site grows with the catalog past 200 KB (issue 13): a visitor, a crawler or a
//! CDN never fetches a page, a feed or a JSON file that is as big as the catalog.
//!
//! A catalog large enough that any file listing every film or every showtime passes the limit is
//! built, and every file of the output is checked against it: pages, JSON, the sitemap, the
//! posters, the assets and their `.gz`/`.br` variants, nothing left out. Growth itself is not
//! measured here (`bench/site-weight.py` reports the largest files at 10,000 films); this test
//! makes sure that what grows with the catalog has been split before the catalog is large.

mod common;

use common::{NOW, Workspace};

/// The limit the issue sets for any page or API reply.
const LIMIT_BYTES: u64 = 200 * 1024;

/// Films in the synthetic catalog. At efd89f0 (the index and `api/schedule.json` holding every
/// film and every showtime) this catalog made the index about 1.2 KB a film (~297 KB here) and
/// the schedule about 1.1 KB a film for a one-day horizon (~255 KB here): both past the limit
/// with a margin, at a modest cost for a debug build. The sitemap, about 70 bytes a film, passes
/// it only near 2,900 films, which this test cannot afford; the benchmark's 10,000 films cover it.
const FILMS: u32 = 240;

#[test]
fn no_file_of_a_large_catalog_is_over_200_kb() {
    let ws = Workspace::synthetic(FILMS);
    // One day of showtimes instead of three: a third of the booking pages to render, and still
    // one showtime per film and slot in whatever lists the day's showtimes.
    let settings = ws.path("content/site.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(text.contains("\nhorizon_days = 3\n"), "site.toml's horizon changed: update this test");
    std::fs::write(&settings, text.replace("\nhorizon_days = 3\n", "\nhorizon_days = 1\n")).unwrap();
    ws.run_ok("roll", NOW);

    let out = ws.out();
    let mut files = 0;
    let mut over: Vec<(u64, String)> = Vec::new();
    for entry in walkdir::WalkDir::new(&out).follow_root_links(true) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        files += 1;
        let size = entry.metadata().unwrap().len();
        if size > LIMIT_BYTES {
            over.push((size, entry.path().strip_prefix(&out).unwrap().display().to_string()));
        }
    }
    assert!(files > FILMS as usize * 3, "only {files} files under {}: was the site built?", out.display());
    over.sort_unstable_by(|a, b| b.cmp(a));
    let list: Vec<String> = over.iter().map(|(size, path)| format!("  {path}: {size} bytes")).collect();
    assert!(
        over.is_empty(),
        "{} of {files} files of a {FILMS}-film site are over {LIMIT_BYTES} bytes; whatever lists every \
         film or showtime has to be split into pages of a fixed size:\n{}",
        over.len(),
        list.join("\n")
    );
}
