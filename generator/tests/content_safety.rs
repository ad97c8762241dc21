//! Content is input, and input is hostile: the real `tiketa-gen` on content that tries to
//! publish files from outside `content/`, to run script through lore links, to hang the build
//! on a FIFO or to exhaust memory with a huge file. Every case fails cleanly, fast, naming the
//! file, or is published harmlessly; and every page carries its own Content-Security-Policy.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{NOW, Workspace, html_pages, snapshot};

/// Long enough for a debug build of the whole site on a busy machine; a hang never ends.
const HANG: Duration = Duration::from_secs(60);

/// `tiketa-gen <args>` against the workspace, with `TIKETA_*` from the caller's environment
/// removed.
fn command(ws: &Workspace, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tiketa-gen"));
    cmd.args(args)
        .args(["--content", ws.path("content").to_str().unwrap()])
        .args(["--theme", ws.path("theme").to_str().unwrap()])
        .args(["--out", ws.out().to_str().unwrap()])
        .args(["--db", ws.path("var/tiketa.db").to_str().unwrap()])
        .args(["--now", NOW])
        .env_remove("TIKETA_NOW")
        .env_remove("TIKETA_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a command to its end, or kills it and fails when it has not ended within [`HANG`]:
/// the test waits for the process's exit, not for a fixed time.
fn run_or_hang(cmd: Command) -> Output {
    run_measured(cmd).0
}

/// [`run_or_hang`], also returning the process's peak resident memory in bytes (from
/// `wait4`, for this child alone).
// The child is reaped by `wait4` on the waiting thread, which `Child` cannot see.
#[allow(clippy::zombie_processes)]
fn run_measured(mut cmd: Command) -> (Output, u64) {
    use std::io::Read;
    let mut child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf).unwrap();
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter; `pid` is our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
        let _ = tx.send((status, usage.ru_maxrss as u64 * 1024));
    });
    match rx.recv_timeout(HANG) {
        Ok((status, max_rss)) => {
            use std::os::unix::process::ExitStatusExt;
            let status = std::process::ExitStatus::from_raw(status);
            (Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }, max_rss)
        }
        Err(_) => {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("tiketa-gen still running after {HANG:?}: the build hangs");
        }
    }
}

