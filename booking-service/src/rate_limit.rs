//! A per-client limit on booking POSTs: a token bucket per IP address.
//!
//! Each client may make `burst` POSTs at once, refilled at `per_minute`. The state is owned by
//! the [`crate::App`] and lives behind one mutex held for a few arithmetic operations. Idle
//! clients are forgotten when the table grows large, so a scan from many addresses cannot grow
//! it without bound. Behind a reverse proxy every connection comes from the proxy: name it with
//! `--trusted-proxy` and the client is taken from `X-Forwarded-For`
//! (see [`crate::net::client_address`]). The buckets are per instance: with N instances behind a
//! load balancer a client may make up to N times the rate.

use std::collections::HashMap;
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

pub struct RateLimiter {
    /// Tokens added per second; 0 disables the limit.
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn unlimited() -> Self {
        Self::new(0, 1)
    }

    /// Takes one request's token for `client`, or says how long until one is available.
    pub fn check(&self, client: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
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
        let limiter = RateLimiter::new(60, 3);
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
    fn zero_means_unlimited() {
        let limiter = RateLimiter::unlimited();
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limiter.check(None, t0).is_ok()));
    }
}
