//! `GET /api/openapi.json`: the API described in OpenAPI 3. The document is written by hand
//! (`openapi.json` next to the crate's manifest) and a test keeps it true to [`super::ROUTES`].

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::json_response;

pub const DOCUMENT: &str = include_str!("../../openapi.json");

pub fn route() -> BoxedFilter<(Response,)> {
    warp::path!("api" / "openapi.json")
        .and(crate::head::get_or_head())
        .map(|| {
            let mut res = json_response(StatusCode::OK, DOCUMENT);
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            res
        })
        .boxed()
}

/// The document against the code: every error code and its status, and every input constraint
/// the service enforces, with the same figures and the same accepted inputs.
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use cinema::booking::{
        BookingReference, CheckInCode, ErrorCode, IdempotencyKey, MAX_EMAIL_CHARS, MAX_NAME_CHARS,
        MAX_NAME_CODE_POINTS, MAX_SEATS, ManageToken,
    };
    use cinema::schedule::ShowtimeId;
    use serde_json::Value;

    use super::DOCUMENT;
    use crate::api::body::MAX_BODY;
    use crate::rate_limit::RecoveryLimits;

    fn doc() -> Value {
        serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
    }

    /// A pattern from the document, compiled.
    fn pattern(schema: &Value) -> regex::Regex {
        regex::Regex::new(schema["pattern"].as_str().unwrap_or_else(|| panic!("no pattern in {schema}"))).unwrap()
    }

    /// Short strings over every ASCII character and a few others, for comparing a pattern with
    /// a parser: each character alone, repeated to `len`, and inside a valid `template`.
    fn probes(template: &str, len: usize) -> Vec<String> {
        let mut out = vec![String::new(), template.to_string(), format!(" {template}"), template.to_lowercase()];
        for c in (0u8..128).map(char::from).chain(['é', '\u{200B}', '٣']) {
            out.push(c.to_string().repeat(len));
            for i in 0..template.len() {
                if template.is_char_boundary(i) && template.is_char_boundary(i + 1) {
                    out.push(format!("{}{c}{}", &template[..i], &template[i + 1..]));
                }
            }
        }
        out
    }

    #[test]
    fn every_error_code_is_documented_with_its_status_and_nothing_else_is() {
        let doc = doc();
        let schema = &doc["components"]["schemas"]["ErrorCode"];
        let documented: BTreeSet<&str> =
            schema["enum"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        let sent: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(documented, sent, "the document's ErrorCode enum must be exactly ErrorCode::ALL");
        // The description reads "404: a, b. 409: c. ..."; each code under its own status.
        let description = schema["description"].as_str().unwrap();
        for code in ErrorCode::ALL {
            let listed_under: Vec<&str> = description
                .split(". ")
                .filter(|part| part.split(&[' ', ',', '.'][..]).any(|word| word == code.as_str()))
                .map(|part| part.split(':').next().unwrap())
                .collect();
            assert_eq!(listed_under, [code.status().to_string()], "{code}: listed under {listed_under:?}");
        }
    }

    #[test]
    fn the_booking_request_limits_are_the_codes_limits() {
        let doc = doc();
        let request = &doc["components"]["schemas"]["BookingRequest"]["properties"];
        assert_eq!(request["seats"]["maxItems"], MAX_SEATS);
        assert_eq!(request["seats"]["minItems"], 1);
        assert_eq!(request["name"]["maxLength"], MAX_NAME_CODE_POINTS);
        assert_eq!(request["name"]["x-maxGraphemes"], MAX_NAME_CHARS);
        let name = request["name"]["description"].as_str().unwrap();
        assert!(name.contains(&format!("at most {MAX_NAME_CHARS} user-perceived characters")), "{name}");
        assert!(name.contains(&format!("at most {MAX_NAME_CODE_POINTS} Unicode code points")), "{name}");
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}'] {
            assert!(cinema::booking::visible_text::is_bidi_control(c));
        }
        for listed in ["U+202A-202E", "U+2066-2069", "U+200E", "U+200F", "U+061C"] {
            assert!(name.contains(listed), "the name's description lists the refused controls: {listed}");
        }
        assert_eq!(request["email"]["maxLength"], MAX_EMAIL_CHARS);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["HoldRequest"]["properties"]["seats"]["maxItems"], cinema::booking::MAX_HELD_SEATS);
        assert_eq!(schemas["ReleaseRequest"]["properties"]["seats"]["maxItems"], cinema::booking::MAX_HELD_SEATS);
        for path in ["/api/showtimes/{id}/holds"] {
            for method in ["post", "delete"] {
                let body = doc["paths"][path][method]["requestBody"]["description"].as_str().unwrap();
                assert!(body.contains(&format!("at most {MAX_BODY} bytes")), "{method} {path}: {body}");
            }
        }
        let body = doc["paths"]["/api/showtimes/{id}/bookings"]["post"]["requestBody"]["description"].as_str().unwrap();
        assert!(body.contains(&format!("at most {MAX_BODY} bytes")), "{body}");
    }

    #[test]
    fn the_ticket_fields_are_documented_as_the_views_write_them() {
        let doc = doc();
        let booking = &doc["components"]["schemas"]["Booking"];
        let required: BTreeSet<&str> =
            booking["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        for field in ["check_in_code", "ticket_svg", "calendar_url"] {
            assert!(required.contains(field), "{field} is in every Booking reply");
        }
        let code = pattern(&booking["properties"]["check_in_code"]);
        let sample = CheckInCode::generate(&mut rand::rng());
        for text in probes(sample.as_str(), 4) {
            // The pattern is the written form a reply carries, not every form the parser reads.
            let written = CheckInCode::parse(&text).is_some_and(|c| c.as_str() == text);
            assert_eq!(code.is_match(&text), written, "check-in code {text:?}");
        }
        let url = pattern(&booking["properties"]["calendar_url"]);
        let reference = BookingReference::parse("TK-7Q4M-2XHD").unwrap();
        let token = ManageToken::from_bytes([0x5c; ManageToken::BYTES]);
        let written = crate::api::views::calendar_url(reference.as_str(), &token);
        assert!(url.is_match(&written), "{written}");
        assert_eq!(booking["properties"]["calendar_url"]["example"], written.as_str());

        let reference_of = |path: &str| {
            let parameters = doc["paths"][path]["parameters"].as_array().unwrap();
            parameters.iter().find(|p| p["name"] == "reference").unwrap()["schema"]["pattern"].clone()
        };
        assert_eq!(reference_of("/api/bookings/{reference}/calendar.ics"), reference_of("/api/bookings/{reference}"));
    }

    #[test]
    fn the_recovery_route_is_documented_with_the_codes_reply_and_limits() {
        let doc = doc();
        let post = &doc["paths"]["/api/bookings/recover"]["post"];
        let body = post["requestBody"]["description"].as_str().unwrap();
        assert!(body.contains(&format!("at most {MAX_BODY} bytes")), "{body}");
        let schema = &doc["components"]["schemas"]["RecoveryRequest"];
        assert_eq!(schema["properties"]["email"]["maxLength"], MAX_EMAIL_CHARS);
        let example = &post["responses"]["202"]["content"]["application/json"]["schema"]["example"];
        assert_eq!(example, &serde_json::to_value(crate::api::recovery::QUEUED).unwrap());
        let description = post["description"].as_str().unwrap();
        let client = format!(
            "per client IP ({} at once, then {} an hour)",
            RecoveryLimits::CLIENT_BURST,
            RecoveryLimits::CLIENT_PER_HOUR
        );
        let address = format!(
            "per address, whatever its case ({} at once, then {} an hour)",
            RecoveryLimits::ADDRESS_BURST,
            RecoveryLimits::ADDRESS_PER_HOUR
        );
        assert!(description.contains(&client), "{description}");
        assert!(description.contains(&address), "{description}");
    }

    #[test]
    fn the_showtimes_pages_are_documented_with_the_codes_limits_and_cursor() {
        use crate::api::showtimes_query::{DEFAULT_LIMIT, MAX_LIMIT, cursor_of, page_of};
        let doc = doc();
        let get = &doc["paths"]["/api/showtimes"]["get"];
        let param =
            |name: &str| get["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
        let limit = param("limit");
        assert_eq!(limit["schema"]["default"], DEFAULT_LIMIT);
        assert_eq!(limit["schema"]["maximum"], MAX_LIMIT);
        assert_eq!(limit["schema"]["minimum"], 1);
        let reply = &get["responses"]["200"]["content"]["application/json"]["schema"];
        assert_eq!(reply["properties"]["showtimes"]["maxItems"], MAX_LIMIT);
        let description = get["description"].as_str().unwrap();
        assert!(description.contains(&format!("at most {MAX_LIMIT} ({DEFAULT_LIMIT} unless")), "{description}");
        // The documented example cursor is one the service reads, and writes back the same.
        let example = param("cursor")["schema"]["example"].as_str().unwrap().to_string();
        let page = page_of(&format!("cursor={example}"), chrono::Utc::now(), chrono_tz::UTC).unwrap();
        assert_eq!(cursor_of(&page.after.unwrap()), example);
    }

    #[test]
    fn seat_ids_of_the_real_auditorium_match_the_documented_pattern() {
        let doc = doc();
        let seat = pattern(&doc["components"]["schemas"]["BookingRequest"]["properties"]["seats"]["items"]);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/auditorium.txt");
        let map = cinema::seat_map::SeatMap::load(&root).unwrap();
        let ids: Vec<&str> = map.seat_ids().collect();
        assert!(ids.len() > 100);
        for id in ids {
            assert!(seat.is_match(id), "{id}");
        }
        for bad in ["", "A0", "A", "7", "ABCD1", "A-1", "A1 "] {
            assert!(!seat.is_match(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_documented_patterns_accept_exactly_what_the_parsers_accept() {
        let doc = doc();
        let booking_path = &doc["paths"]["/api/bookings/{reference}"]["parameters"];
        let param = |name: &str| booking_path.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();

        let reference = pattern(&param("reference")["schema"]);
        let sample = BookingReference::parse("TK-7Q4M-2XHD").unwrap();
        for text in probes(sample.as_str(), 4) {
            // The parser also trims surrounding white space, which a path segment does not carry.
            let parsed = BookingReference::parse(&text).is_some() && text.trim() == text;
            assert_eq!(reference.is_match(&text), parsed, "reference {text:?}");
        }
        let canonical = pattern(&doc["components"]["schemas"]["Booking"]["properties"]["reference"]);
        assert!(canonical.is_match(sample.as_str()));

        let token = pattern(&doc["components"]["schemas"]["ManageToken"]);
        let sample = ManageToken::from_bytes([0x5c; ManageToken::BYTES]);
        for text in probes(sample.as_str(), 32).into_iter().chain(["a".repeat(31), "a".repeat(33)]) {
            let parsed = ManageToken::parse(&text).is_some() && text.trim() == text;
            assert_eq!(token.is_match(&text), parsed, "token {text:?}");
        }

        let hold = pattern(&doc["components"]["schemas"]["HoldToken"]);
        let sample = cinema::booking::HoldToken::parse(&"5c".repeat(16)).unwrap();
        for text in probes(sample.as_str(), 32).into_iter().chain(["a".repeat(31), "a".repeat(33)]) {
            let parsed = cinema::booking::HoldToken::parse(&text).is_some() && text.trim() == text;
            assert_eq!(hold.is_match(&text), parsed, "hold token {text:?}");
        }

        let post = &doc["paths"]["/api/showtimes/{id}/bookings"]["post"]["parameters"];
        let key_schema = &post.as_array().unwrap().iter().find(|p| p["name"] == "Idempotency-Key").unwrap()["schema"];
        let key = pattern(key_schema);
        assert_eq!(key_schema["maxLength"], IdempotencyKey::MAX_LEN);
        for text in probes("4f1c2a9e-retry", 3)
            .into_iter()
            .chain(["k".repeat(IdempotencyKey::MAX_LEN), "k".repeat(IdempotencyKey::MAX_LEN + 1)])
        {
            assert_eq!(key.is_match(&text), IdempotencyKey::parse(&text).is_ok(), "key {text:?}");
        }

        let showtime_schema = &doc["components"]["parameters"]["ShowtimeId"]["schema"];
        let showtime = pattern(showtime_schema);
        assert_eq!(showtime_schema["maxLength"], 160, "ShowtimeId::is_well_formed's limit, probed below");
        for text in probes("akira-20261124-1800", 2).into_iter().chain(["a".repeat(160), "a".repeat(161)]) {
            let parsed = ShowtimeId::is_well_formed(&text) && !text.is_empty();
            assert_eq!(showtime.is_match(&text), parsed, "showtime id {text:?}");
        }
    }
}
