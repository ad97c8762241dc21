//! The door: where staff check tickets in as people arrive, behind the operator's token.
//!
//! Two halves. The page ([`page`]: `/door/`, its script and its style) is static and holds no
//! secret: it asks door staff for the operator token once and sends it with every call. The API
//! under `/api/door/` ([`showtimes`], [`door_list`], [`check_in`]) answers only with that token
//! (see [`crate::operator`]) and shows bookers' names, which no visitor's route ever does.
//!
//! Both are served by the booking service itself, whether or not it serves the site: the page
//! must be same-origin with the API so that no CORS rule is needed to reach it, and a CDN that
//! serves the site cannot hold it. The API claims every path under `/api/door/`: whatever
//! happens there (no token, an unknown path, another method) is answered here, so no request
//! for a door path ever reaches the CORS layer of the public routes and no door reply carries
//! `Access-Control-Allow-Origin`.
//!
//! The handlers are thin: the door's rules (which day, which showtime to offer first, how a
//! ticket is read, what each answer says) are plain functions in [`day`], [`views`] and
//! [`ticket`], and the store decides the check-in inside its own transaction.

pub mod check_in;
pub mod day;
pub mod day_query;
pub mod door_list;
pub mod page;
pub mod showtimes;
pub mod suggestion;
pub mod ticket;
pub mod views;

use std::sync::Arc;

use cinema::booking::BookingError;
use cinema::store::StoreError;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::reply::Response;

use crate::App;
use crate::api_error::ApiError;
use crate::recover::to_json;

/// The door's page and API. Rejects (as not found) only requests for other paths.
pub fn routes(app: Arc<App>) -> BoxedFilter<(Response,)> {
    page::route().or(api(app)).unify().boxed()
}

/// Everything under `/api/door/`: the operator's token first, then the routes, then a JSON
/// 404/405 for any other path or method there; a missing or wrong token is the `401`.
fn api(app: Arc<App>) -> BoxedFilter<(Response,)> {
    let routes = showtimes::route(app.clone())
        .or(door_list::route(app.clone()))
        .unify()
        .or(check_in::route(app.clone()))
        .unify()
        .or(fallback())
        .unify();
    warp::path("api")
        .and(warp::path("door"))
        .and(crate::operator::authorized(app).and(routes).recover(to_json).unify())
        .boxed()
}

/// Any other request under `/api/door/` that carries the token.
fn fallback() -> impl Filter<Extract = (Response,), Error = std::convert::Infallible> + Clone {
    warp::path::full().map(|path: FullPath| match crate::api::allowed_methods(path.as_str()) {
        Some(allow) => ApiError::method_not_allowed(&allow.replace("GET", "GET, HEAD")).into_response(),
        None => ApiError::not_found().into_response(),
    })
}

/// A store failure as the one error shape (`503`, with the store's words for the log only).
fn store_failed(e: StoreError) -> Response {
    ApiError::from(BookingError::from(e)).into_response()
}

/// The door's routes in the OpenAPI document: every one an operator route, with the bearer
/// scheme and its `401`; the check-in body as [`check_in`] reads it.
#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::api::ROUTES;
    use crate::api::openapi::DOCUMENT;

    #[test]
    fn every_operator_route_is_documented_as_one() {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
        assert_eq!(doc["components"]["securitySchemes"]["operatorToken"]["scheme"], "bearer");
        let operator = |path: &str| path.starts_with("/api/door/") || path == "/metrics";
        let routes: Vec<_> = ROUTES.iter().filter(|(_, path)| operator(path)).collect();
        assert_eq!(routes.len(), 4, "the door's three and /metrics");
        for (method, path) in routes {
            let op = &doc["paths"][path][method.to_lowercase()];
            assert_eq!(op["security"], serde_json::json!([{ "operatorToken": [] }]), "{method} {path}");
            assert_eq!(
                op["responses"]["401"]["$ref"], "#/components/responses/OperatorTokenRequired",
                "{method} {path}"
            );
        }
        // No public route asks for the token.
        for (method, path) in ROUTES.iter().filter(|(_, path)| !operator(path)) {
            assert!(doc["paths"][path][method.to_lowercase()]["security"].is_null(), "{method} {path}");
        }
        let body = &doc["components"]["schemas"]["CheckInRequest"];
        assert_eq!(body["additionalProperties"], false, "the body is read with deny_unknown_fields");
        assert_eq!(body["required"], serde_json::json!(["code", "showtime"]));
        let example = body["properties"]["code"]["example"].as_str().unwrap();
        assert!(super::ticket::read(example).unwrap().reference.is_some(), "{example}");
    }
}
