//! HTTP correctness of the API and the static site: HEAD wherever GET works, `If-Range`,
//! `Vary`, symlink confinement and build swaps, precompressed variants, compressed API replies,
//! and the site's files under `/api/`. Through warp's test harness, plus the real binary where
//! the wire matters (HEAD on a kept-alive connection).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use booking_service::{App, Config, routes::routes, server};
use clap::Parser;
use common::{Fixture, NOW, SHOW, Server, booking};
use test_support::Client;
use warp::filters::BoxedFilter;
use warp::http::Response;
use warp::hyper::body::Bytes;

const ORIGIN: &str = "http://127.0.0.1:8080"; // the real site.toml's base_url
const CSS: &str = "assets/site.1a2b3c4d.css";

struct Service {
    filter: BoxedFilter<(warp::reply::Response,)>,
    _app: Arc<App>,
}

async fn service(fixture: &Fixture, site: Option<&Path>) -> Service {
    let (db, content) = (fixture.db(), fixture.content());
    let mut args = vec![
        "tiketa-booking".to_string(),
        "--db".into(),
        db.display().to_string(),
        "--content".into(),
        content.display().to_string(),
        "--now".into(),
        NOW.into(),
        "--post-limit".into(),
        "0".into(),
    ];
    if let Some(site) = site {
        args.extend(["--site".into(), site.display().to_string()]);
    }
    let config = Config::try_parse_from(args).unwrap();
    let app = server::build_app(&config, "127.0.0.1:8080".parse().unwrap()).await.unwrap();
    Service { filter: routes(app.clone()).unwrap(), _app: app }
}

