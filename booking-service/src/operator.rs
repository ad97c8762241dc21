//! The operator's token: what the door page and `GET /metrics` must present.
//!
//! One shared secret (`TIKETA_OPERATOR_TOKEN`), sent as `Authorization: Bearer <token>`. The
//! service keeps only its BLAKE3 hash and compares the hash of what is presented with it:
//! `blake3::Hash` compares in constant time, and hashing first also hides the token's length,
//! so neither the time of a refusal nor its length tells an attacker how close a guess was.
//!
//! Without a configured token every operator route refuses (`401`): the door is shut, not open.
//! The routes sit outside the CORS layer (see [`crate::routes`]), so no browser origin, the
//! public site's included, can read them from a script, and a browser never sends a
//! cross-origin `Authorization` header without a preflight that they do not pass.

use std::fmt;
use std::sync::Arc;

use warp::Filter;
use warp::http::{HeaderValue, header};
use warp::reject::{Reject, Rejection};
use warp::reply::Response;

use crate::App;
use crate::api_error::{ApiError, ErrorCode};

/// The fewest characters a token may have: long enough that guessing through the door routes
/// is hopeless.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The configured operator token, as its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorToken(blake3::Hash);

impl OperatorToken {
    /// Reads a token from configuration, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.chars().count() < MIN_TOKEN_CHARS {
            return Err(format!(
                "the operator token (TIKETA_OPERATOR_TOKEN) must be at least {MIN_TOKEN_CHARS} characters; make one with `head -c 24 /dev/urandom | base64`"
            ));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "the operator token (TIKETA_OPERATOR_TOKEN) must be visible ASCII characters without spaces".into()
            );
        }
        Ok(OperatorToken(blake3::hash(text.as_bytes())))
    }

    /// Whether `presented` is the token, in constant time.
    pub fn admits(&self, presented: &str) -> bool {
        blake3::hash(presented.as_bytes()) == self.0
    }
}

impl fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OperatorToken(..)")
    }
}

/// A request without the operator's token.
#[derive(Debug)]
pub struct Unauthorized {
    configured: bool,
}

impl Reject for Unauthorized {}

impl Unauthorized {
    /// The `401` reply, with `WWW-Authenticate` saying how to authenticate.
    pub fn reply(&self) -> Response {
        let message = if self.configured {
            "this is an operator route: send the operator token as `Authorization: Bearer <token>`"
        } else {
            "operator routes are off: no operator token is configured on this service (set TIKETA_OPERATOR_TOKEN and restart it)"
        };
        let mut res = ApiError::new(ErrorCode::OperatorTokenRequired, message).into_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"tiketa-operator\""));
        res
    }
}

/// Passes a request that carries the operator token, rejects any other with [`Unauthorized`]
/// (which [`crate::recover::to_json`] answers with `401`).
pub fn authorized(app: Arc<App>) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization")
        .and_then(move |authorization: Option<String>| {
            let app = app.clone();
            async move {
                let presented = authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")).map(str::trim);
                match (&app.operator_token, presented) {
                    (Some(token), Some(presented)) if token.admits(presented) => Ok(()),
                    (configured, _) => Err(warp::reject::custom(Unauthorized { configured: configured.is_some() })),
                }
            }
        })
        .untuple_one()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_admits_itself_only() {
        let token = OperatorToken::parse("correct-horse-battery-staple").unwrap();
        assert!(token.admits("correct-horse-battery-staple"));
        assert!(!token.admits("correct-horse-battery-stapl"));
        assert!(!token.admits("correct-horse-battery-staple "));
        assert!(!token.admits(""));
    }

    #[test]
    fn short_or_spaced_tokens_are_refused_with_a_way_out() {
        let err = OperatorToken::parse("short").unwrap_err();
        assert!(err.contains("at least 16") && err.contains("/dev/urandom"), "{err}");
        assert!(OperatorToken::parse("sixteen chars and spaces").is_err());
    }
}
