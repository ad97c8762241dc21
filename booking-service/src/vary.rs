//! `Vary`: which request headers a reply depends on, so that shared caches keep one copy per
//! value instead of handing one client's reply to another.

use warp::http::{HeaderMap, HeaderValue, header};

/// Adds `name` to the reply's `Vary` list, once. Runs on every reply: allocates nothing when
/// the reply has no `Vary` yet, and one string when it has.
pub fn add(headers: &mut HeaderMap, name: &'static str) {
    let listed = || {
        headers
            .get_all(header::VARY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if listed().any(|v| v == "*" || v.eq_ignore_ascii_case(name)) {
        return;
    }
    let value = if listed().next().is_none() {
        HeaderValue::from_static(name)
    } else {
        let mut joined = String::with_capacity(64);
        for v in listed().chain([name]) {
            if !joined.is_empty() {
                joined.push_str(", ");
            }
            joined.push_str(v);
        }
        match HeaderValue::from_str(&joined) {
            Ok(value) => value,
            Err(_) => return,
        }
    };
    headers.insert(header::VARY, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_added_once_to_one_list() {
        let mut h = HeaderMap::new();
        add(&mut h, "Accept-Encoding");
        add(&mut h, "Origin");
        add(&mut h, "origin");
        assert_eq!(h.get_all(header::VARY).iter().collect::<Vec<_>>(), ["Accept-Encoding, Origin"]);
        add(&mut h, "Accept-Encoding");
        assert_eq!(h.get_all(header::VARY).iter().collect::<Vec<_>>(), ["Accept-Encoding, Origin"]);
    }

    #[test]
    fn several_vary_headers_become_one_list_and_a_star_stays_alone() {
        let mut h = HeaderMap::new();
        h.append(header::VARY, HeaderValue::from_static("Cookie"));
        h.append(header::VARY, HeaderValue::from_static(" Accept-Language ,"));
        add(&mut h, "Origin");
        assert_eq!(h.get_all(header::VARY).iter().collect::<Vec<_>>(), ["Cookie, Accept-Language, Origin"]);
        let mut star = HeaderMap::new();
        star.insert(header::VARY, HeaderValue::from_static("*"));
        add(&mut star, "Origin");
        assert_eq!(star.get_all(header::VARY).iter().collect::<Vec<_>>(), ["*"]);
    }
}
