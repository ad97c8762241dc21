//! Splitting a list that grows with the catalog into numbered pages of a fixed size, so that
//! no page (the index, a sitemap, a film list) grows past a few hundred kilobytes at 10,000
//! films, and the links between pages: the window of numbered links a visitor and a crawler
//! follow.

use serde::Serialize;

/// How many pages `items` things fill at `per_page` a page: at least one (an empty list is one
/// empty page, as a site with no films has one index), never an empty page after the first.
pub fn page_count(items: usize, per_page: usize) -> usize {
    items.div_ceil(per_page).max(1)
}

/// The range of item numbers on page `number` (from 1).
pub fn items_of(number: usize, items: usize, per_page: usize) -> std::ops::Range<usize> {
    let start = ((number - 1) * per_page).min(items);
    start..(start + per_page).min(items)
}

/// How many numbered links stand on each side of the current page in [`Pagination::links`].
const AROUND: usize = 2;

/// Page `number` of `count` as templates see it: the neighbours' URLs and a compact window of
/// numbered links (first, last, and [`AROUND`] on each side of the current page, a gap between).
#[derive(Debug, Serialize)]
pub struct Pagination {
    pub number: usize,
    pub count: usize,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub links: Vec<PageLink>,
}

/// One entry of the window: a page's link, or a gap (`number` and `url` `None`) standing for
/// the pages left out.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct PageLink {
    pub number: Option<usize>,
    pub url: Option<String>,
    pub current: bool,
}

impl Pagination {
    /// Page `number` (from 1) of `count`, its pages' URLs given by `url_of`.
    pub fn new(number: usize, count: usize, url_of: impl Fn(usize) -> String) -> Self {
        let mut links = Vec::new();
        let mut last_shown = 0;
        for n in 1..=count {
            let shown = n == 1 || n == count || n.abs_diff(number) <= AROUND;
            if !shown {
                continue;
            }
            if n > last_shown + 1 {
                links.push(PageLink { number: None, url: None, current: false });
            }
            links.push(PageLink { number: Some(n), url: Some(url_of(n)), current: n == number });
            last_shown = n;
        }
        Pagination {
            number,
            count,
            prev_url: (number > 1).then(|| url_of(number - 1)),
            next_url: (number < count).then(|| url_of(number + 1)),
            links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_every_item_once_and_none_is_empty() {
        assert_eq!(page_count(0, 24), 1);
        assert_eq!(page_count(21, 24), 1);
        assert_eq!(page_count(24, 24), 1);
        assert_eq!(page_count(25, 24), 2);
        assert_eq!(page_count(10_000, 24), 417);
        for items in [0, 1, 23, 24, 25, 48, 49, 60] {
            let count = page_count(items, 24);
            let all: Vec<usize> = (1..=count).flat_map(|n| items_of(n, items, 24)).collect();
            assert_eq!(all, (0..items).collect::<Vec<_>>(), "{items}");
            assert!(count == 1 || !items_of(count, items, 24).is_empty(), "{items}: no empty last page");
        }
    }

    fn window(number: usize, count: usize) -> String {
        let p = Pagination::new(number, count, |n| format!("/p{n}"));
        p.links
            .iter()
            .map(|l| match (l.number, l.current) {
                (None, _) => "…".to_string(),
                (Some(n), true) => format!("[{n}]"),
                (Some(n), false) => n.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_window_shows_the_ends_and_the_neighbours_with_gaps_between() {
        assert_eq!(window(1, 1), "[1]");
        assert_eq!(window(1, 3), "[1] 2 3");
        assert_eq!(window(1, 417), "[1] 2 3 … 417");
        assert_eq!(window(200, 417), "1 … 198 199 [200] 201 202 … 417");
        assert_eq!(window(417, 417), "1 … 415 416 [417]");
        assert_eq!(window(4, 417), "1 2 3 [4] 5 6 … 417");
        assert_eq!(window(5, 9), "1 … 3 4 [5] 6 7 … 9");
    }

    #[test]
    fn neighbours_are_linked_except_past_the_ends() {
        let first = Pagination::new(1, 3, |n| format!("/p{n}"));
        assert_eq!((first.prev_url, first.next_url.as_deref()), (None, Some("/p2")));
        let last = Pagination::new(3, 3, |n| format!("/p{n}"));
        assert_eq!((last.prev_url.as_deref(), last.next_url), (Some("/p2"), None));
        let only = Pagination::new(1, 1, |n| format!("/p{n}"));
        assert_eq!((only.prev_url, only.next_url), (None, None));
    }
}
