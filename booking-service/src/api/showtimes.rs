//! `GET /api/showtimes`: the live showtimes of the horizon with their free seats, for kiosks
//! and apps that do not use the static pages.

use std::sync::Arc;

use serde::Serialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{ShowtimeView, json, with_app};
use crate::App;
use crate::api_error::ApiError;
use crate::guard::guard;

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "showtimes")
        .and(crate::head::get_or_head())
        .and(with_app(app))
        .then(|app: Arc<App>| guard(handle(app)))
        .boxed()
}

#[derive(Serialize)]
struct Showtimes<'a> {
    showtimes: Vec<ShowtimeView<'a>>,
}

async fn handle(app: Arc<App>) -> Response {
    let now = app.clock.now();
    let list = match app.desk.showtimes(now).await {
        Ok(list) => list,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let showtimes = list.iter().map(|(s, free)| ShowtimeView::new(s, &app.catalog, Some(*free))).collect();
    json(StatusCode::OK, &Showtimes { showtimes })
}
