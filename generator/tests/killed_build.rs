//! A build killed at any instant: `dist` shows exactly the old site or exactly the new one, and
//! the next build repairs everything by itself. Real processes, real SIGKILLs.
//!
//! Each kill waits for an event of the build (its new folder appears, a third of its pages are
//! written, a new page becomes visible), never for a length of time.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use common::{NOW, Workspace, listing};

/// Enough films that rewriting every booking page takes a few seconds in a debug build.
const FILMS: u32 = 30;
const MARKER: &str = "<!-- v2 -->";

/// The moments a build is killed at.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Its new build folder exists.
    Started,
    /// This share (in thirds) of the booking pages is written into its folder.
    Staged(usize),
    /// Its manifest is written: every file is in place, the switch is about to happen.
    ManifestWritten,
    /// A page of the new build can be read through `dist`.
    NewPageVisible,
}

/// An edit that changes every booking page.
fn edit_booking_template(ws: &Workspace, marked: bool) {
    let path = ws.path("theme/templates/book.html");
    let text = std::fs::read_to_string(&path).unwrap().replace(MARKER, "");
    let text =
        if marked { text.replacen("{% block content %}", &format!("{{% block content %}}{MARKER}"), 1) } else { text };
    std::fs::write(&path, text).unwrap();
}

/// The number of the published build, if `dist` is a build folder symlink.
fn published(ws: &Workspace) -> Option<u64> {
    let target = std::fs::read_link(ws.out()).ok()?;
    target.to_str()?.strip_prefix(".dist.builds/")?.strip_suffix("/site")?.parse().ok()
}

/// Unpublished build folders, each with the `site/` it holds: those of killed builds, or of the
/// build in progress.
fn unpublished(ws: &Workspace) -> Vec<PathBuf> {
    let published = published(ws).unwrap_or(0);
    let numbers = ws.build_folders().into_iter().filter_map(|f| f.parse::<u64>().ok());
    numbers.filter(|n| *n > published).map(|n| ws.path(&format!(".dist.builds/{n}"))).collect()
}

/// Marks the folders killed builds left, so the folder of the next build is told apart even
/// when it reuses a killed build's number (the killed one is renamed away first).
fn mark_killed_folders(ws: &Workspace) {
    for dir in unpublished(ws) {
        let _ = std::fs::write(dir.join("killed-by-the-test"), "");
    }
}

/// The `site/` folder the build in progress writes into. (Also the staging folder of the layout
/// before build folders, so this test can be run against that code to watch it fail.)
fn staging(ws: &Workspace) -> Option<PathBuf> {
    let fresh = unpublished(ws)
        .into_iter()
        .find(|dir| dir.join("site").is_dir() && !dir.join("killed-by-the-test").exists())
        .map(|dir| dir.join("site"));
    let legacy = ws.path(".dist.staging");
    fresh.or_else(|| legacy.is_dir().then_some(legacy))
}

fn reached(ws: &Workspace, point: KillPoint, booking_pages: usize, sample: &Path) -> bool {
    match point {
        KillPoint::Started => staging(ws).is_some(),
        KillPoint::Staged(thirds) => staging(ws)
            .and_then(|s| std::fs::read_dir(s.join("book")).ok())
            .is_some_and(|d| d.count() * 3 >= booking_pages * thirds),
        KillPoint::ManifestWritten => {
            staging(ws).is_some_and(|site| site.parent().unwrap().join("manifest.json").exists())
        }
        KillPoint::NewPageVisible => {
            std::fs::read_to_string(ws.out().join(sample)).is_ok_and(|page| page.contains(MARKER))
        }
    }
}

