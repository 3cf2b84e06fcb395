//! The ZooKeeper server (`QuorumPeer`): fast leader election, discovery, synchronization,
//! broadcast, heartbeats and sessions, as a sans-IO state machine.
//!
//! The contract with the driver is [`io`]: [`QuorumPeer::boot`] rebuilds the server from its
//! data directory's bytes, then every [`ServerInput`] returns the [`ServerAction`]s to perform.
//!
//! STATUS: contract only; the state machine is being built.

pub mod config;
pub mod election;
pub mod io;
pub mod notification;
pub mod quorum_packet;
pub mod variant;

pub use config::{PeerSpec, QuorumConfig};
pub use io::{
    Conn, DataDir, DiskFailure, DiskRequest, IoToken, Port, ServerAction, ServerInput, ServerTimer,
};
pub use notification::Notification;
pub use quorum_packet::QuorumPacket;
pub use variant::{Variant, Variants};

use crate::types::{LocalTime, ServerId};

/// One ZooKeeper server.
#[derive(Debug)]
pub struct QuorumPeer {
    config: QuorumConfig,
    myid: ServerId,
}

impl QuorumPeer {
    /// Rebuilds a server from its data directory (empty on first boot). Recovery failures are
    /// reported at [`ServerInput::Start`] as [`ServerAction::Halt`], as ZooKeeper exits at start-up.
    pub fn boot(config: QuorumConfig, myid: ServerId, data_dir: DataDir) -> QuorumPeer {
        let _ = data_dir;
        QuorumPeer { config, myid }
    }

    /// This server's sid.
    pub fn myid(&self) -> ServerId {
        self.myid
    }

    /// The configuration.
    pub fn config(&self) -> &QuorumConfig {
        &self.config
    }

    /// Handles one input at local time `now`.
    pub fn handle(&mut self, now: LocalTime, input: ServerInput) -> Vec<ServerAction> {
        let _ = (now, input);
        Vec::new()
    }

    /// Whether the server has accepted client work it has not answered yet (for stall
    /// detection).
    pub fn work_outstanding(&self) -> bool {
        false
    }
}
