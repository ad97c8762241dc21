//! The hold routes through warp's test harness: shapes, statuses, the rate limit, tokens, and
//! bookings with and without a hold token; `held` in the seat map; `?film=`; CORS for DELETE.

mod common;

use common::in_process::{Api, api, body};
use common::{Fixture, SHOW};
use serde_json::{Value, json};
use warp::http::Response;
use warp::hyper::body::Bytes;

/// Asserts the error shape and returns the body.
fn error(res: &Response<Bytes>, status: u16, code: &str) -> Value {
    let b = body(res);
    assert_eq!((res.status().as_u16(), &b["error"]["code"]), (status, &json!(code)), "{b}");
    assert!(b["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{b}");
    b
}

impl Api {
    async fn send(&self, method: &str, path: &str, body: Value) -> Response<Bytes> {
        warp::test::request()
            .method(method)
            .path(path)
            .remote_addr("10.0.0.1:5000".parse().unwrap())
            .header("content-type", "application/json")
            .body(body.to_string())
            .reply(&self.filter)
            .await
    }

    async fn hold(&self, body: Value) -> Response<Bytes> {
        self.send("POST", &format!("/api/showtimes/{SHOW}/holds"), body).await
    }

    async fn release(&self, body: Value) -> Response<Bytes> {
        self.send("DELETE", &format!("/api/showtimes/{SHOW}/holds"), body).await
    }

    async fn book(&self, seats: &[&str], hold_token: Option<&str>) -> Response<Bytes> {
        let mut request = json!({"name": "Ana Lima", "seats": seats});
        if let Some(token) = hold_token {
            request["hold_token"] = json!(token);
        }
        self.send("POST", &format!("/api/showtimes/{SHOW}/bookings"), request).await
    }

    async fn seat_map(&self) -> Value {
        body(&warp::test::request().path(&format!("/api/showtimes/{SHOW}/seats")).reply(&self.filter).await)
    }
}

/// A hold reply's token, after checking the reply's shape.
fn token_of(res: &Response<Bytes>, seats: &[&str]) -> String {
    let b = body(res);
    assert_eq!(res.status(), 200, "{b}");
    assert_eq!(b["seats"], json!(seats), "{b}");
    let token = b["hold_token"].as_str().unwrap().to_string();
    assert!(token.len() == 32 && token.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{b}");
    assert_eq!(b["hold_ms"], 600_000, "hold_minutes = 10 in the real site.toml");
    if seats.is_empty() {
        assert_eq!((&b["expires_at"], &b["expires_in_ms"]), (&Value::Null, &Value::Null), "{b}");
    } else {
        // The clock is fixed (--now), so the hold has all of its ten minutes left.
        assert_eq!(b["expires_in_ms"], 600_000, "{b}");
        assert_eq!(b["expires_at"], "2030-01-09T17:10:00.000Z", "{b}");
    }
    token
}

#[tokio::test]
async fn a_hold_is_made_grown_read_and_given_back_and_others_see_it_as_held() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let first = token_of(&api.hold(json!({"seats": ["C5"]})).await, &["C5"]);
    let same = token_of(&api.hold(json!({"seats": ["C6"], "hold_token": first})).await, &["C5", "C6"]);
    assert_eq!(same, first, "adding seats keeps the token");
    let map = api.seat_map().await;
    assert_eq!((&map["taken"], &map["held"]), (&json!([]), &json!(["C5", "C6"])));

    // Another visitor can neither hold nor book a held seat, and never learns the token.
    let res = api.hold(json!({"seats": ["C6", "C7"]})).await;
    let b = error(&res, 409, "seats_held");
    assert_eq!(b["error"]["seats"], json!(["C6"]));
    assert!(!String::from_utf8_lossy(res.body()).contains(&first), "another visitor never sees the token");
    let b = error(&api.book(&["C5"], None).await, 409, "seats_held");
    assert_eq!(b["error"]["seats"], json!(["C5"]));

    // A reloaded page asks with no seats: the hold as it is.
    token_of(&api.hold(json!({"seats": [], "hold_token": first})).await, &["C5", "C6"]);
    // Giving one back, then the rest; a retry answers the same.
    token_of(&api.release(json!({"hold_token": first, "seats": ["C6"]})).await, &["C5"]);
    token_of(&api.release(json!({"hold_token": first})).await, &[]);
    token_of(&api.release(json!({"hold_token": first})).await, &[]);
    assert_eq!(api.seat_map().await["held"], json!([]));
    assert_eq!(api.book(&["C5"], None).await.status(), 201, "a seat given back is free to book");
}

#[tokio::test]
async fn booking_with_the_token_takes_the_held_seats_and_ends_the_hold() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let token = token_of(&api.hold(json!({"seats": ["D1", "D2", "D3"]})).await, &["D1", "D2", "D3"]);
    let res = api.book(&["D1", "D2"], Some(&token)).await;
    assert_eq!(res.status(), 201, "{:?}", res.body());
    let map = api.seat_map().await;
    assert_eq!((&map["taken"], &map["held"]), (&json!(["D1", "D2"]), &json!([])), "the whole hold ended");
    token_of(&api.hold(json!({"seats": [], "hold_token": token})).await, &[]);
    // A malformed token is refused before anything is kept, on every route.
    error(&api.book(&["E1"], Some("not-a-token")).await, 400, "invalid_hold_token");
    error(&api.hold(json!({"seats": ["E1"], "hold_token": "ABC"})).await, 400, "invalid_hold_token");
    error(&api.release(json!({"hold_token": "0".repeat(31)})).await, 400, "invalid_hold_token");
}

