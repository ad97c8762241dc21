//! The API through warp's test harness: every route, status, error body and CORS header.

mod common;

use std::collections::BTreeSet;

use booking_service::api;
use common::in_process::{Api, api, body};
use common::{Fixture, SHOW, booking};
use serde_json::{Value, json};
use warp::http::Response;
use warp::hyper::body::Bytes;

const ORIGIN: &str = "http://127.0.0.1:8080"; // the real site.toml's base_url

fn header<'a>(res: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Asserts the error shape and returns the body.
fn error(res: &Response<Bytes>, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status, "{:?}", res.body());
    let b = body(res);
    assert_eq!(b["error"]["code"], code, "{b}");
    assert!(b["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{b}");
    assert_eq!(header(res, "content-type"), Some("application/json"));
    b
}

impl Api {
    async fn get(&self, path: &str) -> Response<Bytes> {
        warp::test::request().path(path).reply(&self.filter).await
    }

    async fn post(&self, path: &str, body: &[u8]) -> Response<Bytes> {
        warp::test::request()
            .method("POST")
            .path(path)
            .header("content-type", "application/json")
            .body(body)
            .reply(&self.filter)
            .await
    }

    async fn book(&self, seats: &[&str]) -> Response<Bytes> {
        self.post(&format!("/api/showtimes/{SHOW}/bookings"), &booking("Ana Lima", seats)).await
    }
}

#[tokio::test]
async fn health_answers_ok_with_security_headers() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let res = api.get("/api/health").await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(&res), json!({"status": "ok"}));
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
    assert_eq!(header(&res, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&res, "x-frame-options"), Some("DENY"));
    assert!(header(&res, "content-security-policy").unwrap().contains("default-src 'none'"));
    assert!(header(&res, "referrer-policy").is_some());
}

#[tokio::test]
async fn health_fails_when_the_database_is_unreachable() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    // Read connections open on first use; none has been used yet. Put a folder where the
    // database was, so the next connection cannot open it.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", f.db().display()));
    }
    std::fs::create_dir(f.db()).unwrap();
    error(&api.get("/api/health").await, 503, "store_unavailable");
}

#[tokio::test]
async fn a_closed_store_answers_bookings_and_health_with_503_and_retry_after() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    assert_eq!(api.book(&["A1"]).await.status(), 201);
    api.app.desk.store().close().await.unwrap();

    let res = api.book(&["A2"]).await;
    let b = error(&res, 503, "store_unavailable");
    let retry: u64 = header(&res, "retry-after").expect("a Retry-After header").parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(b["error"]["retry_after"], retry, "{b}");
    let message = b["error"]["message"].as_str().unwrap();
    let dir = f.dir.path().to_str().unwrap();
    for leak in [dir, "tiketa.db", ".db", "/", "SELECT", "INSERT", "sqlite", "SQLite", "database error"] {
        assert!(!message.contains(leak), "the message leaks {leak:?}: {message}");
    }

    let res = api.get("/api/health").await;
    let b = error(&res, 503, "store_unavailable");
    assert!(header(&res, "retry-after").is_some());
    assert_eq!(b["status"], "unavailable", "{b}");
    assert!(b["reason"].as_str().is_some_and(|r| r.contains("stopping")), "the reason says why: {b}");
    assert!(!b.to_string().contains(dir), "{b}");
}

#[tokio::test]
async fn showtimes_lists_the_live_horizon_with_free_seats() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    api.book(&["A1", "A2"]).await;
    let res = api.get("/api/showtimes?limit=500").await;
    assert_eq!(res.status(), 200);
    let list = body(&res)["showtimes"].as_array().unwrap().clone();
    assert_eq!(list.len(), f.showtimes().len());
    let show = list.iter().find(|s| s["id"] == SHOW).unwrap();
    assert_eq!(show["film"], json!({"slug": "aurora", "title": "Aurora"}));
    assert_eq!(show["studio"], 1);
    assert_eq!(show["seats_total"], 216);
    assert_eq!(show["seats_free"], 214);
    assert_eq!(show["starts_at"], "2030-01-10T03:00:00Z");
}

