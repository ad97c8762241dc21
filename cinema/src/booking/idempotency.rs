//! Idempotency keys: a client that retries a booking (a timeout, a dropped connection) sends
//! the same `Idempotency-Key` and gets the original booking back instead of a second one.
//!
//! The original reply holds the manage token, which the store otherwise keeps only as a hash.
//! So that a retry can show it again without the database holding tokens in the clear, the
//! token is sealed: XORed with a BLAKE3 key stream derived from the idempotency key, which the
//! store never keeps (it keeps a different derivation as the key's id). Each key seals exactly
//! one token, so the stream is never reused.

use super::error::BookingError;
use super::request::ValidRequest;
use super::token::ManageToken;
use crate::schedule::ShowtimeId;

const ID_CONTEXT: &str = "tiketa 2026 idempotency key id";
const SEAL_CONTEXT: &str = "tiketa 2026 idempotency token seal";
const FINGERPRINT_CONTEXT: &str = "tiketa 2026 booking request fingerprint";

/// A client's idempotency key, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// A manage token sealed under an idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedToken(pub [u8; ManageToken::BYTES]);

/// What a request asked for, so a reused key with a different request is caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl IdempotencyKey {
    /// The longest key, in bytes (all ASCII).
    pub const MAX_LEN: usize = 255;

    /// 1 to [`Self::MAX_LEN`] visible ASCII characters, as clients send UUIDs or similar.
    pub fn parse(text: &str) -> Result<Self, BookingError> {
        let ok = (1..=Self::MAX_LEN).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| IdempotencyKey(text.to_string())).ok_or(BookingError::InvalidIdempotencyKey)
    }

    /// What the store keys the record by.
    pub fn id(&self) -> [u8; 32] {
        blake3::derive_key(ID_CONTEXT, self.0.as_bytes())
    }

    pub fn seal(&self, token: &ManageToken) -> SealedToken {
        SealedToken(xor(token.to_bytes(), self.stream()))
    }

    pub fn unseal(&self, sealed: &SealedToken) -> ManageToken {
        ManageToken::from_bytes(xor(sealed.0, self.stream()))
    }

    fn stream(&self) -> [u8; ManageToken::BYTES] {
        let mut out = [0u8; ManageToken::BYTES];
        blake3::Hasher::new_derive_key(SEAL_CONTEXT).update(self.0.as_bytes()).finalize_xof().fill(&mut out);
        out
    }
}

impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdempotencyKey(..)")
    }
}

fn xor<const N: usize>(a: [u8; N], b: [u8; N]) -> [u8; N] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

impl Fingerprint {
    /// Hashes the showtime and the checked request, each field length-prefixed so no two
    /// different requests encode alike.
    pub fn of(showtime: &ShowtimeId, request: &ValidRequest) -> Self {
        let mut h = blake3::Hasher::new_derive_key(FINGERPRINT_CONTEXT);
        let mut field = |bytes: &[u8]| {
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(showtime.as_str().as_bytes());
        field(request.name.as_bytes());
        field(request.email.as_deref().unwrap_or("").as_bytes());
        for seat in &request.seats {
            field(seat.as_bytes());
        }
        Fingerprint(*h.finalize().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_token_opens_only_with_its_key() {
        let token = ManageToken::generate(&mut rand::rng());
        let key = IdempotencyKey::parse("4f1c2a9e-retry").unwrap();
        let sealed = key.seal(&token);
        assert_ne!(sealed.0, token.to_bytes());
        assert_eq!(key.unseal(&sealed), token);
        let other = IdempotencyKey::parse("another").unwrap();
        assert_ne!(other.unseal(&sealed), token);
        assert_ne!(key.id(), other.id());
    }

    #[test]
    fn keys_must_be_short_visible_ascii() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    }
}