/// Builds once; then breaks the content and asserts `build` fails naming every part of
/// `expected`, fast, with the published site untouched.
fn assert_refused(break_it: impl FnOnce(&Workspace), expected: &[&str]) {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let before = snapshot(&ws.out());
    break_it(&ws);
    let out = run_or_hang(command(&ws, &["build"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the build succeeded: {}", String::from_utf8_lossy(&out.stdout));
    for part in expected {
        assert!(stderr.contains(part), "the error {stderr:?} does not mention {part:?}");
    }
    assert_eq!(snapshot(&ws.out()), before, "the site changed although the build failed");
}

/// Adds `poster = "<value>"` to Akira's front matter, as its line 11.
fn set_poster(ws: &Workspace, value: &str) {
    let path = ws.path("content/films/akira.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "palette = [\"#170306\", \"#ff2638\"]\n",
        &format!("palette = [\"#170306\", \"#ff2638\"]\nposter = {value:?}\n"),
        1,
    );
    assert!(text.lines().nth(10).unwrap().starts_with("poster"), "{text}");
    std::fs::write(&path, text).unwrap();
}

fn symlink(target: &str, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

// --- 1. Paths that content names stay inside content/ -------------------------------------

#[test]
fn a_poster_path_leaving_the_content_folder_is_refused() {
    // (the poster field, how to prepare the workspace, what the error says)
    type Case = (&'static str, fn(&Workspace), &'static str);
    let cases: &[Case] = &[
        ("../var/tiketa.db", |_| {}, "inside the content folder"),
        ("../../var/tiketa.db", |_| {}, "inside the content folder"),
        ("/etc/passwd", |_| {}, "absolute"),
        (
            "posters/../../outside.png",
            |ws| std::fs::write(ws.path("outside.png"), PNG).unwrap(),
            "inside the content folder",
        ),
        (
            "posters/passwd.png",
            |ws| symlink("/etc/passwd", &ws.path("content/posters/passwd.png")),
            "outside the content folder",
        ),
        (
            "posters/db.png",
            |ws| symlink("../../var/tiketa.db", &ws.path("content/posters/db.png")),
            "outside the content folder",
        ),
        (
            "posters/out/outside.png",
            |ws| {
                std::fs::write(ws.path("outside.png"), PNG).unwrap();
                symlink("../..", &ws.path("content/posters/out"));
            },
            "outside the content folder",
        ),
    ];
    for (value, prepare, why) in cases {
        assert_refused(
            |ws| {
                prepare(ws);
                set_poster(ws, value);
            },
            &["akira.md:11", "field `poster`", why],
        );
    }
}

#[test]
fn a_poster_must_be_an_image_we_publish() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("posters/akira.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>", "SVG"),
        ("posters/akira.html", b"<script>alert(1)</script>", "jpg"),
        ("posters/akira.png", b"<html><script>alert(1)</script>", "not a PNG image"),
        ("posters/akira.jpg", PNG, "not a JPEG image"),
    ];
    for (value, bytes, why) in cases {
        assert_refused(
            |ws| {
                let file = ws.path("content").join(value);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, bytes).unwrap();
                set_poster(ws, value);
            },
            &["akira.md:11", "field `poster`", why],
        );
    }
    assert_refused(
        |ws| {
            std::fs::create_dir_all(ws.path("content/posters/akira.png")).unwrap();
            set_poster(ws, "posters/akira.png");
        },
        &["akira.md:11", "field `poster`", "is a folder, not a regular file"],
    );
}

#[test]
fn a_poster_inside_content_is_published_even_through_a_symlink_that_stays_inside() {
    let ws = Workspace::fresh();
    let favicon = std::fs::read(ws.path("theme/assets/favicon.png")).unwrap();
    std::fs::create_dir_all(ws.path("content/images")).unwrap();
    std::fs::write(ws.path("content/images/akira.png"), &favicon).unwrap();
    symlink("../images/akira.png", &ws.path("content/posters/akira.png"));
    set_poster(&ws, "posters/akira.png");
    ws.run_ok("roll", NOW);
    assert_eq!(std::fs::read(ws.out().join("posters/akira.png")).unwrap(), favicon);
    assert!(ws.read("films/akira/index.html").contains("src=\"/posters/akira.png\""));
}

#[test]
fn a_poster_over_the_size_limit_is_refused_without_reading_it() {
    assert_refused(
        |ws| {
            let path = ws.path("content/posters/akira.png");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, PNG).unwrap();
            // Sparse: 21 MiB on paper, a few bytes on disk.
            std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(21 << 20).unwrap();
            set_poster(ws, "posters/akira.png");
        },
        &["akira.md:11", "field `poster`", "21 MiB (22020096 bytes)", "20 MiB limit"],
    );
}

// --- 2. Lore links cannot run script --------------------------------------------------------

/// Decodes the character references an HTML parser decodes in an attribute value. Any other
/// named reference fails the test, so nothing slips past undecoded.
fn decode_attribute(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map(|e| at + e).unwrap_or_else(|| panic!("bare & in {value:?}"));
        let name = &rest[at + 1..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ if name.starts_with("#x") || name.starts_with("#X") => {
                char::from_u32(u32::from_str_radix(&name[2..], 16).unwrap()).unwrap()
            }
            _ if name.starts_with('#') => char::from_u32(name[1..].parse().unwrap()).unwrap(),
            _ => panic!("unexpected character reference &{name}; in {value:?}"),
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The scheme a browser would see in an `href`/`src` (WHATWG URL parsing: leading and
/// trailing C0 controls and spaces stripped, tabs and newlines removed anywhere), or `None`
/// for a relative URL.
fn browser_scheme(url: &str) -> Option<String> {
    let url: String =
        url.trim_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// Every `href="..."`/`src="..."` in an HTML text, decoded as a browser would.
fn urls_in(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attr in [" href=\"", " src=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attr) {
            rest = &rest[start + attr.len()..];
            let end = rest.find('"').unwrap();
            urls.push(decode_attribute(&rest[..end]));
            rest = &rest[end..];
        }
    }
    urls
}

const HOSTILE_LORE: &[&str] = &[
    "[bad](javascript:alert(1))",
    "[bad](JaVaScRiPt:alert(1))",
    "[bad]( javascript:alert(1) )",
    "[bad](<javascript:alert(1)>)",
    "[bad](javascript:alert(1) \"a title\")",
    "[bad](&#106;avascript:alert(1))",
    "[bad](&#x6A;avascript:alert(1))",
    "[bad](&#X6a;&#x61;vascript:alert(1))",
    "[bad](javascript&colon;alert(1))",
    "[bad](java&#9;script:alert(1))",
    "[bad](java&#10;script:alert(1))",
    "[bad](java&#13;script:alert(1))",
    "[bad](&#32;javascript:alert(1))",
    "[bad](&#1;javascript:alert(1))",
    "[bad](&#x1F;javascript:alert(1))",
    "[bad](&Tab;javascript:alert(1))",
    "[bad](javascript\\:alert(1))",
    "[bad](vbscript:msgbox(1))",
    "[bad](VBScript:msgbox(1))",
    "[bad](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[bad](DATA:text/html,<script>alert(1)</script>)",
    "[bad](file:///etc/passwd)",
    "[bad](ftp://example.com/x)",
    "[bad](blob:https://example.com/x)",
    "[bad][js-ref] and [js-ref]",
    "[bad][data-ref]",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,x>",
    "![bad](javascript:alert(1))",
    "![bad](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![bad][data-ref]",
    "[![bad](javascript:alert(1))](javascript:alert(2))",
];

const SAFE_LORE: &[(&str, &str)] = &[
    ("[good](https://example.com/a?b=c&d=e)", "https://example.com/a?b=c&d=e"),
    ("[good](HTTP://example.com/)", "HTTP://example.com/"),
    ("[good](/films/akira/)", "/films/akira/"),
    ("[good](#schedule)", "#schedule"),
    ("[good](../spirited-away/)", "../spirited-away/"),
    ("[good](mailto:box@example.com)", "mailto:box@example.com"),
    ("<https://example.com/auto>", "https://example.com/auto"),
    ("<box@example.com>", "mailto:box@example.com"),
    ("[good][safe-ref]", "https://example.com/ref"),
    ("![good](/posters/akira.svg)", "/posters/akira.svg"),
];

#[test]
fn lore_links_and_images_with_unsafe_schemes_are_not_published_live() {
    let ws = Workspace::fresh();
    let path = ws.path("content/films/akira.md");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (i, line) in HOSTILE_LORE.iter().enumerate() {
        text.push_str(&format!("\nhostile-{i}: {line}\n"));
    }
    for (i, (line, _)) in SAFE_LORE.iter().enumerate() {
        text.push_str(&format!("\nsafe-{i}: {line}\n"));
    }
    text.push_str("\n[js-ref]: javascript:alert(1)\n[data-ref]: data:image/png;base64,AAAA\n[safe-ref]: https://example.com/ref\n");
    std::fs::write(&path, text).unwrap();
    ws.run_ok("roll", NOW);

    let html = ws.read("films/akira/index.html");
    let start = html.find("<div class=\"prose\">").unwrap();
    let prose = &html[start..start + html[start..].find("</div>").unwrap()];
    for (i, line) in HOSTILE_LORE.iter().enumerate() {
        let para_start = prose.find(&format!("hostile-{i}:")).unwrap_or_else(|| panic!("{line}: its text is gone"));
        let para = &prose[para_start..para_start + prose[para_start..].find("</p>").unwrap()];
        let urls = urls_in(para);
        assert!(urls.is_empty(), "{line:?} is published live as {urls:?}: {para}");
        if line.starts_with("[bad]") || line.starts_with("![bad]") {
            assert!(para.contains("bad"), "{line:?}: the link's text is shown: {para}");
        }
    }
    let mut expected: Vec<&str> = SAFE_LORE.iter().map(|(_, url)| *url).collect();
    let mut found = urls_in(prose);
    for url in &found {
        let scheme = browser_scheme(url);
        assert!(
            matches!(scheme.as_deref(), None | Some("http" | "https" | "mailto")),
            "{url:?} has the scheme {scheme:?}"
        );
    }
    expected.sort();
    found.sort();
    assert_eq!(found, expected, "every safe link stays live, with its URL intact");
}

#[test]
fn the_scheme_check_of_this_test_sees_what_a_browser_sees() {
    assert_eq!(browser_scheme(" \u{1}java\tscript:x").as_deref(), Some("javascript"));
    assert_eq!(browser_scheme(&decode_attribute("&#106;avascript:x")).as_deref(), Some("javascript"));
    assert_eq!(browser_scheme("/films/a:b"), None);
    assert_eq!(browser_scheme("%6Aavascript:x"), None);
}

// --- 3. A Content-Security-Policy in every page ---------------------------------------------

/// The policy of a page's `<meta http-equiv="Content-Security-Policy">`, by directive. Asserts
/// there is exactly one and that it comes before anything it must govern.
fn meta_policy(page: &str, html: &str) -> BTreeMap<String, Vec<String>> {
    const META: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"";
    assert_eq!(html.matches("Content-Security-Policy").count(), 1, "{page}: one policy");
    let at = html.find(META).unwrap_or_else(|| panic!("{page}: no CSP meta tag"));
    let head_end = html.find("</head>").unwrap();
    assert!(at < head_end, "{page}: the policy is outside <head>");
    for governed in ["<script", "<link rel=\"stylesheet\"", "<style", "<img", "<iframe"] {
        if let Some(g) = html.find(governed) {
            assert!(at < g, "{page}: {governed} comes before the policy, which then does not govern it");
        }
    }
    let rest = &html[at + META.len()..];
    let value = decode_attribute(&rest[..rest.find('"').unwrap()]);
    value
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace().map(String::from);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

fn assert_directive(page: &str, policy: &BTreeMap<String, Vec<String>>, name: &str, expected: &[&str]) {
    let got = policy.get(name).unwrap_or_else(|| panic!("{page}: no {name} in {policy:?}"));
    assert_eq!(got, &expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{page}: {name}");
}

#[test]
fn every_page_carries_a_content_security_policy_that_allows_only_what_it_uses() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    let pages = html_pages(&ws.out());
    assert!(pages.len() > 300);
    for (path, html) in &pages {
        let page = path.display().to_string();
        let policy = meta_policy(&page, html);
        assert_directive(&page, &policy, "default-src", &["'self'"]);
        assert_directive(&page, &policy, "script-src", &["'self'"]);
        assert_directive(&page, &policy, "connect-src", &["'self'"]);
        assert_directive(&page, &policy, "img-src", &["'self'"]);
        assert_directive(&page, &policy, "frame-src", &["https://www.youtube-nocookie.com"]);
        assert_directive(&page, &policy, "object-src", &["'none'"]);
        assert_directive(&page, &policy, "base-uri", &["'none'"]);
        assert_directive(&page, &policy, "form-action", &["'self'"]);
        assert!(!policy.contains_key("frame-ancestors"), "{page}: frame-ancestors is ignored in a meta tag");
        assert!(
            policy.values().flatten().all(|s| s != "'unsafe-eval'" && s != "*" && s != "data:"),
            "{page}: {policy:?}"
        );
        // What the policy forbids, the pages must not need: inline scripts (JSON-LD is data,
        // not script) and event-handler attributes.
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..i + html[i..].find('>').unwrap()];
            assert!(tag.contains(" src=\"/") || tag.contains("type=\"application/ld+json\""), "{page}: inline {tag}");
        }
        let lower = html.to_ascii_lowercase();
        for handler in [" onclick=", " onload=", " onerror=", " onsubmit=", " onchange=", " oninput=", "javascript:"] {
            assert!(!lower.contains(handler), "{page}: {handler}");
        }
    }
}

#[test]
fn the_policy_lets_pages_call_a_booking_api_on_another_origin() {
    let ws = Workspace::fresh();
    let settings = ws.path("content/site.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(
        &settings,
        text.replace("booking_api_url = \"\"", "booking_api_url = \"https://api.tiketa.example:8443/v1/\""),
    )
    .unwrap();
    ws.run_ok("roll", NOW);
    for page in ["index.html", "booking/index.html", "book/akira-20261124-1800/index.html"] {
        let policy = meta_policy(page, &ws.read(page));
        assert_directive(page, &policy, "connect-src", &["'self'", "https://api.tiketa.example:8443"]);
    }
}

// --- 4. Reading content is bounded ----------------------------------------------------------

#[test]
fn a_film_file_over_the_size_limit_is_refused_naming_size_and_limit() {
    assert_refused(
        |ws| {
            let path = ws.path("content/films/akira.md");
            let mut text = std::fs::read_to_string(&path).unwrap();
            while text.len() < 2_000_000 {
                text.push_str("\nThe city pours past on both sides as if you were riding pillion.\n");
            }
            std::fs::write(&path, text).unwrap();
        },
        &["akira.md", "1.9 MiB", "1 MiB"],
    );
}

#[test]
fn a_fifo_as_a_film_fails_fast_naming_it() {
    assert_refused(|ws| mkfifo(&ws.path("content/films/x.md")), &["films/x.md", "FIFO", "regular file"]);
}

#[test]
fn a_fifo_in_place_of_site_toml_or_a_template_or_an_asset_fails_fast() {
    assert_refused(
        |ws| {
            std::fs::remove_file(ws.path("content/site.toml")).unwrap();
            mkfifo(&ws.path("content/site.toml"));
        },
        &["site.toml", "FIFO"],
    );
    assert_refused(
        |ws| {
            std::fs::remove_file(ws.path("theme/templates/film.html")).unwrap();
            mkfifo(&ws.path("theme/templates/film.html"));
        },
        &["templates/film.html", "FIFO"],
    );
    assert_refused(|ws| mkfifo(&ws.path("theme/assets/extra.css")), &["assets/extra.css", "FIFO"]);
}

#[test]
fn stray_files_the_build_does_not_use_are_never_opened() {
    let ws = Workspace::fresh();
    // Each would hang the build if it were opened for reading.
    for stray in [
        "content/notes.txt",
        "content/films/README",
        "content/films/draft.md.swp",
        "content/posters/unused.png",
        "content/drafts/akira.md",
        "theme/README.md",
    ] {
        mkfifo(&ws.path(stray));
    }
    // And big ones, sparse: 1 GiB on paper each. Read whole, they would cost that in memory.
    for stray in ["content/backup.tar", "content/films/akira.md.orig", "theme/screenshot.png"] {
        std::fs::File::create(ws.path(stray)).unwrap().set_len(1 << 30).unwrap();
    }
    let (out, max_rss) = run_measured(command(&ws, &["roll"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(ws.out().join("films/akira/index.html").is_file());
    assert!(max_rss < 256 << 20, "the build peaked at {} MiB: it read a stray file", max_rss >> 20);
}

// --- 5. --base-url -------------------------------------------------------------------------

#[test]
fn base_url_from_the_flag_or_the_environment_names_every_absolute_link() {
    let ws = Workspace::fresh();
    ws.run_ok("roll", NOW);
    assert!(ws.read("sitemaps/1.xml").contains("<loc>http://127.0.0.1:8080/films/akira/</loc>"));

    let out = run_or_hang({
        let mut cmd = command(&ws, &["build", "--base-url", "http://127.0.0.1:9090/"]);
        cmd.env("TIKETA_BASE_URL", "http://ignored.example");
        cmd
    });
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let film = ws.read("films/akira/index.html");
    assert!(film.contains("<link rel=\"canonical\" href=\"http://127.0.0.1:9090/films/akira/\">"), "the flag wins");
    assert!(film.contains("\"url\":\"http://127.0.0.1:9090/films/akira/\""), "JSON-LD");
    assert!(ws.read("sitemaps/1.xml").contains("<loc>http://127.0.0.1:9090/films/akira/</loc>"));
    assert!(ws.read("robots.txt").contains("Sitemap: http://127.0.0.1:9090/sitemap.xml"));
    assert!(!ws.read("index.html").contains("127.0.0.1:8080"));

    let out = run_or_hang({
        let mut cmd = command(&ws, &["build"]);
        cmd.env("TIKETA_BASE_URL", "https://tiketa.example");
        cmd
    });
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(ws.read("sitemaps/1.xml").contains("<loc>https://tiketa.example/films/akira/</loc>"));
}

#[test]
fn a_bad_base_url_is_refused_before_anything_is_built() {
    let ws = Workspace::fresh();
    for (bad, why) in [
        ("ftp://tiketa.example", "http"),
        ("tiketa.example", "http"),
        ("https://tiketa.example/?utm=x", "query"),
        ("https://tiketa.example/#top", "fragment"),
        ("https://", "host"),
        ("https://tiketa example", "character"),
        ("https://user@tiketa.example", "user"),
        ("https://tiketa.example/a\"b", "character"),
    ] {
        let out = run_or_hang(command(&ws, &["build", "--base-url", bad]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad:?} accepted");
        assert!(stderr.contains("--base-url") && stderr.contains(why), "{bad:?}: {stderr}");
        assert!(!ws.out().exists(), "{bad:?}: something was built");
    }
}
