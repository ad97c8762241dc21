//! `GET /api/showtimes`: the live showtimes of the horizon with their free seats, for kiosks
//! and apps that do not use the static pages; `?film=<slug>` keeps one film's (a film page's
//! "seats left"). An unknown film is an empty list, as a film with no showtimes left is.

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
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(with_app(app))
        .then(|query: String, app: Arc<App>| guard(handle(film(&query), app)))
        .boxed()
}

#[derive(Serialize)]
struct Showtimes<'a> {
    showtimes: Vec<ShowtimeView<'a>>,
}

/// The `film` parameter of a query string, decoded; other parameters are ignored.
fn film(query: &str) -> Option<String> {
    query.split('&').filter_map(|pair| pair.split_once('=')).find(|(name, _)| *name == "film").map(|(_, value)| {
        percent_encoding::percent_decode_str(&value.replace('+', " ")).decode_utf8_lossy().into_owned()
    })
}

async fn handle(film: Option<String>, app: Arc<App>) -> Response {
    let now = app.clock.now();
    let list = match app.desk.showtimes(now).await {
        Ok(list) => list,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let showtimes = list
        .iter()
        .filter(|(s, _)| film.as_deref().is_none_or(|slug| s.film_slug == slug))
        .map(|(s, free)| ShowtimeView::new(s, &app.catalog, Some(*free)))
        .collect();
    json(StatusCode::OK, &Showtimes { showtimes })
}
