//! Shared helpers for the generator's integration tests: they run the real `tiketa-gen`
//! binary on copies of the real content and theme.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const NOW: &str = "2026-11-24T08:00:00+07:00";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A scratch workspace: copies of content/ and the theme, plus paths for the output and db.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn fresh() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo_root().join("content"), &dir.path().join("content"));
        copy_dir(&repo_root().join("themes/time-gallery"), &dir.path().join("theme"));
        Workspace { dir }
    }

    /// A workspace whose content is a synthetic catalog of `films` films (`synth-content`).
    pub fn synthetic(films: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo_root().join("themes/time-gallery"), &dir.path().join("theme"));
        let status = Command::new(env!("CARGO_BIN_EXE_tiketa-gen"))
            .args(["synth-content", "--films", &films.to_string()])
            .args(["--into", dir.path().join("content").to_str().unwrap()])
            .args(["--content", repo_root().join("content").to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success());
        Workspace { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn out(&self) -> PathBuf {
        self.path("dist")
    }

    /// `tiketa-gen <command> --now <now>` against this workspace, writing to `out`.
    pub fn command_into(&self, command: &str, now: &str, out: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tiketa-gen"));
        cmd.arg(command)
            .args(["--content", self.path("content").to_str().unwrap()])
            .args(["--theme", self.path("theme").to_str().unwrap()])
            .args(["--out", out.to_str().unwrap()])
            .args(["--db", self.path("var/tiketa.db").to_str().unwrap()])
            .args(["--now", now])
            .env_remove("TIKETA_NOW");
        cmd
    }

    /// Runs `tiketa-gen <command> --now <now>` against this workspace.
    pub fn run(&self, command: &str, now: &str) -> Output {
        self.command_into(command, now, &self.out()).output().unwrap()
    }

    /// The numbered build folders beside the output (`.dist.builds/<n>`), in any order.
    pub fn build_folders(&self) -> Vec<String> {
        match std::fs::read_dir(self.path(".dist.builds")) {
            Ok(entries) => entries.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The build folder `dist` points to.
    pub fn published_build(&self) -> String {
        let target = std::fs::read_link(self.out()).expect("dist is a symlink");
        let target = target.to_str().unwrap();
        target.strip_prefix(".dist.builds/").and_then(|t| t.strip_suffix("/site")).expect(target).to_string()
    }

    /// Asserts that nothing a killed or failed build left remains beside the output: only the
    /// published build and, at most, the one published before it.
    pub fn assert_no_leftovers(&self) {
        let published: u64 = self.published_build().parse().unwrap();
        let folders = self.build_folders();
        let numbers: Vec<u64> = folders.iter().filter_map(|f| f.parse().ok()).collect();
        assert!(
            numbers.len() == folders.len() && numbers.len() <= 2 && numbers.iter().all(|n| *n <= published),
            "left behind beside the output: {folders:?} (published: {published})"
        );
        assert!(!self.path(".dist.link.tmp").exists(), "a temporary symlink was left");
    }

    /// Runs a command and asserts it succeeded; returns stdout.
    pub fn run_ok(&self, command: &str, now: &str) -> String {
        let out = self.run(command, now);
        assert!(out.status.success(), "tiketa-gen {command} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn read(&self, rel_in_out: &str) -> String {
        std::fs::read_to_string(self.out().join(rel_in_out)).unwrap_or_else(|e| panic!("{rel_in_out}: {e}"))
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir` with its bytes and modification time: a snapshot to compare.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                (std::fs::read(e.path()).unwrap(), meta.modified().unwrap()),
            )
        })
        .collect()
}

/// Every file under `dir` (following `dir` itself if it is a symlink) with a hash of its bytes:
/// what a visitor or a CDN sync sees.
pub fn listing(dir: &Path) -> BTreeMap<PathBuf, blake3::Hash> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(dir).unwrap().to_path_buf(), blake3::hash(&std::fs::read(e.path()).unwrap())))
        .collect()
}

/// The values of every `attr="..."` in an HTML text, with the entities the template engine
/// escapes (`&#x2f;` for `/`, `&amp;`) decoded.
pub fn attribute_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    let mut values = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&needle) {
        rest = &rest[start + needle.len()..];
        let end = rest.find('"').unwrap();
        values.push(rest[..end].replace("&#x2f;", "/").replace("&amp;", "&"));
        rest = &rest[end..];
    }
    values
}

/// Every HTML page of a built site, by path.
pub fn html_pages(dir: &Path) -> Vec<(PathBuf, String)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| (e.path().to_path_buf(), std::fs::read_to_string(e.path()).unwrap()))
        .collect()
}
