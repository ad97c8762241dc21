//! `tiketa-gen serve`: the real binary serves the site and tells open pages to reload after
//! an edit.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{NOW, Workspace};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn an_edit_rebuilds_and_reloads_the_open_page() {
    let ws = Workspace::fresh();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiketa-gen"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--now", NOW])
        .args(["--content", ws.path("content").to_str().unwrap()])
        .args(["--theme", ws.path("theme").to_str().unwrap()])
        .args(["--out", ws.out().to_str().unwrap()])
        .args(["--db", ws.path("var/tiketa.db").to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let server = Server(child);
    let addr = loop {
        let line = lines.next().expect("serve exited early").unwrap();
        if let Some(url) = line.split("http://").nth(1) {
            break url.split_whitespace().next().unwrap().to_string();
        }
    };
    // Wait for the first build before looking at pages.
    for line in lines.by_ref() {
        if line.unwrap().starts_with("watching") {
            break;
        }
    }

    let index = get(&addr, "/");
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("<script src=\"/__livereload.js\"></script>"), "the served page carries the reload hook");
    // As a script file: the page's Content-Security-Policy (script-src 'self') forbids inline script.
    assert!(index.contains("script-src 'self'") || index.contains("script-src &#39;self&#39;"), "{index}");
    let script = get(&addr, "/__livereload.js");
    assert!(script.starts_with("HTTP/1.1 200") && script.contains("text/javascript"), "{script}");
    assert!(script.contains("new EventSource(\"/__livereload\")"), "{script}");
    assert!(
        !std::fs::read_to_string(ws.out().join("index.html")).unwrap().contains("__livereload"),
        "the built file does not"
    );
    assert!(get(&addr, "/films/akira/").contains("Akira"));
    assert!(get(&addr, "/no/such/page/").starts_with("HTTP/1.1 404"));

    let mut events = TcpStream::connect(&addr).unwrap();
    write!(events, "GET /__livereload HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    events.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let film = ws.path("content/films/akira.md");
    let text = std::fs::read_to_string(&film).unwrap();
    std::fs::write(&film, text.replace("title = \"Akira\"", "title = \"Akira (restored)\"")).unwrap();

    let started = Instant::now();
    let mut seen = String::new();
    let mut buf = [0u8; 1024];
    while !seen.contains("event:reload") && !seen.contains("event: reload") {
        let n = events.read(&mut buf).expect("no reload event within 10 s of the edit");
        assert!(n > 0, "the event stream closed: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(get(&addr, "/films/akira/").contains("Akira (restored)"), "the page shows the edit");
    drop(server);
}
