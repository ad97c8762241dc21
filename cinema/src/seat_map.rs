//! The auditorium seat map: `content/auditorium.txt`.
//!
//! The format is a picture of the room that a person can read and edit in any text editor: one
//! line per row, front (the screen) first. A line is the row's label, whitespace, then one
//! character per cell:
//!
//! ```text
//! # comments start with '#'
//! A  sssssssss.sssssssss     s = a seat, w = a wheelchair space, . = an aisle or gap
//! K                          a label alone is a walkway: a row without seats
//! L  ww.ssssss.ssssss.ww
//! ```
//!
//! Seats are numbered from 1, left to right, counting only seats (gaps take no number), so the
//! ids read as on a ticket: `A1` ... `A18`. Rows may be uneven and hold any number of aisles.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use crate::content_error::ContentError;
use crate::content_file::{Limit, read_text};

/// What a cell of the map holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeatKind {
    Seat,
    Wheelchair,
    Gap,
}

/// One cell of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub kind: SeatKind,
    /// `F7`; empty for a gap.
    pub id: String,
    /// The seat's number in its row; 0 for a gap.
    pub number: u32,
}

/// One row of the room. A walkway has no cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub label: String,
    pub walkway: bool,
    pub cells: Vec<Cell>,
}

/// The whole room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatMap {
    pub rows: Vec<Row>,
    pub seat_count: usize,
    pub wheelchair_count: usize,
    /// The widest row's cell count, for drawing a grid.
    pub columns: usize,
    #[serde(skip)]
    seat_ids: HashSet<String>,
}

impl SeatMap {
    /// Reads and checks a seat-map file: a regular file of at most [`Limit::TEXT`].
    pub fn load(path: &Path) -> Result<Self, ContentError> {
        let text = read_text(path, Limit::TEXT).map_err(|e| ContentError::new(path, e.to_string()))?;
        Self::parse(&text, path)
    }

    /// Parses seat-map text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ContentError> {
        let mut rows = Vec::new();
        let mut labels = HashSet::new();
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.trim_end();
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let label = parts.next().unwrap_or_default();
            let layout: String = parts.collect();
            let err = |m: String| ContentError::new(path, m).at_line(line_no);
            if !label.chars().all(|c| c.is_ascii_alphanumeric()) || label.len() > 3 {
                return Err(err(format!("row label {label:?} must be 1 to 3 letters or digits, such as \"A\"")));
            }
            if !labels.insert(label.to_string()) {
                return Err(err(format!("row {label} appears twice; every row label must be unique")));
            }
            rows.push(parse_row(label, &layout).map_err(err)?);
        }
        let seat_ids: HashSet<String> =
            rows.iter().flat_map(|r| &r.cells).filter(|c| c.kind != SeatKind::Gap).map(|c| c.id.clone()).collect();
        let seat_count = rows.iter().flat_map(|r| &r.cells).filter(|c| c.kind != SeatKind::Gap).count();
        if seat_ids.len() != seat_count {
            // Labels are unique and numbers grow within a row, so this only guards future edits.
            return Err(ContentError::new(path, "two seats share an id; check the row labels"));
        }
        if seat_count == 0 {
            return Err(ContentError::new(path, "the room has no seats; mark seats with 's' or 'w'"));
        }
        let wheelchair_count = rows.iter().flat_map(|r| &r.cells).filter(|c| c.kind == SeatKind::Wheelchair).count();
        let columns = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
        Ok(SeatMap { rows, seat_count, wheelchair_count, columns, seat_ids })
    }

    /// Whether `id` names a seat (or wheelchair space) of this room.
    pub fn contains(&self, id: &str) -> bool {
        self.seat_ids.contains(id)
    }

    /// Every seat id, front row first, left to right.
    pub fn seat_ids(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().flat_map(|r| &r.cells).filter(|c| c.kind != SeatKind::Gap).map(|c| c.id.as_str())
    }
}

fn parse_row(label: &str, layout: &str) -> Result<Row, String> {
    let mut cells = Vec::with_capacity(layout.len());
    let mut number = 0;
    for (column, ch) in layout.chars().enumerate() {
        let kind = match ch {
            's' => SeatKind::Seat,
            'w' => SeatKind::Wheelchair,
            '.' => SeatKind::Gap,
            other => {
                return Err(format!(
                    "column {}: unknown seat-map character {other:?}; expected 's' (seat), 'w' (wheelchair space) or '.' (aisle)",
                    label.len() + 2 + column
                ));
            }
        };
        let cell = if kind == SeatKind::Gap {
            Cell { kind, id: String::new(), number: 0 }
        } else {
            number += 1;
            Cell { kind, id: format!("{label}{number}"), number }
        };
        cells.push(cell);
    }
    Ok(Row { label: label.to_string(), walkway: cells.is_empty(), cells })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT_MAP: &str = include_str!("../../content/auditorium.txt");

    #[test]
    fn the_default_auditorium_has_216_unique_seats() {
        let map = SeatMap::parse(DEFAULT_MAP, Path::new("auditorium.txt")).unwrap();
        assert_eq!(map.seat_count, 216);
        assert_eq!(map.seat_ids().collect::<HashSet<_>>().len(), 216);
        let labels: Vec<_> = map.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M"]);
        let k = &map.rows[10];
        assert!(k.walkway && k.cells.is_empty());
        for row in map.rows.iter().filter(|r| !r.walkway) {
            let ids: Vec<_> = row.cells.iter().filter(|c| c.kind != SeatKind::Gap).map(|c| c.number).collect();
            assert_eq!(ids, (1..=18).collect::<Vec<_>>(), "row {}", row.label);
            assert_eq!(row.cells[9].kind, SeatKind::Gap, "row {} has its centre aisle after seat 9", row.label);
        }
        assert!(map.contains("A1") && map.contains("M18") && !map.contains("K1") && !map.contains("A19"));
        assert!(map.wheelchair_count > 0);
    }

    #[test]
    fn uneven_rows_and_several_aisles_are_numbered_by_seat() {
        let map = SeatMap::parse("A ss.s..ws\nB s\n", Path::new("m.txt")).unwrap();
        let a: Vec<_> = map.rows[0].cells.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(a, ["A1", "A2", "", "A3", "", "", "A4", "A5"]);
        assert_eq!(map.rows[0].cells[6].kind, SeatKind::Wheelchair);
        assert_eq!(map.seat_count, 6);
        assert_eq!(map.columns, 8);
    }

    #[test]
    fn an_unknown_character_names_line_and_column() {
        let err = SeatMap::parse("# room\nA sss\nB ss#s\n", Path::new("m.txt")).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("column 5") && err.message.contains("'#'"), "{err}");
        assert!(err.to_string().starts_with("m.txt:3: "), "{err}");
    }

    #[test]
    fn a_repeated_row_label_is_an_error() {
        let err = SeatMap::parse("A ss\nA ss\n", Path::new("m.txt")).unwrap_err();
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn a_room_without_seats_is_an_error() {
        assert!(SeatMap::parse("A ...\nK\n", Path::new("m.txt")).is_err());
    }
}
