//! `StaticHostProvider`: the connect string's servers, shuffled once with the driver's entropy,
//! tried round-robin. After a full round without a connection the client spins (waits) before
//! trying the server it last connected to again.

use crate::types::ServerId;

/// The connect string, as ZooKeeper's `StaticHostProvider` walks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticHostProvider {
    servers: Vec<ServerId>,
    /// Index of the server most recently returned by `next` (`None` before the first).
    current_index: Option<usize>,
    /// Index of the server last connected to (`None` before the first `next`).
    last_index: Option<usize>,
}

impl StaticHostProvider {
    /// The servers in the order given, shuffled with `rng` (Fisher–Yates).
    pub fn new(mut servers: Vec<ServerId>, rng: &mut impl FnMut() -> u64) -> StaticHostProvider {
        assert!(
            !servers.is_empty(),
            "a connect string names at least one server"
        );
        for i in (1..servers.len()).rev() {
            let j = (rng() % (i as u64 + 1)) as usize;
            servers.swap(i, j);
        }
        StaticHostProvider {
            servers,
            current_index: None,
            last_index: None,
        }
    }

    /// How many servers the connect string names.
    pub fn size(&self) -> usize {
        self.servers.len()
    }

    /// The shuffled order.
    pub fn servers(&self) -> &[ServerId] {
        &self.servers
    }

    /// The next server, and the spin delay (ms) to wait first: `spin_delay_ms` when the round
    /// came back to the server last connected to, else 0.
    pub fn next(&mut self, spin_delay_ms: u64) -> (ServerId, u64) {
        let current = self
            .current_index
            .map_or(0, |i| (i + 1) % self.servers.len());
        self.current_index = Some(current);
        let delay = if self.last_index == Some(current) {
            spin_delay_ms
        } else {
            if self.last_index.is_none() {
                self.last_index = Some(0);
            }
            0
        };
        (self.servers[current], delay)
    }

    /// The connection to the current server succeeded.
    pub fn on_connected(&mut self) {
        assert!(self.current_index.is_some(), "connected before any next()");
        self.last_index = self.current_index;
    }
}
