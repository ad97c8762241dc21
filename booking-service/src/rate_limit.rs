//! Limits on POSTs: a token bucket per key, the client's IP address for bookings, holds and
//! recovery requests, and the email address asked for as well for recovery requests.
//!
//! Each key may make `burst` requests at once, refilled at a steady rate. The state is owned by
//! the [`crate::App`] and lives behind one mutex held for a few arithmetic operations. Idle
//! keys are forgotten when the table grows large, so a scan from many addresses cannot grow
//! it without bound. Behind a reverse proxy every connection comes from the proxy: name it with
//! `--trusted-proxy` and the client is taken from `X-Forwarded-For`
//! (see [`crate::net::client_address`]). The buckets are per instance: with N instances behind a
//! load balancer a client may make up to N times the rate.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many clients are remembered before idle ones are dropped.
const PRUNE_AT: usize = 10_000;

/// The service's limiters: bookings, and holds (a click on a seat is a hold, so holds get a
/// burst of their own, far larger than bookings').
pub struct RateLimits {
    pub bookings: RateLimiter,
    pub holds: RateLimiter,
}

impl RateLimits {
    /// No limit at all (for tests).
    pub fn unlimited() -> Self {
        RateLimits { bookings: RateLimiter::unlimited(), holds: RateLimiter::unlimited() }
    }
}

/// The limits on `POST /api/bookings/recover`, each request taking a token from both: its
/// client's (a stranger cannot send mail to many addresses) and its address's (nobody, from
/// any number of clients, can fill one inbox). The defaults let a visitor who mistyped ask a
/// few times, and send one inbox at most [`RecoveryLimits::ADDRESS_BURST`] messages at once
/// and [`RecoveryLimits::ADDRESS_PER_HOUR`] an hour after that.
pub struct RecoveryLimits {
    pub per_client: RateLimiter,
    /// Keyed by the address in ASCII lowercase, as the store matches it.
    pub per_address: RateLimiter<String>,
}

impl RecoveryLimits {
    pub const CLIENT_PER_HOUR: u32 = 20;
    pub const CLIENT_BURST: u32 = 5;
    pub const ADDRESS_PER_HOUR: u32 = 3;
    pub const ADDRESS_BURST: u32 = 3;

    pub fn new(client_per_hour: u32, client_burst: u32, address_per_hour: u32, address_burst: u32) -> Self {
        RecoveryLimits {
            per_client: RateLimiter::per_hour(client_per_hour, client_burst),
            per_address: RateLimiter::per_hour(address_per_hour, address_burst),
        }
    }
}

impl Default for RecoveryLimits {
    fn default() -> Self {
        Self::new(Self::CLIENT_PER_HOUR, Self::CLIENT_BURST, Self::ADDRESS_PER_HOUR, Self::ADDRESS_BURST)
    }
}

/// A token bucket per key (by default, per client address; `None` when the transport has no
/// address).
pub struct RateLimiter<K = Option<IpAddr>> {
    /// Tokens added per second; 0 disables the limit.
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Eq + Hash> RateLimiter<K> {
    /// `burst` at once, then `per_minute`; 0 disables the limit.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self::with_rate(f64::from(per_minute) / 60.0, burst)
    }

    /// `burst` at once, then `per_hour`; 0 disables the limit.
    pub fn per_hour(per_hour: u32, burst: u32) -> Self {
        Self::with_rate(f64::from(per_hour) / 3600.0, burst)
    }

    fn with_rate(per_second: f64, burst: u32) -> Self {
        RateLimiter { per_second, burst: f64::from(burst.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    pub fn unlimited() -> Self {
        Self::new(0, 1)
    }

    /// Takes one request's token for `client`, or says how long until one is available.
    pub fn check(&self, client: K, now: Instant) -> Result<(), Duration> {
        if self.per_second == 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= PRUNE_AT {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.refilled(now, rate, burst).tokens < burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket { tokens: self.burst, at: now });
        *bucket = bucket.refilled(now, self.per_second, self.burst);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second))
        }
    }
}

impl Bucket {
    fn refilled(self, now: Instant, rate: f64, burst: f64) -> Bucket {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        Bucket { tokens: (self.tokens + elapsed * rate).min(burst), at: now }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_rate() {
        let limiter: RateLimiter = RateLimiter::new(60, 3);
        let a = Some("10.0.0.1".parse().unwrap());
        let b = Some("10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(a, t0).is_ok());
        }
        let wait = limiter.check(a, t0).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limiter.check(b, t0).is_ok(), "clients are limited separately");
        assert!(limiter.check(a, t0 + Duration::from_millis(1001)).is_ok());
        assert!(limiter.check(a, t0 + Duration::from_millis(1002)).is_err());
    }

    #[test]
    fn an_hourly_limit_refills_one_token_per_share_of_the_hour() {
        let limiter: RateLimiter<String> = RateLimiter::per_hour(3, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("ana@example.com".into(), t0).is_ok());
        }
        let wait = limiter.check("ana@example.com".into(), t0).unwrap_err();
        assert_eq!(wait.as_secs(), 20 * 60, "{wait:?}");
        assert!(limiter.check("bo@example.com".into(), t0).is_ok(), "keys are limited separately");
        assert!(limiter.check("ana@example.com".into(), t0 + Duration::from_secs(20 * 60)).is_ok());
        assert!(limiter.check("ana@example.com".into(), t0 + Duration::from_secs(20 * 60)).is_err());
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter: RateLimiter = RateLimiter::unlimited();
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limiter.check(None, t0).is_ok()));
    }
}