/// Reads every page of `query` (its `limit` a page) by following `next_cursor`: the ids listed,
/// in order. Each page holds at most `limit`, none is empty but a first one of an empty list.
async fn walk_showtimes(api: &Api, query: &str, limit: usize) -> Vec<Value> {
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..=1000 {
        let after = cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let res = api.get(&format!("/api/showtimes?{query}&limit={limit}{after}")).await;
        assert_eq!(res.status(), 200, "{:?}", res.body());
        let page = body(&res);
        let showtimes = page["showtimes"].as_array().unwrap();
        assert!(showtimes.len() <= limit, "{query}: {} over the limit {limit}", showtimes.len());
        assert!(!showtimes.is_empty() || cursor.is_none(), "{query}: a cursor never leads to an empty page");
        listed.extend(showtimes.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(showtimes.len(), limit, "only a full page has a next one");
                cursor = Some(next.to_string());
            }
            None => {
                assert!(page["next_cursor"].is_null(), "{page}");
                return listed;
            }
        }
    }
    panic!("{query}: the cursors never end");
}

fn ids(showtimes: &[Value]) -> Vec<&str> {
    showtimes.iter().map(|s| s["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn showtimes_come_in_pages_whose_cursors_walk_every_one_once_in_order() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    api.book(&["A1", "A2"]).await;
    let store = f.store();
    let mut expected = store.run(|s| s.live_showtimes(common::now())).unwrap();
    expected.sort_by(|a, b| (a.starts_at, a.id.as_str()).cmp(&(b.starts_at, b.id.as_str())));
    let expected: Vec<&str> = expected.iter().map(|s| s.id.as_str()).collect();
    let n = expected.len();
    assert!(n > 10, "{n}");
    for limit in [1, 2, 7, n - 1, n, n + 1, 500] {
        let walked = walk_showtimes(&api, "", limit).await;
        assert_eq!(ids(&walked), expected, "limit {limit}: each live showtime once, by start then id");
        let show = walked.iter().find(|s| s["id"] == SHOW).unwrap();
        assert_eq!(show["seats_free"], 214, "each with its free seats");
    }
    let first = body(&api.get("/api/showtimes").await);
    assert_eq!(first["showtimes"].as_array().unwrap().len(), n.min(100), "100 unless limit says otherwise");
}

#[tokio::test]
async fn showtimes_are_filtered_by_film_and_by_day_in_the_cinemas_zone() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let film = walk_showtimes(&api, "film=aurora", 5).await;
    assert!(film.len() > 5 && film.iter().all(|s| s["film"]["slug"] == "aurora"), "{film:?}");
    assert_eq!(ids(&film).iter().filter(|id| id.starts_with("aurora-")).count(), film.len());
    // 2030-01-11 in Jakarta (UTC+7): from 17:00 UTC on the 10th to 17:00 UTC on the 11th.
    let day = walk_showtimes(&api, "date=2030-01-11", 50).await;
    assert!(!day.is_empty());
    for s in &day {
        let starts = s["starts_at"].as_str().unwrap();
        assert!(("2030-01-10T17:00:00Z".."2030-01-11T17:00:00Z").contains(&starts), "{starts}");
    }
    let all = walk_showtimes(&api, "", 500).await;
    let on_day = all.iter().filter(|s| s["id"].as_str().unwrap().contains("-20300111-")).count();
    assert_eq!(day.len(), on_day, "every showtime of the local day (its id names the local date)");
    let both = walk_showtimes(&api, "film=aurora&date=2030-01-11", 2).await;
    assert!(!both.is_empty() && ids(&both).iter().all(|id| id.starts_with("aurora-20300111-")), "{both:?}");
    assert!(walk_showtimes(&api, "film=nope", 10).await.is_empty(), "an unknown film is an empty list");
}

#[tokio::test]
async fn showtimes_refuse_a_bad_limit_cursor_or_date_saying_how_to_write_it() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    for bad in ["limit=0", "limit=501", "limit=ten", "limit=-3"] {
        let b = error(&api.get(&format!("/api/showtimes?{bad}")).await, 400, "invalid_limit");
        assert!(b["error"]["message"].as_str().unwrap().contains("1 to 500"), "{b}");
    }
    for bad in ["cursor=garbage", "cursor=12_AURORA", "cursor=_aurora-20300110-1000", "cursor=1.5_a"] {
        let b = error(&api.get(&format!("/api/showtimes?{bad}")).await, 400, "invalid_cursor");
        assert!(b["error"]["message"].as_str().unwrap().contains("next_cursor"), "{b}");
    }
    error(&api.get("/api/showtimes?date=2030-02-30").await, 422, "invalid_date");
}