impl Service {
    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response<Bytes> {
        let mut request = warp::test::request().method(method).path(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.reply(&self.filter).await
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response<Bytes> {
        self.send("GET", path, headers).await
    }
}

fn header<'a>(res: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

/// The `Vary` list, lowercased.
fn vary(res: &Response<Bytes>) -> Vec<String> {
    res.headers()
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .collect()
}

/// A built site: a home page, a 404 page, a stylesheet with both precompressed variants, a
/// 100-byte file for ranges, and `/api/schedule.json`.
fn site(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("assets")).unwrap();
    std::fs::create_dir_all(root.join("api")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><title>home</title>").unwrap();
    std::fs::write(root.join("404.html"), "<!doctype html><title>lost</title>").unwrap();
    std::fs::write(root.join(CSS), "body{color:black}").unwrap();
    std::fs::write(root.join(format!("{CSS}.br")), "brotli bytes").unwrap();
    std::fs::write(root.join(format!("{CSS}.gz")), gzip(b"body{color:black}")).unwrap();
    std::fs::write(root.join("hundred.txt"), (0..100u8).map(|i| b'a' + i % 26).collect::<Vec<_>>()).unwrap();
    std::fs::write(root.join("api/schedule.json"), r#"{"schedule":[]}"#).unwrap();
    root.to_path_buf()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

#[tokio::test]
async fn head_answers_like_get_without_a_body_wherever_get_works() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    let s = service(&f, Some(&dist)).await;
    let res = warp::test::request()
        .method("POST")
        .path(&format!("/api/showtimes/{SHOW}/bookings"))
        .header("content-type", "application/json")
        .body(booking("Ana", &["A1"]))
        .reply(&s.filter)
        .await;
    let b: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
    let manage =
        format!("/api/bookings/{}?token={}", b["reference"].as_str().unwrap(), b["manage_token"].as_str().unwrap());
    for (path, headers) in [
        ("/api/health", &[][..]),
        ("/api/showtimes", &[][..]),
        ("/api/showtimes", &[("accept-encoding", "gzip")][..]),
        (&format!("/api/showtimes/{SHOW}/seats"), &[][..]),
        ("/api/openapi.json", &[("origin", ORIGIN)][..]),
        (&manage, &[][..]),
        ("/api/nope", &[][..]),
        ("/", &[][..]),
        (CSS, &[("accept-encoding", "br")][..]),
        ("/hundred.txt", &[("range", "bytes=0-9")][..]),
        ("/films/nope/", &[][..]),
        ("/api/schedule.json", &[][..]),
    ] {
        let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
        let get = s.get(&path, headers).await;
        let head = s.send("HEAD", &path, headers).await;
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert!(head.body().is_empty(), "HEAD {path} has a body");
        let mut get_headers = get.headers().clone();
        let mut head_headers = head.headers().clone();
        let length = head_headers.remove("content-length");
        assert_eq!(
            length.and_then(|l| l.to_str().ok()?.parse::<usize>().ok()),
            Some(get.body().len()),
            "HEAD {path}: the length GET sends"
        );
        get_headers.remove("content-length");
        assert_eq!(head_headers, get_headers, "HEAD {path}: the headers GET sends");
    }
}

#[test]
fn head_on_the_wire_sends_no_body_and_the_connection_stays_usable() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    let server = Server::start(&f, &["--site", dist.to_str().unwrap()]);
    let conn = Client::new(server.addr);
    for path in ["/api/health", "/api/showtimes", "/", "/hundred.txt"] {
        let head = conn.send("HEAD", path, &[], None).unwrap();
        assert_eq!(head.status, 200, "HEAD {path}");
        let length: usize = head.header("content-length").expect("a length").parse().unwrap();
        // The next reply on the same connection parses only if HEAD sent no body bytes.
        let get = conn.send("GET", path, &[], None).unwrap();
        assert_eq!((get.status, get.body.len()), (200, length), "GET {path} after HEAD");
    }
}

#[tokio::test]
async fn if_range_gets_the_range_only_when_it_matches() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    let s = service(&f, Some(&dist)).await;
    let full = s.get("/hundred.txt", &[]).await;
    assert_eq!(full.status(), 200);
    assert_eq!(header(&full, "accept-ranges"), Some("bytes"));
    let etag = header(&full, "etag").unwrap().to_string();
    let date = header(&full, "last-modified").unwrap().to_string();
    assert!(etag.starts_with('"'), "a strong validator: {etag}");

    let part = s.get("/hundred.txt", &[("range", "bytes=10-19")]).await;
    assert_eq!(part.status(), 206);
    assert_eq!(part.body().as_ref(), &full.body()[10..20]);
    assert_eq!(header(&part, "content-range"), Some("bytes 10-19/100"));

    for matching in [etag.as_str(), date.as_str()] {
        let res = s.get("/hundred.txt", &[("range", "bytes=10-19"), ("if-range", matching)]).await;
        assert_eq!((res.status().as_u16(), res.body().len()), (206, 10), "If-Range: {matching}");
    }
    let later =
        httpdate::fmt_http_date(httpdate::parse_http_date(&date).unwrap() + std::time::Duration::from_secs(86_400));
    for stale in ["\"0-0\"", &format!("W/{etag}"), "Tue, 01 Jan 2002 00:00:00 GMT", &later, "nonsense"] {
        let res = s.get("/hundred.txt", &[("range", "bytes=10-19"), ("if-range", stale)]).await;
        assert_eq!(res.status(), 200, "If-Range: {stale}");
        assert_eq!(res.body(), full.body(), "If-Range: {stale}: the whole file");
    }
    let res = s.get("/hundred.txt", &[("range", "bytes=100-")]).await;
    assert_eq!(res.status(), 416);
    assert_eq!(header(&res, "content-range"), Some("bytes */100"));
    assert_eq!(s.get("/hundred.txt", &[("range", "bytes=0-1,5-6")]).await.status(), 200, "several ranges: all");

    let not_modified = s.get("/hundred.txt", &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status(), 304);
    assert!(not_modified.body().is_empty());
    assert_eq!(s.get("/hundred.txt", &[("if-modified-since", &date)]).await.status(), 304);
    let changed = s.get("/hundred.txt", &[("if-unmodified-since", "Tue, 01 Jan 2002 00:00:00 GMT")]).await;
    assert_eq!(changed.status(), 412);
}

#[tokio::test]
async fn cacheable_replies_that_reflect_an_origin_vary_by_origin() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    let s = service(&f, Some(&dist)).await;
    for path in ["/api/openapi.json", "/", "/api/health", "/api/nope"] {
        let res = s.get(path, &[("origin", ORIGIN)]).await;
        assert_eq!(header(&res, "access-control-allow-origin"), Some(ORIGIN), "{path}");
        assert!(vary(&res).contains(&"origin".to_string()), "{path}: Vary {:?}", vary(&res));
        // The same URL without an Origin must not be served from that cached copy.
        let plain = s.get(path, &[]).await;
        assert!(vary(&plain).contains(&"origin".to_string()), "{path} without Origin: Vary {:?}", vary(&plain));
    }
    assert!(header(&s.get("/api/openapi.json", &[]).await, "cache-control").unwrap().contains("max-age"));
}

