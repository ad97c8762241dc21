//! `Vary`: which request headers a reply depends on, so that shared caches keep one copy per
//! value instead of handing one client's reply to another.

use warp::http::{HeaderMap, HeaderValue, header};

/// Adds `name` to the reply's `Vary` list, once. Runs on every reply, so in one pass over the
/// present values, allocating nothing when the reply has no `Vary` yet.
pub fn add(headers: &mut HeaderMap, name: &'static str) {
    let mut listed = String::new();
    for value in headers.get_all(header::VARY) {
        let Ok(value) = value.to_str() else { continue };
        listed.reserve(value.len() + ", ".len() + name.len());
        for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            if v == "*" || v.eq_ignore_ascii_case(name) {
                return;
            }
            if !listed.is_empty() {
                listed.push_str(", ");
            }
            listed.push_str(v);
        }
    }
    let value = if listed.is_empty() {
        HeaderValue::from_static(name)
    } else {
        listed.push_str(", ");
        listed.push_str(name);
        match HeaderValue::from_str(&listed) {
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
