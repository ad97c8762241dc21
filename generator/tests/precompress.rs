//! Precompressed variants: `<file>.gz` and `<file>.br` beside every text file worth it, exactly
//! its bytes once decompressed, kept (same inode, same modification time) while the file is
//! unchanged, and gone with their page. Also the move from the layout before build folders.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::{NOW, Workspace, listing, snapshot};

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).unwrap();
    out
}

/// Every file under `dir` with its inode and modification time.
fn identities(dir: &Path) -> BTreeMap<PathBuf, (u64, i64, i64)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let m = e.metadata().unwrap();
            (e.path().strip_prefix(dir).unwrap().to_path_buf(), (m.ino(), m.mtime(), m.mtime_nsec()))
        })
        .collect()
}

/// Asserts every file's variants: present and exact for text of 1024 bytes or more, absent otherwise.
/// Returns how many files have them.
fn check_variants(site: &Path) -> usize {
    let mut compressed = 0;
    for entry in walkdir::WalkDir::new(site).into_iter().map(|e| e.unwrap()).filter(|e| e.file_type().is_file()) {
        let path = entry.path();
        let ext = path.extension().unwrap().to_str().unwrap();
        if ext == "gz" || ext == "br" {
            assert!(path.with_extension("").is_file(), "{} has no file beside it", path.display());
            continue;
        }
        let bytes = std::fs::read(path).unwrap();
        let text = ["html", "css", "js", "json", "xml", "svg", "txt", "ics"].contains(&ext);
        let (gz, br) =
            (PathBuf::from(format!("{}.gz", path.display())), PathBuf::from(format!("{}.br", path.display())));
        if text && bytes.len() >= 1024 {
            assert_eq!(gunzip(&std::fs::read(&gz).unwrap()), bytes, "{}", gz.display());
            assert_eq!(unbrotli(&std::fs::read(&br).unwrap()), bytes, "{}", br.display());
            compressed += 1;
        } else {
            assert!(!gz.exists() && !br.exists(), "{} should be served as it is", path.display());
        }
    }
    compressed
}

#[test]
fn every_text_file_has_gzip_and_brotli_variants_of_exactly_its_bytes() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let site = ws.out();
    let compressed = check_variants(&site);
    assert!(compressed > 340, "only {compressed} files compressed");
    for page in ["index.html", "book/akira-20261124-1800/index.html", "api/films/akira/schedule.json", "sitemaps/1.xml"]
    {
        let (plain, br) = (site.join(page), site.join(format!("{page}.br")));
        assert!(br.metadata().unwrap().len() * 3 < plain.metadata().unwrap().len(), "{page} compresses well");
    }
    assert!(!site.join("robots.txt.gz").exists(), "87 bytes are not worth it");
    let mut assets = std::fs::read_dir(site.join("assets")).unwrap().map(|e| e.unwrap().path());
    let favicon = assets.find(|p| p.extension().is_some_and(|e| e == "png")).unwrap();
    assert!(!PathBuf::from(format!("{}.gz", favicon.display())).exists(), "a PNG is compressed already");
}

#[test]
fn an_edit_recompresses_only_what_changed_and_removed_pages_lose_their_variants() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let before = identities(&ws.out());

    let film = ws.path("content/films/akira.md");
    std::fs::write(&film, std::fs::read_to_string(&film).unwrap() + "\nOne more paragraph.\n").unwrap();
    let line = ws.run_ok("roll", NOW);
    assert!(line.contains("site: 1 pages written"), "{line}");
    let after = identities(&ws.out());
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    let changed: Vec<_> = after.iter().filter(|(p, id)| before[*p] != **id).map(|(p, _)| p.to_str().unwrap()).collect();
    assert_eq!(
        changed,
        ["films/akira/index.html", "films/akira/index.html.br", "films/akira/index.html.gz"],
        "every other file, variants included, keeps its inode and modification time"
    );
    let page = std::fs::read(ws.out().join("films/akira/index.html")).unwrap();
    assert!(
        String::from_utf8_lossy(&gunzip(&std::fs::read(ws.out().join("films/akira/index.html.gz")).unwrap()))
            .contains("One more paragraph.")
    );
    assert_eq!(unbrotli(&std::fs::read(ws.out().join("films/akira/index.html.br")).unwrap()), page);

    // By 10:30 the 09:00 and 10:00 shows have started: their pages and calendar files go,
    // variants and folders too.
    let line = ws.run_ok("roll", "2026-11-24T10:30:00+07:00");
    assert!(line.contains(" 42 removed"), "{line}");
    assert!(!ws.out().join("book/interstellar-20261124-1000").exists());
    let left = identities(&ws.out());
    assert!(left.keys().all(|p| !p.starts_with("book/interstellar-20261124-1000")));
    assert!(left.contains_key(Path::new("book/interstellar-20261124-1400/index.html.br")));
    check_variants(&ws.out());
}

#[test]
fn the_first_build_after_the_upgrade_replaces_a_plain_dist_folder_keeping_unchanged_files() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    // The layout before build folders: `dist/` a plain folder, a manifest beside it, no variants.
    let build = ws.published_build();
    std::fs::remove_file(ws.out()).unwrap();
    std::fs::rename(ws.path(&format!(".dist.builds/{build}/site")), ws.out()).unwrap();
    std::fs::remove_dir_all(ws.path(".dist.builds")).unwrap();
    for entry in walkdir::WalkDir::new(ws.out()).into_iter().map(|e| e.unwrap()) {
        if entry.path().extension().is_some_and(|e| e == "gz" || e == "br") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    std::fs::write(ws.path(".dist.manifest.json"), "{\"fingerprint\": \"stale\", \"files\": {}}").unwrap();
    std::fs::create_dir(ws.path(".dist.staging")).unwrap();
    let before = snapshot(&ws.out());

    let line = ws.run_ok("roll", NOW);
    // 702 files, and since issue 13 a sitemap part, a film list page and 21 film schedules.
    assert!(line.contains("site: 0 pages written, 725 unchanged"), "{line}");
    assert!(ws.out().symlink_metadata().unwrap().file_type().is_symlink(), "dist is now a symlink");
    let after = snapshot(&ws.out());
    for (path, old) in &before {
        assert_eq!(&after[path], old, "{}: bytes and modification time kept", path.display());
    }
    assert!(check_variants(&ws.out()) > 340, "variants were added");
    assert!(!ws.path(".dist.manifest.json").exists() && !ws.path(".dist.staging").exists());

    // The old folder is tidied away by the next build, which has nothing else to do.
    let site = listing(&ws.out());
    let line = ws.run_ok("roll", NOW);
    assert!(line.contains(" 0 pages written"), "{line}");
    assert_eq!(ws.build_folders(), vec![ws.published_build()], "the old folder is gone");
    assert_eq!(listing(&ws.out()), site);
}

#[test]
fn a_folder_tiketa_gen_did_not_build_is_refused_untouched() {
    let ws = Workspace::fresh();
    std::fs::create_dir(ws.out()).unwrap();
    std::fs::write(ws.out().join("notes.txt"), "mine").unwrap();
    let out = ws.run("roll", NOW);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("is not a site tiketa-gen built") && stderr.contains("--out"), "{stderr}");
    assert_eq!(std::fs::read_to_string(ws.out().join("notes.txt")).unwrap(), "mine");
}