#[tokio::test]
async fn precompressed_variants_are_served_when_accepted() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    let s = service(&f, Some(&dist)).await;
    let path = format!("/{CSS}");

    let br = s.get(&path, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
    assert_eq!(br.status(), 200);
    assert_eq!(br.body().as_ref(), b"brotli bytes");
    assert_eq!(header(&br, "content-encoding"), Some("br"));
    assert!(header(&br, "content-type").unwrap().starts_with("text/css"), "the original's type");
    assert_eq!(header(&br, "cache-control"), Some("public, max-age=31536000, immutable"), "the original's policy");
    assert!(vary(&br).contains(&"accept-encoding".to_string()));

    let gz = s.get(&path, &[("accept-encoding", "br;q=0, gzip")]).await;
    assert_eq!(header(&gz, "content-encoding"), Some("gzip"));
    assert_eq!(gunzip(gz.body()), b"body{color:black}");

    let plain = s.get(&path, &[("accept-encoding", "identity")]).await;
    assert_eq!(plain.body().as_ref(), b"body{color:black}");
    assert_eq!(header(&plain, "content-encoding"), None);
    assert!(vary(&plain).contains(&"accept-encoding".to_string()), "identity varies too");
    assert_eq!(s.get(&path, &[]).await.body().as_ref(), b"body{color:black}", "no header: identity");

    let etags: std::collections::BTreeSet<_> =
        [&br, &gz, &plain].iter().map(|r| header(r, "etag").unwrap().to_string()).collect();
    assert_eq!(etags.len(), 3, "one ETag per variant: {etags:?}");
    let etag = header(&br, "etag").unwrap();
    let revalidated = s.get(&path, &[("accept-encoding", "br"), ("if-none-match", etag)]).await;
    assert_eq!(revalidated.status(), 304);
    assert_eq!(header(&revalidated, "content-encoding"), Some("br"));

    // Ranges come from the original.
    let part = s.get(&path, &[("accept-encoding", "br"), ("range", "bytes=0-3")]).await;
    assert_eq!((part.status().as_u16(), part.body().as_ref()), (206, b"body".as_ref()));
    assert_eq!(header(&part, "content-encoding"), None);

    // A variant asked for by name is a file like any other.
    let literal = s.get(&format!("{path}.gz"), &[("accept-encoding", "gzip")]).await;
    assert_eq!(literal.status(), 200);
    assert_eq!(header(&literal, "content-encoding"), None, "never x.gz with Content-Encoding");
    assert_eq!(literal.body().as_ref(), gzip(b"body{color:black}").as_slice());

    // No variant: the file as it is, and nothing to vary by.
    let home = s.get("/", &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(home.body().as_ref(), b"<!doctype html><title>home</title>");
    assert_eq!(header(&home, "content-encoding"), None);
    assert!(!vary(&home).contains(&"accept-encoding".to_string()));
}

#[tokio::test]
async fn large_api_replies_are_compressed_when_accepted() {
    let f = Fixture::new();
    let s = service(&f, None).await;
    for path in ["/api/showtimes".to_string(), format!("/api/showtimes/{SHOW}/seats"), "/api/openapi.json".into()] {
        let plain = s.get(&path, &[]).await;
        assert!(plain.body().len() > 1024, "{path} is large");
        assert_eq!(header(&plain, "content-encoding"), None);
        let gz = s.get(&path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(header(&gz, "content-encoding"), Some("gzip"), "{path}");
        assert!(gz.body().len() * 3 < plain.body().len(), "{path}: {} -> {}", plain.body().len(), gz.body().len());
        assert_eq!(gunzip(gz.body()), plain.body().as_ref(), "{path}");
        let br = s.get(&path, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
        assert_eq!(header(&br, "content-encoding"), Some("br"), "{path}: brotli when both are accepted");
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut br.body().as_ref(), &mut unbrotli).unwrap();
        assert_eq!(unbrotli, plain.body().as_ref(), "{path}");
        for res in [&plain, &gz, &br] {
            assert!(vary(res).contains(&"accept-encoding".to_string()), "{path}");
        }
        let refused = s.get(&path, &[("accept-encoding", "gzip;q=0, br;q=0")]).await;
        assert_eq!(header(&refused, "content-encoding"), None, "{path}: q=0 refuses");
    }
    let small = s.get("/api/health", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&small, "content-encoding"), None, "small replies are not worth it");
}

#[tokio::test]
async fn files_the_site_has_under_api_are_served_and_the_rest_is_the_apis_json_404() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    let s = service(&f, Some(&dist)).await;
    let schedule = s.get("/api/schedule.json", &[]).await;
    assert_eq!(schedule.status(), 200);
    assert_eq!(schedule.body().as_ref(), br#"{"schedule":[]}"#);
    assert_eq!(header(&schedule, "cache-control"), Some("no-cache"));
    let missing = s.get("/api/nope.json", &[]).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "content-type"), Some("application/json"), "the API's 404, not the site's page");
    assert_eq!(s.get("/api/health", &[]).await.status(), 200, "API routes come first");
    let lost = s.get("/films/nope/", &[]).await;
    assert_eq!((lost.status().as_u16(), lost.body().as_ref()), (404, b"<!doctype html><title>lost</title>".as_ref()));
    assert_eq!(s.get("/hundred.txt/", &[]).await.status(), 404, "a file is not a folder");
}

