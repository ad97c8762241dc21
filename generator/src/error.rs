//! The generator's errors: bad content, a broken template, or the disk.

use std::path::{Path, PathBuf};

use cinema::ContentError;
use cinema::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("{file}{}: template error: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Template { file: PathBuf, line: Option<usize>, message: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

impl BuildError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        BuildError::Io { path: path.to_path_buf(), source }
    }

    /// A template error, naming the template file and line.
    pub fn template(templates_dir: &Path, err: &minijinja::Error) -> Self {
        let mut message =
            err.detail().map(|d| format!("{} ({})", err.kind(), d)).unwrap_or_else(|| err.kind().to_string());
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            message.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        BuildError::Template {
            file: templates_dir.join(err.name().unwrap_or("(unknown template)")),
            line: err.line(),
            message,
        }
    }
}