#[tokio::test]
async fn seats_shows_the_map_and_taken_ids_but_nothing_personal() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let res = api.get(&format!("/api/showtimes/{SHOW}/seats")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
    let b = body(&res);
    assert_eq!(b["taken"], json!([]));
    assert_eq!(b["showtime"]["id"], SHOW);
    assert_eq!(b["seat_map"]["seat_count"], 216);
    let rows = b["seat_map"]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["cells"][9]["kind"], "gap", "aisles are included");
    assert!(rows.iter().any(|r| r["walkway"] == true));
    assert!(rows.iter().flat_map(|r| r["cells"].as_array().unwrap()).any(|c| c["kind"] == "wheelchair"));

    assert_eq!(api.book(&["F7", "F8"]).await.status(), 201);
    let res = api.get(&format!("/api/showtimes/{SHOW}/seats")).await;
    let b = body(&res);
    assert_eq!(b["taken"], json!(["F7", "F8"]));
    let text = String::from_utf8_lossy(res.body());
    assert!(!text.contains("Ana") && !text.contains("TK-"), "no booker data in a seat map");

    error(&api.get("/api/showtimes/nope-20300110-1000/seats").await, 404, "showtime_not_found");
    error(&api.get("/api/showtimes/..%2F..%2Fetc/seats").await, 404, "showtime_not_found");
}

#[tokio::test]
async fn started_showtimes_are_gone() {
    let f = Fixture::new();
    let later = api(&f, &["--now", "2030-01-10T10:30:00+07:00"]).await;
    error(&later.get(&format!("/api/showtimes/{SHOW}/seats")).await, 410, "showtime_closed");
    error(&later.book(&["A1"]).await, 410, "showtime_closed");
}

#[tokio::test]
async fn booking_returns_201_with_reference_and_token_and_conflicts_name_the_seats() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let res = api
        .post(
            &format!("/api/showtimes/{SHOW}/bookings"),
            br#"{"name":"  Ana Lima ","email":"ana@example.com","seats":["F7","F8"]}"#,
        )
        .await;
    assert_eq!(res.status(), 201, "{:?}", res.body());
    let b = body(&res);
    let reference = b["reference"].as_str().unwrap();
    assert!(reference.len() == 12 && reference.starts_with("TK-"), "{reference}");
    assert_eq!(b["manage_token"].as_str().unwrap().len(), 32);
    assert_eq!(b["seats"], json!(["F7", "F8"]));
    assert_eq!(b["name"], "Ana Lima");
    assert_eq!(b["status"], "active");
    assert_eq!(b["showtime"]["id"], SHOW);
    assert_eq!(header(&res, "location"), Some(format!("/api/bookings/{reference}").as_str()));

    let b = error(&api.book(&["F9", "F8", "F7"]).await, 409, "seats_taken");
    assert_eq!(b["error"]["seats"], json!(["F8", "F7"]));
    assert_eq!(f.count("SELECT count(*) FROM booking_seats WHERE seat = 'F9'"), 0, "all or nothing");
}

