//! Admission: a connection is served only while its client is under its own cap, and, when the
//! service is at its total cap, only if a connection that sits idle can make room for it.
//!
//! A client is an IPv4 address or an IPv6 /64 (one host usually holds a whole /64, so counting
//! single IPv6 addresses would not stop it). A client over its share is closed at once, which
//! costs it a round trip and the service nothing. When the service is full, the connection that
//! has been idle longest (no handler working, nothing moving) is closed to make room: a flood of
//! idle sockets from many addresses then churns through itself while clients that are being
//! served keep their connections. Only when every connection is busy is a new one refused. The
//! accept loop waits for the evicted connection to close ([`ConnectionLimits::settle`]) before
//! it accepts more, so the open files never exceed the cap by more than one.
//!
//! Behind a load balancer or reverse proxy every connection comes from the proxy's few
//! addresses: there the per-client cap must be turned off (`--max-connections-per-client 0`)
//! and enforced by the proxy, which sees the real clients.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::activity::Activity;

/// Counts open connections, in total and per client.
#[derive(Debug)]
pub struct ConnectionLimits {
    total: usize,
    per_client: usize,
    open: Mutex<Open>,
    /// Set while the total cap is reached, so the warning is logged once per episode.
    full: AtomicBool,
    /// Told whenever a connection's place is freed.
    released: Notify,
}

#[derive(Debug, Default)]
struct Open {
    by_client: HashMap<IpAddr, usize>,
    connections: HashMap<u64, Entry>,
    /// How many of `connections` were told to close and have not yet.
    evicted: usize,
    next_id: u64,
}

#[derive(Debug)]
struct Entry {
    client: IpAddr,
    activity: Arc<Activity>,
    /// Told to close to make room; still open (and counted) until it has.
    evicted: bool,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The service holds its maximum number of connections, all of them busy.
    Full,
    /// This client holds its maximum number of connections.
    ClientFull,
}

/// A place taken by one connection; dropping it frees the place.
#[derive(Debug)]
pub struct Admission {
    limits: Arc<ConnectionLimits>,
    id: u64,
}

impl ConnectionLimits {
    /// `per_client` 0 means no per-client cap.
    pub fn new(total: usize, per_client: usize) -> Arc<Self> {
        Arc::new(ConnectionLimits {
            total: total.max(1),
            per_client: if per_client == 0 { usize::MAX } else { per_client },
            open: Mutex::new(Open::default()),
            full: AtomicBool::new(false),
            released: Notify::new(),
        })
    }

    /// Takes a place for a connection from `ip` whose doings `activity` tracks, evicting the
    /// longest-idle connection if the service is full; or says why there is no place.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, activity: &Arc<Activity>) -> Result<Admission, Refusal> {
        let client = client_of(ip);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.by_client.get(&client).is_some_and(|&n| n >= self.per_client) {
            return Err(Refusal::ClientFull);
        }
        if open.live() >= self.total {
            if !self.full.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "{} connections open, the most this service takes (--max-connections); closing the longest idle to make room",
                    self.total
                );
            }
            if !open.evict_longest_idle(Instant::now()) {
                return Err(Refusal::Full);
            }
        }
        *open.by_client.entry(client).or_insert(0) += 1;
        let id = open.next_id;
        open.next_id += 1;
        open.connections.insert(id, Entry { client, activity: activity.clone(), evicted: false });
        Ok(Admission { limits: self.clone(), id })
    }

    /// Waits until the connections told to make room have closed, for at most `patience`.
    pub async fn settle(&self, patience: Duration) {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if self.open() <= self.total {
                return;
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                tracing::debug!("evicted connections are slow to close; accepting anyway");
                return;
            }
        }
    }

    /// How many connections are open.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).connections.len()
    }

    fn release(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(id);
        if open.connections.len() < self.total {
            self.full.store(false, Ordering::Relaxed);
        }
        drop(open);
        self.released.notify_waiters();
    }
}