/// Starts `build`, waits for `point`, kills the build with SIGKILL. Returns whether the build
/// was still running when it was killed, and the folder it was writing (if it had one).
fn kill_build_at(ws: &Workspace, point: KillPoint, booking_pages: usize, sample: &Path) -> (bool, Option<PathBuf>) {
    mark_killed_folders(ws);
    let mut child: Child =
        ws.command_into("build", NOW, &ws.out()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    loop {
        let exited = child.try_wait().unwrap();
        if reached(ws, point, booking_pages, sample) {
            break;
        }
        if let Some(status) = exited {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("the build ended ({status}) before {point:?}: {stderr}");
        }
        std::thread::yield_now();
    }
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    (running, staging(ws))
}

/// The old site, and the site the edit makes (built fresh into another folder).
fn old_and_new(ws: &Workspace) -> (BTreeMap<PathBuf, blake3::Hash>, BTreeMap<PathBuf, blake3::Hash>) {
    ws.run_ok("roll", NOW);
    let old = listing(&ws.out());
    edit_booking_template(ws, true);
    let expected = ws.path("expected/dist");
    let out = ws.command_into("build", NOW, &expected).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let new = listing(&expected);
    assert_ne!(old, new);
    (old, new)
}

/// Booking pages count, and the first one in path order (the first a file-by-file commit would
/// have replaced).
fn booking_pages(site: &BTreeMap<PathBuf, blake3::Hash>) -> (usize, PathBuf) {
    let pages: Vec<_> = site.keys().filter(|p| p.starts_with("book") && p.ends_with("index.html")).collect();
    (pages.len(), pages[0].clone())
}

#[test]
fn a_build_killed_at_any_point_leaves_the_old_site_or_the_new_one() {
    let ws = Workspace::synthetic(FILMS);
    let (old, new) = old_and_new(&ws);
    let (count, sample) = booking_pages(&old);
    assert!(count > 400, "{count} booking pages");

    for point in [KillPoint::Started, KillPoint::Staged(1), KillPoint::Staged(2)] {
        let (running, killed_folder) = kill_build_at(&ws, point, count, &sample);
        assert!(running, "killed at {point:?} while running");
        assert!(listing(&ws.out()) == old, "killed at {point:?}: dist is not exactly the old site");
        assert!(
            killed_folder.is_some(),
            "killed at {point:?}: the killed build's folder is there until the next build"
        );
    }
    kill_build_at(&ws, KillPoint::ManifestWritten, count, &sample);
    let seen = listing(&ws.out());
    assert!(seen == old || seen == new, "killed as its manifest was written: dist is a mix");
    kill_build_at(&ws, KillPoint::NewPageVisible, count, &sample);
    let seen = listing(&ws.out());
    let changed = seen.iter().filter(|(path, hash)| old.get(*path) != Some(*hash)).count();
    assert!(
        seen == old || seen == new,
        "killed as a new page showed: a mix ({changed} files differ from the old site)"
    );
    assert_eq!(seen, new, "a new page was visible, so the whole new site is");

    let line = ws.run_ok("build", NOW);
    assert!(line.contains("site: 0 pages written"), "{line}");
    assert_eq!(listing(&ws.out()), new, "the next build leaves the new site");
    ws.assert_no_leftovers();
}

#[test]
fn after_a_killed_build_and_a_revert_the_site_is_the_reverted_content_exactly() {
    let ws = Workspace::synthetic(FILMS);
    let (old, _) = old_and_new(&ws);
    let (count, sample) = booking_pages(&old);

    // Killed half-way through writing, then the edit is taken back.
    assert!(kill_build_at(&ws, KillPoint::Staged(1), count, &sample).0);
    edit_booking_template(&ws, false);
    let line = ws.run_ok("build", NOW);
    assert!(
        listing(&ws.out()) == old,
        "killed while writing, then reverted: the site is not the reverted content: {line}"
    );

    // Killed as soon as a new page is visible, then the edit is taken back.
    edit_booking_template(&ws, true);
    kill_build_at(&ws, KillPoint::NewPageVisible, count, &sample);
    edit_booking_template(&ws, false);
    let line = ws.run_ok("build", NOW);
    assert!(
        listing(&ws.out()) == old,
        "killed as a new page showed, then reverted: the site is not the reverted content: {line}"
    );
    assert!(!line.contains(" 0 pages written"), "the killed build's pages were rewritten: {line}");
    ws.assert_no_leftovers();
}

#[test]
fn a_manifest_not_written_for_its_folder_is_not_trusted() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let before = common::snapshot(&ws.out());
    let build = ws.published_build();
    // A manifest that is not this folder's (written for another build number) is not trusted.
    let manifest = ws.path(&format!(".dist.builds/{build}/manifest.json"));
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen(&format!("{{\"build\":{build},"), "{\"build\":99,", 1)).unwrap();
    let line = ws.run_ok("roll", NOW);
    assert!(line.contains(" 0 pages written"), "equal bytes are reused even without a manifest: {line}");
    assert_eq!(common::snapshot(&ws.out()), before, "bytes and modification times kept");
    assert_ne!(ws.published_build(), build, "a new build was made: the manifest was not trusted");
}