#[tokio::test]
async fn every_request_error_has_its_status_and_code() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let path = format!("/api/showtimes/{SHOW}/bookings");
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (booking("Ana", &[]), 422, "no_seats"),
        (booking("Ana", &["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9"]), 422, "too_many_seats"),
        (booking("Ana", &["A1", "A1"]), 422, "duplicate_seats"),
        (booking("Ana", &["K1", "A1"]), 422, "unknown_seats"),
        (booking("   ", &["A1"]), 422, "invalid_name"),
        (booking(&"x".repeat(81), &["A1"]), 422, "invalid_name"),
        (booking("Ana\u{0}", &["A1"]), 422, "invalid_name"),
        (booking("\u{200B}\u{3164}\u{2800}", &["A1"]), 422, "invalid_name"),
        (booking("\u{202E}anA", &["A1"]), 422, "invalid_name"),
        (booking(&"👍🏽".repeat(81), &["A1"]), 422, "invalid_name"),
        (br#"{"name":"Ana","email":"not-an-email","seats":["A1"]}"#.to_vec(), 422, "invalid_email"),
        (b"not json".to_vec(), 400, "invalid_json"),
        (br#"{"name":"Ana","seat":["A1"]}"#.to_vec(), 400, "invalid_json"),
        (br#"{"name":"Ana","seats":"A1"}"#.to_vec(), 400, "invalid_json"),
    ];
    for (body, status, code) in cases {
        let b = error(&api.post(&path, &body).await, status, code);
        if code == "unknown_seats" {
            assert_eq!(b["error"]["seats"], json!(["K1"]));
        }
    }
    // Wrong or missing content type.
    let res = warp::test::request().method("POST").path(&path).body(booking("Ana", &["A1"])).reply(&api.filter).await;
    error(&res, 415, "unsupported_media_type");
    let res = warp::test::request()
        .method("POST")
        .path(&path)
        .header("content-type", "text/plain")
        .body(booking("Ana", &["A1"]))
        .reply(&api.filter)
        .await;
    error(&res, 415, "unsupported_media_type");
    // Over 16 KiB.
    let big = format!(r#"{{"name":"{}","seats":["A1"]}}"#, "x".repeat(17 * 1024));
    error(&api.post(&path, big.as_bytes()).await, 413, "payload_too_large");
    // Unknown showtime.
    error(
        &api.post("/api/showtimes/nope-20300110-1000/bookings", &booking("Ana", &["A1"])).await,
        404,
        "showtime_not_found",
    );
    assert_eq!(f.count("SELECT count(*) FROM bookings"), 0);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_original_201() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let path = format!("/api/showtimes/{SHOW}/bookings");
    let send = |key: &'static str, seats: &'static [&'static str]| {
        warp::test::request()
            .method("POST")
            .path(&path)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(booking("Ana", seats))
            .reply(&api.filter)
    };
    let first = send("retry-1", &["C3"]).await;
    let again = send("retry-1", &["C3"]).await;
    assert_eq!((first.status().as_u16(), again.status().as_u16()), (201, 201));
    assert_eq!(body(&first), body(&again));
    assert_eq!(header(&first, "idempotent-replayed"), None);
    assert_eq!(header(&again, "idempotent-replayed"), Some("true"));
    assert_eq!(f.count("SELECT count(*) FROM bookings"), 1);
    error(&send("retry-1", &["C4"]).await, 422, "idempotency_key_reused");
    error(&send("has space", &["C4"]).await, 400, "invalid_idempotency_key");
}

#[tokio::test]
async fn a_booking_opens_with_its_token_only_and_cancelling_frees_its_seats() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let b = body(&api.book(&["D1", "D2"]).await);
    let (reference, token) = (b["reference"].as_str().unwrap(), b["manage_token"].as_str().unwrap());
    let url = format!("/api/bookings/{reference}");

    let by_header = warp::test::request().path(&url).header("x-manage-token", token).reply(&api.filter).await;
    assert_eq!(by_header.status(), 200);
    let shown = body(&by_header);
    assert_eq!(shown["seats"], json!(["D1", "D2"]));
    assert!(shown.get("manage_token").is_none(), "the token is shown only once");
    let by_query = api.get(&format!("{url}?token={token}")).await;
    assert_eq!(by_query.status(), 200);

    // A wrong token and an unknown reference look the same.
    let wrong = "0".repeat(32);
    let a = error(&api.get(&format!("{url}?token={wrong}")).await, 404, "booking_not_found");
    let b2 = error(&api.get(&format!("/api/bookings/TK-2222-2222?token={token}")).await, 404, "booking_not_found");
    assert_eq!(a, b2);
    error(&api.get(&url).await, 404, "booking_not_found");
    let res = warp::test::request().method("DELETE").path(&format!("{url}?token={wrong}")).reply(&api.filter).await;
    error(&res, 404, "booking_not_found");

    let res =
        warp::test::request().method("DELETE").path(&url).header("x-manage-token", token).reply(&api.filter).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(&res)["status"], "cancelled");
    let seats = body(&api.get(&format!("/api/showtimes/{SHOW}/seats")).await);
    assert_eq!(seats["taken"], json!([]), "freed at once");
    assert_eq!(api.book(&["D1"]).await.status(), 201, "and bookable again");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_json() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    error(&api.get("/api/nope").await, 404, "not_found");
    error(&api.get("/api/showtimes/x/nope").await, 404, "not_found");
    error(&api.get("/elsewhere").await, 404, "not_found");
    let res = api.post("/api/health", b"{}").await;
    error(&res, 405, "method_not_allowed");
    assert_eq!(header(&res, "allow"), Some("GET, HEAD"));
    let res = warp::test::request().method("PUT").path("/api/bookings/TK-2222-2222").reply(&api.filter).await;
    error(&res, 405, "method_not_allowed");
    assert_eq!(header(&res, "allow"), Some("GET, HEAD, DELETE"));
    error(&api.get(&format!("/api/showtimes/{SHOW}/bookings")).await, 405, "method_not_allowed");
}

