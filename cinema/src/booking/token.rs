//! Manage tokens: the secret that lets a booker look at or cancel their booking.
//!
//! The token is shown once, in the reply that creates the booking. The store keeps only its
//! BLAKE3 hash, so a copy of the database does not let anyone cancel bookings, and a token is
//! checked by comparing hashes in constant time, so response timing does not leak how much of a
//! guess was right. A token given for a reference that does not exist is checked all the same,
//! against a dummy hash ([`ManageToken::verify`]), so "no such booking" and "wrong token" cost
//! the same work and a reference cannot be found out by timing the answers.

use std::fmt;

use rand::RngCore;

/// A manage token: 128 random bits, written as 32 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct ManageToken(String);

/// What the store keeps instead of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl ManageToken {
    pub const BYTES: usize = 16;

    pub fn generate(rng: &mut impl RngCore) -> Self {
        let mut bytes = [0u8; Self::BYTES];
        rng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: [u8; Self::BYTES]) -> Self {
        ManageToken(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The raw bytes, for sealing.
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&self.0[2 * i..2 * i + 2], 16).expect("hex by construction");
        }
        out
    }

    /// Reads a token as given by a client; `None` if it cannot be one.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        (text.len() == 2 * Self::BYTES && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .then(|| ManageToken(text.to_string()))
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(*blake3::hash(self.0.as_bytes()).as_bytes())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an unknown reference's token is compared with: the hash of no token that can exist
/// (a token is 32 hex digits), so it never matches.
const NO_BOOKING: TokenHash = TokenHash([0; 32]);

impl ManageToken {
    /// Whether this token is the one `stored` was made from; `stored` is `None` when there is no
    /// booking with the reference given. Both cases do the same work, one BLAKE3 hash and one
    /// constant-time comparison (`blake3::Hash`'s equality does not stop at the first differing
    /// byte), so a caller that looks the reference up, calls this, and reads more only when it
    /// returns `true` answers "no such booking" and "wrong token" in the same time.
    pub fn verify(&self, stored: Option<&TokenHash>) -> bool {
        let expected = blake3::Hash::from_bytes(stored.unwrap_or(&NO_BOOKING).0);
        let matched = expected == blake3::hash(self.0.as_bytes());
        matched & stored.is_some()
    }
}

/// The token hashes that open one booking: the one made with the booking, and the one sent by
/// the latest recovery mail (`POST /api/bookings/recover`), if any. A recovery adds a link
/// rather than replacing the booker's: whoever asks for an address's links (the owner, or a
/// stranger who knows the address) never breaks the link the booker already has. A later
/// recovery replaces the earlier recovery's link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerHashes {
    pub issued: TokenHash,
    pub recovered: Option<TokenHash>,
}

impl ManageToken {
    /// Whether this token opens a booking whose stored hashes are `stored` (`None`: no booking
    /// has the reference given). Always two constant-time comparisons, against dummies where a
    /// hash is missing, so neither an unknown reference nor a booking never recovered answers
    /// faster than one that was.
    pub fn verify_owner(&self, stored: Option<&OwnerHashes>) -> bool {
        let issued = self.verify(stored.map(|s| &s.issued));
        let recovered = self.verify(stored.and_then(|s| s.recovered.as_ref()));
        issued | recovered
    }
}

/// Never print a secret by accident (logs, panics, `{:?}` in a test failure).
impl fmt::Debug for ManageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ManageToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_hash_and_nothing_else() {
        let mut rng = rand::rng();
        let token = ManageToken::generate(&mut rng);
        let other = ManageToken::generate(&mut rng);
        let hash = token.hash();
        assert!(token.verify(Some(&hash)));
        assert!(!other.verify(Some(&hash)));
        assert!(!token.verify(None), "no stored hash: never verified");
        assert!(!token.verify(Some(&NO_BOOKING)));
        assert_eq!(ManageToken::parse(token.as_str()), Some(token.clone()));
        assert_eq!(ManageToken::from_bytes(token.to_bytes()), token);
        assert!(!format!("{token:?}").contains(token.as_str()));
    }

    #[test]
    fn either_the_issued_or_the_recovered_token_opens_a_booking() {
        let mut rng = rand::rng();
        let (issued, recovered, other) =
            (ManageToken::generate(&mut rng), ManageToken::generate(&mut rng), ManageToken::generate(&mut rng));
        let never = OwnerHashes { issued: issued.hash(), recovered: None };
        let both = OwnerHashes { issued: issued.hash(), recovered: Some(recovered.hash()) };
        assert!(issued.verify_owner(Some(&never)));
        assert!(!recovered.verify_owner(Some(&never)));
        assert!(issued.verify_owner(Some(&both)));
        assert!(recovered.verify_owner(Some(&both)));
        assert!(!other.verify_owner(Some(&both)));
        assert!(!issued.verify_owner(None));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in ["", "abc", &"g".repeat(32), &"A".repeat(32), &"a".repeat(33)] {
            assert!(ManageToken::parse(bad).is_none(), "{bad:?}");
        }
    }
}
