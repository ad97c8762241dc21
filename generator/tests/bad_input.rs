//! Bad content and broken templates: a clear error naming file, line and field; a non-zero
//! exit; and not one byte of the published site changed.

mod common;

use common::{NOW, Workspace, snapshot};

/// Builds once, breaks something, builds again: asserts the failure and an untouched site.
fn assert_fails_cleanly(break_it: impl FnOnce(&Workspace), expected: &[&str]) {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let before = snapshot(&ws.out());
    let published = ws.published_build();
    break_it(&ws);
    for command in ["build", "roll"] {
        let out = ws.run(command, "2026-11-24T10:30:00+07:00");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command} succeeded despite the error");
        for part in expected {
            assert!(stderr.contains(part), "{command}: the error {stderr:?} does not mention {part:?}");
        }
        assert_eq!(snapshot(&ws.out()), before, "{command}: the site changed although the build failed");
        assert_eq!(ws.build_folders(), vec![published.clone()], "{command}: the failed build's folder was left behind");
    }
}

fn edit(ws: &Workspace, rel: &str, from: &str, to: &str) {
    let path = ws.path(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{rel} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn malformed_front_matter() {
    assert_fails_cleanly(
        |ws| edit(ws, "content/films/akira.md", "+++\nstudio", "studio"),
        &["akira.md:1", "malformed front matter"],
    );
}

#[test]
fn a_toml_syntax_error_names_the_line() {
    assert_fails_cleanly(
        |ws| edit(ws, "content/films/akira.md", "runtime_min = 124", "runtime_min = 124 minutes"),
        &["akira.md:5"],
    );
}

#[test]
fn a_missing_required_field() {
    assert_fails_cleanly(
        |ws| edit(ws, "content/films/akira.md", "runtime_min = 124\n", ""),
        &["akira.md", "runtime_min", "missing field"],
    );
}

#[test]
fn two_films_in_one_studio() {
    assert_fails_cleanly(
        |ws| edit(ws, "content/films/akira.md", "studio = 3", "studio = 1"),
        &["spirited-away.md:2", "field `studio`", "already screens \"Akira\"", "akira.md"],
    );
}

#[test]
fn an_unknown_seat_map_character() {
    assert_fails_cleanly(
        |ws| edit(ws, "content/auditorium.txt", "C  sssssssss", "C  sssss?sss"),
        &["auditorium.txt:13", "'?'", "expected 's'"],
    );
}

#[test]
fn a_runtime_that_does_not_fit() {
    assert_fails_cleanly(
        |ws| edit(ws, "content/films/blade-runner-2049.md", "runtime_min = 164", "runtime_min = 166"),
        &["blade-runner-2049.md:5", "runtime_min", "does not fit"],
    );
}

#[test]
fn a_template_error_names_the_template_and_line() {
    assert_fails_cleanly(
        |ws| edit(ws, "theme/templates/film.html", "{{ film.title }}", "{{ film.title | nosuchfilter }}"),
        &["templates/film.html:", "template error", "nosuchfilter"],
    );
}

#[test]
fn a_bad_setting() {
    assert_fails_cleanly(
        |ws| edit(ws, "content/site.toml", "horizon_days = 3", "horizon_days = \"three\""),
        &["site.toml:", "horizon_days"],
    );
}