#[tokio::test]
async fn cors_headers_are_on_successes_and_errors_for_the_allowed_origin_only() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    for (method, path, status) in [("GET", "/api/health", 200), ("GET", "/api/nope", 404), ("PUT", "/api/health", 405)]
    {
        let res = warp::test::request().method(method).path(path).header("origin", ORIGIN).reply(&api.filter).await;
        assert_eq!(res.status(), status);
        assert_eq!(header(&res, "access-control-allow-origin"), Some(ORIGIN), "{method} {path}");
    }
    api.book(&["E5"]).await;
    let res = warp::test::request()
        .method("POST")
        .path(&format!("/api/showtimes/{SHOW}/bookings"))
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .body(booking("Ana", &["E5"]))
        .reply(&api.filter)
        .await;
    error(&res, 409, "seats_taken");
    assert_eq!(header(&res, "access-control-allow-origin"), Some(ORIGIN));

    let preflight = warp::test::request()
        .method("OPTIONS")
        .path(&format!("/api/showtimes/{SHOW}/bookings"))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, idempotency-key")
        .reply(&api.filter)
        .await;
    assert_eq!(preflight.status(), 200);
    assert_eq!(header(&preflight, "access-control-allow-origin"), Some(ORIGIN));
    assert!(header(&preflight, "access-control-allow-methods").unwrap().contains("POST"));

    let res =
        warp::test::request().path("/api/health").header("origin", "https://evil.example").reply(&api.filter).await;
    error(&res, 403, "cors_forbidden");
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    assert_eq!(header(&res, "x-content-type-options"), Some("nosniff"), "security headers on refusals too");
}