#[tokio::test]
async fn every_hold_error_has_its_status_and_code() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    assert_eq!(api.book(&["A1"], None).await.status(), 201);
    let b = error(&api.hold(json!({"seats": ["A1", "A2"]})).await, 409, "seats_taken");
    assert_eq!(b["error"]["seats"], json!(["A1"]));
    error(&api.hold(json!({"seats": ["Z99"]})).await, 422, "unknown_seats");
    error(&api.hold(json!({"seats": ["B1", "B1"]})).await, 422, "duplicate_seats");
    let nine: Vec<String> = (1..=9).map(|n| format!("B{n}")).collect();
    error(&api.hold(json!({"seats": nine})).await, 422, "too_many_seats");
    let token =
        token_of(&api.hold(json!({"seats": ["B1", "B2", "B3", "B4", "B5"]})).await, &["B1", "B2", "B3", "B4", "B5"]);
    error(&api.hold(json!({"seats": ["B6", "B7", "B8", "B9"], "hold_token": token})).await, 422, "too_many_seats");
    let path = "/api/showtimes/nope-20300110-1000/holds";
    error(&api.send("POST", path, json!({"seats": ["B1"]})).await, 404, "showtime_not_found");
    error(&api.hold(json!({"seat": ["B1"]})).await, 400, "invalid_json");
    error(&api.release(json!({"seats": ["B1"]})).await, 400, "invalid_json");
    let res = warp::test::request()
        .method("POST")
        .path(&format!("/api/showtimes/{SHOW}/holds"))
        .body(r#"{"seats":[]}"#)
        .reply(&api.filter)
        .await;
    error(&res, 415, "unsupported_media_type");
    let later = self::api(&f, &["--now", "2030-01-10T10:30:00+07:00"]).await;
    error(&later.hold(json!({"seats": ["B1"]})).await, 410, "showtime_closed");
}

#[tokio::test]
async fn hold_changes_are_rate_limited_per_client_apart_from_bookings() {
    let f = Fixture::new();
    let api = api(&f, &["--hold-limit", "1", "--hold-burst", "3"]).await;
    let token = token_of(&api.hold(json!({"seats": ["A1"]})).await, &["A1"]);
    token_of(&api.hold(json!({"seats": ["A2"], "hold_token": token})).await, &["A1", "A2"]);
    token_of(&api.release(json!({"hold_token": token, "seats": ["A2"]})).await, &["A1"]);
    let res = api.hold(json!({"seats": ["A3"], "hold_token": token})).await;
    let b = error(&res, 429, "rate_limited");
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(b["error"]["retry_after"], retry);
    assert_eq!(api.book(&["A1"], Some(&token)).await.status(), 201, "bookings have their own limit");
    let other = warp::test::request()
        .method("POST")
        .path(&format!("/api/showtimes/{SHOW}/holds"))
        .remote_addr("10.0.0.2:5000".parse().unwrap())
        .header("content-type", "application/json")
        .body(r#"{"seats":["A3"]}"#)
        .reply(&api.filter)
        .await;
    assert_eq!(other.status(), 200, "other clients are not affected");
}

#[tokio::test]
async fn a_browser_may_give_seats_back_cross_origin_and_list_one_films_showtimes() {
    let f = Fixture::new();
    let api = api(&f, &[]).await;
    let preflight = warp::test::request()
        .method("OPTIONS")
        .path(&format!("/api/showtimes/{SHOW}/holds"))
        .header("origin", "http://127.0.0.1:8080")
        .header("access-control-request-method", "DELETE")
        .header("access-control-request-headers", "content-type")
        .reply(&api.filter)
        .await;
    assert_eq!(preflight.status(), 200, "{:?}", preflight.body());
    assert!(preflight.headers()["access-control-allow-methods"].to_str().unwrap().contains("DELETE"));
    let reconnect = warp::test::request()
        .method("OPTIONS")
        .path(&format!("/api/showtimes/{SHOW}/events"))
        .header("origin", "http://127.0.0.1:8080")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "last-event-id")
        .reply(&api.filter)
        .await;
    assert_eq!(reconnect.status(), 200, "an event stream's reconnect may send Last-Event-ID");
    let head =
        warp::test::request().method("HEAD").path(&format!("/api/showtimes/{SHOW}/events")).reply(&api.filter).await;
    assert_eq!((head.status().as_u16(), head.body().len()), (200, 0), "HEAD answers the head and ends");
    assert_eq!(head.headers()["content-type"], "text/event-stream");

    let list = |query: &'static str| {
        let filter = api.filter.clone();
        async move {
            let res = warp::test::request().path(&format!("/api/showtimes{query}")).reply(&filter).await;
            assert_eq!(res.status(), 200);
            body(&res)["showtimes"].as_array().unwrap().clone()
        }
    };
    let all = list("").await;
    let aurora = list("?film=aurora").await;
    assert!(!aurora.is_empty() && aurora.len() < all.len());
    assert!(aurora.iter().all(|s| s["film"]["slug"] == "aurora" && s["seats_free"].is_u64()));
    assert_eq!(aurora.len() + list("?film=borealis").await.len(), all.len());
    assert!(list("?film=nope").await.is_empty(), "an unknown film has no showtimes");
    assert_eq!(list("?other=1").await.len(), all.len());
}
