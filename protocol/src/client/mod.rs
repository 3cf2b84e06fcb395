//! The sans-IO ZooKeeper client (`ZooKeeper` + `ClientCnxn`): connection, session, pending
//! requests in xid order, pings, reconnects within the session timeout, watch re-registration.
//!
//! The contract with the driver is [`io`].
//!
//! STATUS: contract only; the state machine is being built.

pub mod io;

pub use io::{ClientAction, ClientConn, ClientInput, ClientTimer, OpResult, OpToken};

use crate::types::{LocalTime, ServerId};

/// Client settings: the connect string and the requested session timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The connect string's servers.
    pub servers: Vec<ServerId>,
    /// Requested session timeout (ms).
    pub session_timeout_ms: u32,
}

/// One ZooKeeper client handle.
#[derive(Debug)]
pub struct ZooKeeper {
    config: ClientConfig,
}

impl ZooKeeper {
    /// A new client (not yet connected).
    pub fn new(config: ClientConfig) -> ZooKeeper {
        ZooKeeper { config }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Handles one input at local time `now`.
    pub fn handle(&mut self, now: LocalTime, input: ClientInput) -> Vec<ClientAction> {
        let _ = (now, input);
        Vec::new()
    }

    /// Whether operations are pending.
    pub fn work_outstanding(&self) -> bool {
        false
    }
}