impl Open {
    /// Connections not told to close.
    fn live(&self) -> usize {
        self.connections.len() - self.evicted
    }

    /// Tells the connection idle longest to close; false if every one is busy.
    fn evict_longest_idle(&mut self, now: Instant) -> bool {
        let victim = self
            .connections
            .iter_mut()
            .filter(|(_, entry)| !entry.evicted)
            .filter_map(|(&id, entry)| entry.activity.idle_for(now).map(|idle| (idle, id, entry)))
            .max_by_key(|(idle, id, _)| (*idle, *id));
        match victim {
            Some((_, _, entry)) => {
                tracing::debug!(client = %entry.client, "connection closed to make room for a new one");
                entry.evicted = true;
                entry.activity.evict();
                self.evicted += 1;
                true
            }
            None => false,
        }
    }

    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.connections.remove(&id)?;
        if entry.evicted {
            self.evicted -= 1;
        }
        if let Some(count) = self.by_client.get_mut(&entry.client) {
            *count -= 1;
            if *count == 0 {
                self.by_client.remove(&entry.client);
            }
        }
        Some(entry)
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.limits.release(self.id);
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

    /// Admits a connection from `from`, returning its place and its activity.
    fn admit(limits: &Arc<ConnectionLimits>, from: &str) -> Result<(Admission, Arc<Activity>), Refusal> {
        let activity = Activity::new();
        limits.admit(ip(from), &activity).map(|a| (a, activity))
    }

    #[test]
    fn a_client_gets_its_share_and_a_full_service_makes_room_from_its_idlest() {
        let limits = ConnectionLimits::new(4, 2);
        let (a1, a1_activity) = admit(&limits, "10.0.0.1").unwrap();
        let _a2 = admit(&limits, "10.0.0.1").unwrap();
        assert_eq!(admit(&limits, "10.0.0.1").unwrap_err(), Refusal::ClientFull);
        let b1 = admit(&limits, "10.0.0.2").unwrap();
        let _b2 = admit(&limits, "10.0.0.2").unwrap();
        // Full: the newcomer gets in, and the connection idle longest, the first, must close.
        let _c1 = admit(&limits, "10.0.0.3").unwrap();
        assert_eq!(limits.open(), 5, "the evicted one counts until it has closed");
        let (_c2, c2_activity) = admit(&limits, "10.0.0.4").unwrap();
        let _working = c2_activity.handler();
        drop(a1);
        assert_eq!(limits.open(), 5, "the first one closed, the second idlest was told to");
        drop(a1_activity);
        drop(b1);
        assert_eq!(limits.open(), 4);
    }

    #[test]
    fn a_full_service_of_busy_connections_refuses() {
        let limits = ConnectionLimits::new(2, 0);
        let (_a, a) = admit(&limits, "10.0.0.1").unwrap();
        let (_b, b) = admit(&limits, "10.0.0.2").unwrap();
        let (_working_a, _working_b) = (a.handler(), b.handler());
        assert_eq!(admit(&limits, "10.0.0.3").unwrap_err(), Refusal::Full);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let limits = ConnectionLimits::new(10, 1);
        let _a = admit(&limits, "2001:db8:1:2::1").unwrap();
        assert_eq!(admit(&limits, "2001:db8:1:2::ffff").unwrap_err(), Refusal::ClientFull);
        assert!(admit(&limits, "2001:db8:1:3::1").is_ok());
        let _v4 = admit(&limits, "192.0.2.1").unwrap();
        assert_eq!(admit(&limits, "::ffff:192.0.2.1").unwrap_err(), Refusal::ClientFull);
    }

    #[test]
    fn zero_means_no_per_client_cap_and_places_are_freed() {
        let limits = ConnectionLimits::new(3, 0);
        let held: Vec<_> = (0..3).map(|_| admit(&limits, "10.0.0.1").unwrap()).collect();
        assert_eq!(limits.open(), 3);
        drop(held);
        assert_eq!(limits.open(), 0);
    }
}
