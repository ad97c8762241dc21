//! What a subcommand prints, in the three forms an operator asks for: aligned text for people
//! (`comfy-table`), CSV for a spreadsheet (`csv`) and JSON for scripts.
//!
//! A subcommand builds one [`Report`] and never formats itself, so the three forms always say
//! the same thing: the table's cells are the text and the CSV, and the JSON is built beside
//! them from the same records (with typed values: numbers, arrays, nulls).

use std::io::Write;

use comfy_table::{CellAlignment, ContentArrangement, Table as TextTable, TableStyle};
use serde_json::Value;

use super::exit::Exit;

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, with a heading and totals.
    Text,
    /// The table alone, one header line then one line per row (RFC 4180).
    Csv,
    /// One JSON document.
    Json,
}

/// Rows of cells under named columns.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Columns whose cells are numbers: right-aligned in text.
    pub numeric: Vec<&'static str>,
}

impl Table {
    pub fn new(columns: &[&'static str]) -> Self {
        Table { columns: columns.to_vec(), rows: Vec::new(), numeric: Vec::new() }
    }

    /// Marks columns as numeric.
    pub fn numeric(mut self, columns: &[&'static str]) -> Self {
        self.numeric = columns.to_vec();
        self
    }

    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.columns.len(), "a row has a cell per column");
        self.rows.push(row);
    }
}

/// Everything one subcommand says, and the exit code it ends with.
#[derive(Debug, Clone)]
pub struct Report {
    /// Lines above the table, in text only: what it is about, or what happened.
    pub heading: Vec<String>,
    pub table: Table,
    /// Whether text shows the table (a backup's one row says nothing its heading does not).
    pub table_in_text: bool,
    /// Lines below the table, in text only: totals, what to do next.
    pub footing: Vec<String>,
    pub json: Value,
    pub exit: Exit,
}

impl Report {
    /// A report that ends with success.
    pub fn new(table: Table, json: Value) -> Self {
        Report { heading: Vec::new(), table, table_in_text: true, footing: Vec::new(), json, exit: Exit::Done }
    }

    pub fn heading(mut self, line: impl Into<String>) -> Self {
        self.heading.push(line.into());
        self
    }

    pub fn footing(mut self, line: impl Into<String>) -> Self {
        self.footing.push(line.into());
        self
    }

    pub fn exit(mut self, exit: Exit) -> Self {
        self.exit = exit;
        self
    }

    pub fn without_table_in_text(mut self) -> Self {
        self.table_in_text = false;
        self
    }

    /// Writes the report in `format`.
    pub fn write(&self, format: Format, out: &mut impl Write) -> std::io::Result<()> {
        match format {
            Format::Text => self.write_text(out),
            Format::Csv => write_csv(&self.table, out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.json)?;
                writeln!(out)
            }
        }
    }

    fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        for line in &self.heading {
            writeln!(out, "{line}")?;
        }
        if self.table_in_text {
            if !self.heading.is_empty() {
                writeln!(out)?;
            }
            if self.table.rows.is_empty() {
                writeln!(out, "(none)")?;
            } else {
                writeln!(out, "{}", text_table(&self.table))?;
            }
        }
        if !self.footing.is_empty() {
            if self.table_in_text {
                writeln!(out)?;
            }
            for line in &self.footing {
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }
}

/// Columns separated by two spaces, the header underlined with dashes, nothing else: reads
/// in any terminal and pastes into a message as it is.
fn text_table(table: &Table) -> String {
    let style = TableStyle::new().header_separator(comfy_table::LineStyle::none().fill('-').junction(' '));
    let mut text = TextTable::new();
    text.load_style(style).set_content_arrangement(ContentArrangement::Disabled).set_header(table.columns.clone());
    for row in &table.rows {
        text.add_row(row.clone());
    }
    for (index, name) in table.columns.iter().enumerate() {
        if let Some(column) = text.column_mut(index) {
            column.set_padding((0, 1));
            if table.numeric.contains(name) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    // Lines end where their text does: trailing padding is noise in a pasted list.
    text.lines().map(|line| line.trim_end().to_string()).collect::<Vec<_>>().join("\n")
}

/// `one` or `many`, as `count` asks: "1 booking", "2 bookings".
pub fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

fn write_csv(table: &Table, out: &mut impl Write) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&table.columns)?;
    for row in &table.rows {
        writer.write_record(row)?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut table = Table::new(&["reference", "name", "seats"]).numeric(&["seats"]);
        table.push(vec!["TK-AAAA-BBBB".into(), "Ana, \"Lima\"".into(), "2".into()]);
        table.push(vec!["TK-CCCC-DDDD".into(), "Bo".into(), "10".into()]);
        Report::new(table, serde_json::json!([{"reference": "TK-AAAA-BBBB"}])).heading("Aurora").footing("2 bookings")
    }

    fn written(report: &Report, format: Format) -> String {
        let mut out = Vec::new();
        report.write(format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_is_aligned_columns_between_heading_and_footing() {
        let text = written(&sample(), Format::Text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Aurora");
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "reference     name         seats");
        assert_eq!(lines[3], "------------- ------------ ------");
        assert_eq!(lines[4], "TK-AAAA-BBBB  Ana, \"Lima\"      2");
        assert_eq!(lines[5], "TK-CCCC-DDDD  Bo              10");
        assert_eq!(lines[6], "");
        assert_eq!(lines[7], "2 bookings");
    }

    #[test]
    fn csv_is_the_table_alone_quoted_where_needed() {
        let text = written(&sample(), Format::Csv);
        assert_eq!(text, "reference,name,seats\nTK-AAAA-BBBB,\"Ana, \"\"Lima\"\"\",2\nTK-CCCC-DDDD,Bo,10\n");
    }

    #[test]
    fn json_is_the_document_alone() {
        let value: Value = serde_json::from_str(&written(&sample(), Format::Json)).unwrap();
        assert_eq!(value, serde_json::json!([{"reference": "TK-AAAA-BBBB"}]));
    }

    #[test]
    fn an_empty_table_says_so_in_text() {
        let report = Report::new(Table::new(&["a"]), Value::Null);
        assert_eq!(written(&report, Format::Text), "(none)\n");
    }
}
