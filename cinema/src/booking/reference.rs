//! Booking references: `TK-7Q4M-2XHD`.
//!
//! People read references aloud at a box office and type them from a printout, so the alphabet
//! leaves out characters that look or sound alike (0/O, 1/I/L, U/V). Eight random characters
//! from 30 give about 39 bits: enough that guessing one is hopeless *and* useless, because a
//! reference alone opens nothing without its manage token.

use std::fmt;

use rand::Rng;
use serde::Serialize;

/// The characters a reference is made of.
const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const PREFIX: &str = "TK-";

/// A booking's public name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BookingReference(String);

impl BookingReference {
    /// A fresh random reference.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let mut text = String::with_capacity(12);
        text.push_str(PREFIX);
        for i in 0..8 {
            if i == 4 {
                text.push('-');
            }
            text.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
        }
        BookingReference(text)
    }

    /// Reads a reference as a person may type it: any case, surrounding spaces ignored.
    /// `None` when it cannot be a reference, so junk never reaches the store.
    pub fn parse(text: &str) -> Option<Self> {
        let upper = text.trim().to_ascii_uppercase();
        let rest = upper.strip_prefix(PREFIX)?;
        let bytes = rest.as_bytes();
        let well_formed = bytes.len() == 9
            && bytes[4] == b'-'
            && bytes.iter().enumerate().all(|(i, b)| i == 4 || ALPHABET.contains(b));
        well_formed.then_some(BookingReference(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_references_parse_back_and_differ() {
        let mut rng = rand::rng();
        let a = BookingReference::generate(&mut rng);
        let b = BookingReference::generate(&mut rng);
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 12);
        assert_eq!(BookingReference::parse(a.as_str()), Some(a.clone()));
        assert_eq!(BookingReference::parse(&format!(" {} ", a.as_str().to_lowercase())), Some(a));
    }

    #[test]
    fn ambiguous_or_malformed_text_is_not_a_reference() {
        for bad in [
            "",
            "TK-",
            "TK-7Q4M2XHD",
            "TK-7Q4M-2XH",
            "TK-7Q4M-2XHDD",
            "TK-0Q4M-2XHD", // 0 is not in the alphabet
            "TK-IQ4M-2XHD", // nor is I
            "XX-7Q4M-2XHD",
            "TK-7Q4M-2X'D",
        ] {
            assert_eq!(BookingReference::parse(bad), None, "{bad:?}");
        }
        assert!(BookingReference::parse("TK-7Q4M-2XHD").is_some());
    }
}
