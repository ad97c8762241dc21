//! `tiketa-gen watch`: rebuild whenever content or the theme changes.
//!
//! Events are debounced so an editor's save (often several writes and a rename) triggers one
//! build. A failed build prints its error and the watcher keeps waiting for the fix: the
//! published site stays as the last good build left it.

use std::sync::mpsc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::new_debouncer;

use crate::build::{self, BuildOptions};

/// How long the watcher waits for a burst of file events to settle.
pub const DEBOUNCE: Duration = Duration::from_millis(25);

/// Builds once, then again on every change, until the process is stopped.
/// `after_build` runs after every successful build (live reload hooks in there).
pub fn run(opts: BuildOptions, fixed_now: bool, mut after_build: impl FnMut()) -> anyhow::Result<()> {
    let rebuild = |opts: &BuildOptions| {
        let mut opts = opts.clone();
        if !fixed_now {
            opts.now = chrono::Utc::now();
        }
        match build::run(&opts, true) {
            Ok(report) => {
                println!("{}", report.line());
                true
            }
            Err(e) => {
                eprintln!("error: {e}\n(watching for the fix; the site is as the last good build left it)");
                false
            }
        }
    };
    if rebuild(&opts) {
        after_build();
    }

    let (tx, rx) = mpsc::channel();
    let mut debouncer = new_debouncer(DEBOUNCE, None, tx)?;
    for dir in [&opts.content, &opts.theme] {
        debouncer.watch(dir, RecursiveMode::Recursive)?;
    }
    println!("watching {} and {} for changes (Ctrl-C to stop)", opts.content.display(), opts.theme.display());
    for result in rx {
        match result {
            Ok(events) if events.iter().any(|e| !e.kind.is_access()) => {
                if rebuild(&opts) {
                    after_build();
                }
            }
            Ok(_) => {}
            Err(errors) => {
                for e in errors {
                    eprintln!("watch error: {e}");
                }
            }
        }
    }
    Ok(())
}