#[tokio::test]
async fn too_many_posts_from_one_address_get_429_with_retry_after() {
    let f = Fixture::new();
    let api = api(&f, &["--post-limit", "1", "--post-burst", "2"]).await;
    let post = |ip: &str, seat: &'static str| {
        warp::test::request()
            .method("POST")
            .path(&format!("/api/showtimes/{SHOW}/bookings"))
            .remote_addr(format!("{ip}:5000").parse().unwrap())
            .header("content-type", "application/json")
            .body(booking("Ana", &[seat]))
            .reply(&api.filter)
    };
    assert_eq!(post("10.0.0.1", "A1").await.status(), 201);
    assert_eq!(post("10.0.0.1", "A2").await.status(), 201);
    let res = post("10.0.0.1", "A3").await;
    let b = error(&res, 429, "rate_limited");
    let retry: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(b["error"]["retry_after"], retry);
    assert_eq!(post("10.0.0.2", "A3").await.status(), 201, "other clients are not affected");
    // GETs are not limited.
    assert_eq!(api.get("/api/health").await.status(), 200);
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let res = api.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc = body(&res);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routes: BTreeSet<(String, String)> = api::ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, routes);

    // Every documented route answers (no 404 from the router, no 405).
    for (method, template) in api::ROUTES {
        let path = template.replace("{id}", SHOW).replace("{reference}", "TK-2222-2222");
        if template.ends_with("/events") {
            // A stream never ends by itself: only its status is read.
            let res = warp::test::request().path(&path).filter(&api.filter).await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert!(doc["paths"][template]["get"]["responses"]["200"].is_object());
            continue;
        }
        let res = warp::test::request()
            .method(method)
            .path(&path)
            .header("content-type", "application/json")
            .body(booking("Ana", &["B2"]))
            .reply(&api.filter)
            .await;
        assert_ne!(res.status(), 405, "{method} {path}");
        if res.status() == 404 {
            assert_eq!(body(&res)["error"]["code"], "booking_not_found", "{method} {path}");
        }
        // Every status a route answers is documented for it.
        let op = &doc["paths"][template][method.to_lowercase()];
        assert!(
            op["responses"][res.status().as_str()].is_object(),
            "{method} {template}: {} undocumented",
            res.status()
        );
    }
    // The error codes and input constraints are held to the code by the unit tests in
    // src/api/openapi.rs.
}

#[tokio::test]
async fn the_built_site_is_served_with_cache_headers_and_a_404_page() {
    let f = Fixture::new();
    let dist = f.dir.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::create_dir_all(dist.join("films/akira")).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>home</title>").unwrap();
    std::fs::write(dist.join("404.html"), "<!doctype html><title>lost</title>").unwrap();
    std::fs::write(dist.join("films/akira/index.html"), "<!doctype html><title>akira</title>").unwrap();
    std::fs::write(dist.join("assets/site.1a2b3c4d.css"), "body{}").unwrap();
    let api = api(&f, &["--site", dist.to_str().unwrap()]).await;

    let home = api.get("/").await;
    assert_eq!(home.status(), 200);
    assert!(header(&home, "content-type").unwrap().starts_with("text/html"));
    assert_eq!(header(&home, "cache-control"), Some("no-cache"));
    assert!(header(&home, "content-security-policy").unwrap().contains("frame-src https://www.youtube-nocookie.com"));
    let film = api.get("/films/akira/").await;
    assert_eq!((film.status().as_u16(), film.body().as_ref()), (200, b"<!doctype html><title>akira</title>".as_ref()));
    let css = api.get("/assets/site.1a2b3c4d.css").await;
    assert_eq!(css.status(), 200);
    assert!(header(&css, "content-type").unwrap().starts_with("text/css"));
    assert_eq!(header(&css, "cache-control"), Some("public, max-age=31536000, immutable"));
    let lost = api.get("/films/nope/").await;
    assert_eq!(lost.status(), 404);
    assert_eq!(lost.body().as_ref(), b"<!doctype html><title>lost</title>");
    let escape = api.get("/../etc/passwd").await;
    assert_eq!(escape.status(), 404);
    assert_eq!(escape.body().as_ref(), b"<!doctype html><title>lost</title>", "never a file outside the site");
    // The API keeps its JSON errors beside the site.
    error(&api.get("/api/nope").await, 404, "not_found");
    error(&api.post("/api/health", b"").await, 405, "method_not_allowed");
    assert_eq!(api.get("/api/health").await.status(), 200);
}
