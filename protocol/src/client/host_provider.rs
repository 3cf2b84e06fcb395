//! `StaticHostProvider`: the connect string's servers in a shuffled order, tried round-robin.

use crate::types::ServerId;

/// The servers of the connect string, shuffled once with the driver's entropy.
#[derive(Clone, Debug)]
pub struct HostProvider {
    servers: Vec<ServerId>,
    next: usize,
}

impl HostProvider {
    /// Shuffles `servers` with a Fisher–Yates pass driven by `entropy` (splitmix64 steps).
    pub fn new(mut servers: Vec<ServerId>, entropy: u64) -> HostProvider {
        assert!(
            !servers.is_empty(),
            "a connect string names at least one server"
        );
        let mut state = entropy;
        for i in (1..servers.len()).rev() {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let j = (z % (i as u64 + 1)) as usize;
            servers.swap(i, j);
        }
        HostProvider { servers, next: 0 }
    }

    /// The next server to try.
    pub fn next_server(&mut self) -> ServerId {
        let server = self.servers[self.next % self.servers.len()];
        self.next = (self.next + 1) % self.servers.len();
        server
    }

    /// How many servers the connect string names.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Never true: a provider has at least one server.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }
}
