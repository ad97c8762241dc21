//! A catalog too big for one page: the index in numbered pages, the sitemap in parts and the
//! schedule in files per film, each linked from the others (issue 13: no file grows with the
//! catalog). The real binary on a synthetic catalog of 60 films: 24 studios a page, so three
//! pages, the last one half full.

mod common;

use std::collections::BTreeSet;

use common::{NOW, Workspace, attribute_values};

const FILMS: usize = 60;

/// The `<a>` tags of a page's `<nav aria-label="Pages">`, each as its text and attributes.
fn page_links(html: &str) -> Vec<String> {
    let Some(start) = html.find("<nav class=\"pagination\" aria-label=\"Pages\">") else { return Vec::new() };
    let nav = &html[start..start + html[start..].find("</nav>").unwrap()];
    nav.split("<a ").skip(1).map(|a| a[..a.find("</a>").unwrap()].to_string()).collect()
}

fn film_links(html: &str) -> Vec<String> {
    let studios = &html[html.find("id=\"studios\"").unwrap()..];
    attribute_values(studios, "href").into_iter().filter(|h| h.starts_with("/films/")).collect()
}

#[test]
fn the_index_is_in_pages_a_crawler_and_a_keyboard_can_follow() {
    let ws = Workspace::synthetic(FILMS as u32);
    ws.run_ok("roll", NOW);
    let pages = ["index.html", "page/2/index.html", "page/3/index.html"].map(|f| ws.read(f));
    assert!(!ws.out().join("page/4").exists(), "no empty page after the last");
    assert!(!ws.out().join("page/1").exists(), "page 1 is the home page");

    // Every film once, in catalog order, 24 a page.
    let per_page: Vec<Vec<String>> = pages.iter().map(|p| film_links(p)).collect();
    assert_eq!(per_page.iter().map(Vec::len).collect::<Vec<_>>(), [24, 24, 12]);
    let all: Vec<&String> = per_page.iter().flatten().collect();
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), FILMS, "each film on one page only");

    // The numbered links, the current page marked, and the steps to the neighbours.
    assert_eq!(
        page_links(&pages[0]),
        [
            "href=\"/#studios\" aria-current=\"page\" aria-label=\"Page 1\">1",
            "href=\"/page/2/#studios\" aria-label=\"Page 2\">2",
            "href=\"/page/3/#studios\" aria-label=\"Page 3\">3",
            "class=\"pagination__step\" href=\"/page/2/#studios\" rel=\"next\">Next page",
        ]
    );
    assert_eq!(
        page_links(&pages[1]),
        [
            "class=\"pagination__step\" href=\"/#studios\" rel=\"prev\">Previous page",
            "href=\"/#studios\" aria-label=\"Page 1\">1",
            "href=\"/page/2/#studios\" aria-current=\"page\" aria-label=\"Page 2\">2",
            "href=\"/page/3/#studios\" aria-label=\"Page 3\">3",
            "class=\"pagination__step\" href=\"/page/3/#studios\" rel=\"next\">Next page",
        ]
    );
    let last = page_links(&pages[2]);
    assert!(last.last().unwrap().contains("aria-current=\"page\" aria-label=\"Page 3\""), "{last:?}");
    assert!(!last.iter().any(|l| l.contains("rel=\"next\"")), "no next after the last page");

    // The head names the neighbours too, and each page is its own canonical URL.
    let head = |html: &str| html[..html.find("</head>").unwrap()].to_string();
    assert!(head(&pages[0]).contains("<link rel=\"next\" href=\"/page/2/\">"));
    assert!(!head(&pages[0]).contains("rel=\"prev\""));
    assert!(head(&pages[1]).contains("<link rel=\"prev\" href=\"/\">"));
    assert!(head(&pages[1]).contains("<link rel=\"next\" href=\"/page/3/\">"));
    assert!(head(&pages[2]).contains("<link rel=\"prev\" href=\"/page/2/\">"));
    assert!(!head(&pages[2]).contains("rel=\"next\""));
    assert!(head(&pages[1]).contains("<link rel=\"canonical\" href=\"http://127.0.0.1:8080/page/2/\">"));
    assert!(head(&pages[1]).contains("<title>The studios, page 2 of 3 · "));
    let hero = "<section class=\"hero\"";
    assert!(pages[0].contains(hero) && !pages[1].contains(hero), "the hero opens page 1");
    assert!(pages[0].contains(&format!("{FILMS} studios")), "the first page counts every studio");
}

#[test]
fn twenty_one_films_are_one_page_without_page_links() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let index = ws.read("index.html");
    assert_eq!(film_links(&index).len(), 21);
    assert!(page_links(&index).is_empty() && !index.contains("aria-label=\"Pages\""));
    assert!(!index.contains("rel=\"next\"") && !index.contains("rel=\"prev\""));
    assert!(!ws.out().join("page").exists());
}

#[test]
fn the_sitemap_names_its_parts_and_the_schedule_is_a_file_per_film() {
    let ws = Workspace::synthetic(FILMS as u32);
    ws.run_ok("roll", NOW);
    let base = "http://127.0.0.1:8080";
    let index = ws.read("sitemap.xml");
    assert!(index.contains("<sitemapindex "), "{index}");
    let parts: Vec<&str> = index.split("<loc>").skip(1).map(|s| &s[..s.find("</loc>").unwrap()]).collect();
    assert_eq!(parts, [format!("{base}/sitemaps/1.xml")]);
    let part = ws.read("sitemaps/1.xml");
    let listed: Vec<&str> = part.split("<loc>").skip(1).map(|s| &s[..s.find("</loc>").unwrap()]).collect();
    assert_eq!(listed.len(), 3 + FILMS, "the index's pages and the films'");
    assert_eq!(&listed[..3], [format!("{base}/"), format!("{base}/page/2/"), format!("{base}/page/3/")]);
    assert!(ws.read("robots.txt").contains(&format!("Sitemap: {base}/sitemap.xml")));

    let json =
        |file: &str| -> serde_json::Value { serde_json::from_str(&ws.read(file.trim_start_matches('/'))).unwrap() };
    let contents = json("api/schedule.json");
    assert_eq!(contents["films"], FILMS);
    let films = json(contents["film_pages"][0].as_str().unwrap());
    assert_eq!(films["films"].as_array().unwrap().len(), FILMS);
    let live = std::fs::read_dir(ws.out().join("book")).unwrap().count();
    let mut showtimes = BTreeSet::new();
    for film in films["films"].as_array().unwrap() {
        let schedule = json(film["schedule_url"].as_str().unwrap());
        for s in schedule["showtimes"].as_array().unwrap() {
            assert!(showtimes.insert(s["id"].as_str().unwrap().to_string()), "each showtime in one file");
        }
    }
    assert_eq!(showtimes.len(), live, "every live showtime (a booking page each) is in its film's file");
    let size = std::fs::metadata(ws.out().join("api/schedule.json")).unwrap().len();
    assert!(size < 1024, "the table of contents stays small: {size} bytes");
}
