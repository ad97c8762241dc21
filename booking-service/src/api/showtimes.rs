//! `GET /api/showtimes`: the live showtimes of the horizon with their free seats, for kiosks
//! and apps that do not use the static pages, a page at a time: at 10,000 films the horizon
//! holds 165,000 showtimes, and one reply of all of them was 37 MB.
//!
//! `?film=<slug>` keeps one film's (a film page's "seats left"), `?date=YYYY-MM-DD` one day's
//! in the cinema's zone, `?limit=` sets the page's size (see [`showtimes_query`]) and
//! `?cursor=` resumes after the previous page: each reply names the next page's cursor, or
//! `null` on the last one. The store reads only the page's rows. An unknown film is an empty
//! list, as a film with no showtimes left is.
//!
//! [`showtimes_query`]: super::showtimes_query

use std::sync::Arc;

use cinema::store::ShowtimePosition;
use serde::Serialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::showtimes_query::{cursor_of, page_of};
use super::{ShowtimeView, json, with_app};
use crate::App;
use crate::api_error::ApiError;
use crate::guard::guard;

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "showtimes")
        .and(crate::head::get_or_head())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(with_app(app))
        .then(|query: String, app: Arc<App>| guard(handle(query, app)))
        .boxed()
}

#[derive(Serialize)]
struct Showtimes<'a> {
    showtimes: Vec<ShowtimeView<'a>>,
    /// The cursor of the next page; `None` (`null`) when this page is the last.
    next_cursor: Option<String>,
}

async fn handle(query: String, app: Arc<App>) -> Response {
    let page = match page_of(&query, app.clock.now(), app.catalog.settings.time_zone) {
        Ok(page) => page,
        Err(e) => return e.into_response(),
    };
    let limit = page.limit;
    // One more than the page: whether a next page exists, without ever answering an empty one.
    let mut list = match app.desk.showtimes_page(cinema::store::ShowtimePage { limit: limit + 1, ..page }).await {
        Ok(list) => list,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let more = list.len() > limit;
    list.truncate(limit);
    let next_cursor = more.then(|| list.last().map(|(s, _)| cursor_of(&ShowtimePosition::of(s)))).flatten();
    let showtimes = list.iter().map(|(s, free)| ShowtimeView::new(s, &app.catalog, Some(*free))).collect();
    json(StatusCode::OK, &Showtimes { showtimes, next_cursor })
}
