//! The service's whole filter, built from command-line arguments as `main` builds it, driven
//! in-process by warp's test harness: for tests of routes, statuses and bodies that need no
//! real socket.

use std::sync::Arc;

use booking_service::{App, Config, routes::routes, server};
use clap::Parser;
use serde_json::Value;
use warp::filters::BoxedFilter;
use warp::http::Response;
use warp::hyper::body::Bytes;

use super::{Fixture, NOW};

pub struct Api {
    pub filter: BoxedFilter<(warp::reply::Response,)>,
    /// Kept so a test can reach the store (and so the app lives as long as its filter).
    pub app: Arc<App>,
}

/// The service on `fixture`'s database and content at [`NOW`], with no rate limits unless
/// `extra` sets them (later flags win).
pub async fn api(fixture: &Fixture, extra: &[&str]) -> Api {
    let (db, content) = (fixture.db(), fixture.content());
    let mut args = vec![
        "tiketa-booking",
        "--db",
        db.to_str().unwrap(),
        "--content",
        content.to_str().unwrap(),
        "--now",
        NOW,
        "--post-limit",
        "0",
        "--hold-limit",
        "0",
    ];
    args.extend(extra);
    let config = Config::try_parse_from(args).unwrap();
    let app = server::build_app(&config, "127.0.0.1:8080".parse().unwrap()).await.unwrap();
    Api { filter: routes(app.clone()).unwrap(), app }
}

/// A reply's body as JSON; fails the test, showing the body, if it is not JSON.
pub fn body(res: &Response<Bytes>) -> Value {
    serde_json::from_slice(res.body()).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", res.body()))
}
