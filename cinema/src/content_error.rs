//! The one error type for bad content.
//!
//! Content is edited by people, so every error names the file, the line where we know it, the
//! field, and what was expected: enough to fix it without reading the generator's source.

use std::fmt;
use std::path::PathBuf;

/// A problem in `content/` that stops a build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ContentError {
    /// The file at fault.
    pub file: PathBuf,
    /// The 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// The field at fault, when there is one (`runtime_min`, `studio`, ...).
    pub field: Option<String>,
    /// What is wrong and what is expected instead.
    pub message: String,
}

impl ContentError {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ContentError { file: file.into(), line: None, field: None, message: message.into() }
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Turns a TOML parse error into a content error naming the line and, where the line holds
/// one, the key (`horizon_days = "three"` names `horizon_days`). `first_line` is the line of
/// the file the TOML text starts on.
pub fn from_toml(err: &toml::de::Error, text: &str, file: &std::path::Path, first_line: usize) -> ContentError {
    let mut out = ContentError::new(file, err.message().trim().to_string());
    // Messages such as "missing field `runtime_min`" name the field themselves.
    if let Some(field) = err.message().split('`').nth(1) {
        out = out.field(field);
    }
    if let Some(span) = err.span() {
        let line = line_of_offset(text, span.start);
        out = out.at_line(first_line + line - 1);
        let line_text = text.lines().nth(line - 1).unwrap_or_default();
        if out.field.is_none()
            && let Some((key, _)) = line_text.split_once('=')
        {
            let key = key.trim();
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                out = out.field(key);
            }
        }
    }
    out
}

/// The 1-based line of a byte offset in a text, for errors from parsers that report offsets.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
