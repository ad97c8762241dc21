//! `Vary`: which request headers a reply depends on, so that shared caches keep one copy per
//! value instead of handing one client's reply to another.

use warp::http::{HeaderMap, HeaderValue, header};

/// Adds `name` to the reply's `Vary` list, once.
pub fn add(headers: &mut HeaderMap, name: &str) {
    let current: Vec<String> = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if current.iter().any(|v| v == "*" || v.eq_ignore_ascii_case(name)) {
        return;
    }
    let joined = current.into_iter().chain([name.to_string()]).collect::<Vec<_>>().join(", ");
    if let Ok(value) = HeaderValue::from_str(&joined) {
        headers.insert(header::VARY, value);
    }
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
    }
}
