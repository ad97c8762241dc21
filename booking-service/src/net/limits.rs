//! Admission: a connection is served only while the service is under its total cap and the
//! client under its own.
//!
//! A client is an IPv4 address or an IPv6 /64 (one host usually holds a whole /64, so counting
//! single IPv6 addresses would not stop it). A refused connection is closed at once, which
//! costs the attacker a round trip and the service nothing. Behind a load balancer or reverse
//! proxy every connection comes from the proxy's few addresses: there the per-client cap must
//! be turned off (`--max-connections-per-client 0`) and enforced by the proxy, which sees the
//! real clients.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Counts open connections, in total and per client.
#[derive(Debug)]
pub struct ConnectionLimits {
    total: usize,
    per_client: usize,
    open: Mutex<Open>,
    /// Set while the total cap is reached, so the warning is logged once per episode.
    full: AtomicBool,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The service holds its maximum number of connections.
    Full,
    /// This client holds its maximum number of connections.
    ClientFull,
}

/// A place taken by one connection; dropping it frees the place.
#[derive(Debug)]
pub struct Admission {
    limits: Arc<ConnectionLimits>,
    client: IpAddr,
}

impl ConnectionLimits {
    /// `per_client` 0 means no per-client cap.
    pub fn new(total: usize, per_client: usize) -> Arc<Self> {
        Arc::new(ConnectionLimits {
            total: total.max(1),
            per_client: if per_client == 0 { usize::MAX } else { per_client },
            open: Mutex::new(Open::default()),
            full: AtomicBool::new(false),
        })
    }

    /// Takes a place for a connection from `ip`, or says why there is none.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admission, Refusal> {
        let client = client_of(ip);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.total {
            if !self.full.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "{} connections open, the most this service takes (--max-connections); new ones are closed until some end",
                    self.total
                );
            }
            return Err(Refusal::Full);
        }
        let mine = open.by_client.entry(client).or_insert(0);
        if *mine >= self.per_client {
            return Err(Refusal::ClientFull);
        }
        *mine += 1;
        open.total += 1;
        Ok(Admission { limits: self.clone(), client })
    }

    /// How many connections are open.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    fn release(&self, client: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(count) = open.by_client.get_mut(&client) {
            *count -= 1;
            if *count == 0 {
                open.by_client.remove(&client);
            }
        }
        if open.total < self.total {
            self.full.store(false, Ordering::Relaxed);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.limits.release(self.client);
    }
}

/// The key a client is counted under: its IPv4 address, or its IPv6 /64.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_share_and_the_rest_stay_served() {
        let limits = ConnectionLimits::new(4, 2);
        let a1 = limits.admit(ip("10.0.0.1")).unwrap();
        let _a2 = limits.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(limits.admit(ip("10.0.0.1")).unwrap_err(), Refusal::ClientFull);
        let _b1 = limits.admit(ip("10.0.0.2")).unwrap();
        let _b2 = limits.admit(ip("10.0.0.2")).unwrap();
        assert_eq!(limits.admit(ip("10.0.0.3")).unwrap_err(), Refusal::Full);
        drop(a1);
        assert_eq!(limits.open(), 3);
        assert!(limits.admit(ip("10.0.0.3")).is_ok(), "a freed place is reused");
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let limits = ConnectionLimits::new(10, 1);
        let _a = limits.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(limits.admit(ip("2001:db8:1:2::ffff")).unwrap_err(), Refusal::ClientFull);
        assert!(limits.admit(ip("2001:db8:1:3::1")).is_ok());
        let _v4 = limits.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(limits.admit(ip("::ffff:192.0.2.1")).unwrap_err(), Refusal::ClientFull);
    }

    #[test]
    fn zero_means_no_per_client_cap() {
        let limits = ConnectionLimits::new(3, 0);
        let held: Vec<_> = (0..3).map(|_| limits.admit(ip("10.0.0.1")).unwrap()).collect();
        assert_eq!(limits.admit(ip("10.0.0.1")).unwrap_err(), Refusal::Full);
        drop(held);
        assert_eq!(limits.open(), 0);
    }
}
