//! `GET /api/showtimes/{id}/events`: the showtime's seats as Server-Sent Events.
//!
//! `event: snapshot` first (`taken`, `held`, `seats_free`), then `event: change` with the seats
//! newly taken, newly held and newly freed, each with an `id:` naming the state it leads to;
//! `event: closed` when the showtime starts, and the stream ends. A reconnect whose
//! `Last-Event-ID` names the current state gets no snapshot. A comment every 15 s keeps proxies
//! from closing a quiet stream. An unknown or closed showtime gets the usual JSON error instead
//! of a stream. See [`crate::events`] for how the states are made.
//!
//! An open stream is not a connection idling on its client: it is exempt from the idle
//! timeout (see [`crate::net::activity`]), and it holds no database connection (the hub reads
//! only when seats change).

use std::sync::Arc;
use std::time::Duration;

use warp::filters::BoxedFilter;
use warp::http::HeaderValue;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::with_app;
use crate::App;
use crate::api_error::ApiError;
use crate::events::stream::events;
use crate::guard::guard;
use crate::net::activity::Activity;

/// How often a quiet stream says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

pub fn route(app: Arc<App>) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "showtimes" / String / "events")
        .and(crate::head::get_or_head())
        .and(warp::header::optional::<String>("last-event-id"))
        .and(warp::ext::optional::<Arc<Activity>>())
        .and(with_app(app))
        .then(|id: String, last_event_id: Option<String>, activity: Option<Arc<Activity>>, app: Arc<App>| {
            guard(handle(id, last_event_id, activity, app))
        })
        .boxed()
}

async fn handle(id: String, last_event_id: Option<String>, activity: Option<Arc<Activity>>, app: Arc<App>) -> Response {
    let (channel, states) = match app.events.watch(&id).await {
        Ok(watched) => watched,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // The connection counts an open stream, so it is not closed as idle between heartbeats.
    let open = activity.map(|a| a.stream());
    let stream = events(channel, states, app.events.stopping(), last_event_id, open);
    let mut res = warp::sse::reply(warp::sse::keep_alive().interval(HEARTBEAT).stream(stream)).into_response();
    let h = res.headers_mut();
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    // nginx and other proxies must pass events on as they come, not buffer them.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}