#[tokio::test]
async fn a_showtimes_calendar_file_is_served_as_a_calendar_and_revalidated() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    std::fs::create_dir_all(dist.join("book/akira-20261124-2200")).unwrap();
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
    std::fs::write(dist.join("book/akira-20261124-2200/calendar.ics"), ics).unwrap();
    let s = service(&f, Some(&dist)).await;
    let res = s.get("/book/akira-20261124-2200/calendar.ics", &[]).await;
    assert_eq!((res.status().as_u16(), res.body().as_ref()), (200, ics.as_bytes()));
    assert!(header(&res, "content-type").unwrap().starts_with("text/calendar"), "{:?}", header(&res, "content-type"));
    assert_eq!(header(&res, "cache-control"), Some("no-cache"), "its film's title may change under the same URL");
}

#[tokio::test]
async fn symlinks_never_lead_out_of_the_site() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    let outside = f.dir.path().join("secret.txt");
    std::fs::write(&outside, "bookings and emails").unwrap();
    std::fs::create_dir_all(f.dir.path().join("private")).unwrap();
    std::fs::write(f.dir.path().join("private/index.html"), "private").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dist.join("passwd")).unwrap();
    std::os::unix::fs::symlink(&outside, dist.join("secret.txt")).unwrap();
    std::os::unix::fs::symlink("../private", dist.join("private")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", dist.join("assets/site.1a2b3c4d.css.gz.br")).unwrap();
    std::os::unix::fs::symlink("hundred.txt", dist.join("alias.txt")).unwrap();
    let s = service(&f, Some(&dist)).await;
    for path in ["/passwd", "/secret.txt", "/private/", "/private/index.html", "/assets/site.1a2b3c4d.css.gz.br"] {
        let res = s.get(path, &[]).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.body().as_ref(), b"<!doctype html><title>lost</title>", "{path}");
    }
    assert_eq!(s.get("/alias.txt", &[]).await.status(), 200, "a symlink inside the site is fine");
}

#[tokio::test]
async fn a_build_swap_is_seen_by_the_next_request() {
    let f = Fixture::new();
    let builds = f.dir.path().join(".dist.builds");
    for (id, title) in [("a", "first"), ("b", "second")] {
        let root = site(&builds.join(id).join("site"));
        std::fs::write(root.join("index.html"), title).unwrap();
    }
    let dist = f.dir.path().join("dist");
    std::os::unix::fs::symlink(".dist.builds/a/site", &dist).unwrap();
    let s = service(&f, Some(&dist)).await;
    assert_eq!(s.get("/", &[]).await.body().as_ref(), b"first");
    // As the generator does it: a new symlink beside, renamed over the old one.
    let next = f.dir.path().join("dist.next");
    std::os::unix::fs::symlink(".dist.builds/b/site", &next).unwrap();
    std::fs::rename(&next, &dist).unwrap();
    assert_eq!(s.get("/", &[]).await.body().as_ref(), b"second");
    std::fs::remove_dir_all(builds.join("a")).unwrap();
    assert_eq!(s.get("/hundred.txt", &[]).await.status(), 200, "the old build can go");
}

