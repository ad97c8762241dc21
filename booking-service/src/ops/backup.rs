//! `tiketa-ops backup <file>`: a consistent copy of the database while the service runs.
//!
//! The store makes the copy (SQLite's online backup, so bookings go on being taken and the
//! copy holds every one committed before it began); PostgreSQL answers that `pg_dump` is the
//! tool, and that answer is passed on as it is. The checks here only catch what an operator
//! can fix before the store is asked: a file that exists, a folder that does not.

use std::path::Path;

use serde_json::json;

use super::output::{Report, Table, plural};
use super::{Context, Failure};

pub fn run(context: &Context, file: &Path) -> Result<Report, Failure> {
    let target = std::path::absolute(file)
        .map_err(|e| Failure::failed(format!("cannot resolve {}: {e}; give the backup's path", file.display())))?;
    if target.exists() {
        return Err(Failure::failed(format!(
            "{} already exists; a backup never overwrites a file: give a new name, such as one with today's date",
            file.display()
        )));
    }
    if let Some(folder) = target.parent()
        && !folder.is_dir()
    {
        return Err(Failure::failed(format!(
            "the folder {} does not exist; create it first (mkdir -p {})",
            folder.display(),
            folder.display()
        )));
    }
    let written = context.store.run(|s| s.backup(target.clone()))?;

    let mut table = Table::new(&["file", "bytes", "bookings"]).numeric(&["bytes", "bookings"]);
    table.push(vec![target.display().to_string(), written.bytes.to_string(), written.bookings.to_string()]);
    let json = json!({ "file": target, "bytes": written.bytes, "bookings": written.bookings });
    let bookings = usize::try_from(written.bookings).unwrap_or(usize::MAX);
    Ok(Report::new(table, json).without_table_in_text().heading(format!(
        "Backed up {} to {}: {} bytes, {} {} (cancelled ones included).",
        context.store.store().describe(),
        target.display(),
        written.bytes,
        written.bookings,
        plural(bookings, "booking", "bookings")
    )))
}