#[tokio::test]
async fn held_files_never_outlive_their_build() {
    let f = Fixture::new();
    let builds = f.dir.path().join(".dist.builds");
    // The same paths and lengths in both builds: only the bytes tell them apart.
    for (id, text) in [("a", "first!"), ("b", "second")] {
        let root = site(&builds.join(id).join("site"));
        std::fs::write(root.join("index.html"), text).unwrap();
        std::fs::write(root.join(format!("{CSS}.br")), format!("br {text}")).unwrap();
    }
    let dist = f.dir.path().join("dist");
    std::os::unix::fs::symlink(".dist.builds/a/site", &dist).unwrap();
    let s = service(&f, Some(&dist)).await;
    let br = [("accept-encoding", "br, gzip")];
    for _ in 0..2 {
        assert_eq!(s.get("/", &[]).await.body().as_ref(), b"first!");
        assert_eq!(s.get(&format!("/{CSS}"), &br).await.body().as_ref(), b"br first!");
    }
    let next = f.dir.path().join("dist.next");
    std::os::unix::fs::symlink(".dist.builds/b/site", &next).unwrap();
    std::fs::rename(&next, &dist).unwrap();
    assert_eq!(s.get("/", &[]).await.body().as_ref(), b"second", "the first request after the swap");
    assert_eq!(s.get(&format!("/{CSS}"), &br).await.body().as_ref(), b"br second");
    // A build folder made again under a name the symlink already pointed to is another build.
    std::fs::remove_dir_all(builds.join("a")).unwrap();
    let again = site(&builds.join("a").join("site"));
    std::fs::write(again.join("index.html"), "third!").unwrap();
    std::fs::rename(&dist, &next).unwrap();
    std::os::unix::fs::symlink(".dist.builds/a/site", &dist).unwrap();
    assert_eq!(s.get("/", &[]).await.body().as_ref(), b"third!");
}

#[tokio::test]
async fn a_folder_edited_in_place_is_served_as_it_is_now() {
    let f = Fixture::new();
    let dist = site(&f.dir.path().join("dist"));
    let s = service(&f, Some(&dist)).await;
    assert_eq!(s.get("/hundred.txt", &[]).await.body().len(), 100);
    assert_eq!(s.get("/hundred.txt", &[]).await.body().len(), 100, "held now");
    std::fs::write(dist.join("hundred.txt"), "edited").unwrap();
    let res = s.get("/hundred.txt", &[]).await;
    assert_eq!((res.status().as_u16(), res.body().as_ref()), (200, &b"edited"[..]));
    std::fs::remove_file(dist.join("hundred.txt")).unwrap();
    assert_eq!(s.get("/hundred.txt", &[]).await.status(), 404, "a deleted file is gone at once");
}

#[tokio::test]
async fn a_deleted_site_answers_503_saying_so_and_the_api_keeps_working() {
    let f = Fixture::new();
    let builds = f.dir.path().join(".dist.builds");
    site(&builds.join("1").join("site"));
    let dist = f.dir.path().join("dist");
    std::os::unix::fs::symlink(".dist.builds/1/site", &dist).unwrap();
    let s = service(&f, Some(&dist)).await;
    assert_eq!(s.get("/", &[]).await.status(), 200);
    std::fs::remove_dir_all(&builds).unwrap();
    std::fs::remove_file(&dist).unwrap();
    for path in ["/", "/index.html", "/no/such/page"] {
        let res = s.get(path, &[]).await;
        assert_eq!(res.status(), 503, "{path}");
        assert_eq!(header(&res, "content-type"), Some("text/plain; charset=utf-8"));
        let text = String::from_utf8(res.body().to_vec()).unwrap();
        assert!(text.contains("tiketa-gen roll"), "says what to do: {text}");
    }
    assert_eq!(s.get("/api/showtimes", &[]).await.status(), 200, "the API does not need the site");
    site(&builds.join("2").join("site"));
    std::os::unix::fs::symlink(".dist.builds/2/site", &dist).unwrap();
    assert_eq!(s.get("/", &[]).await.body().as_ref(), b"<!doctype html><title>home</title>", "published again");
}
