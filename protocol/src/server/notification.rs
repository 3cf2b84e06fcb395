//! Fast Leader Election's wire message (`FastLeaderElection.Notification` / `ToSend`), carried on
//! the election channel (`QuorumCnxManager`, port 3888).

use crate::observe::ServerState;
use crate::types::{Epoch, ServerId, Zxid};
use serde::{Deserialize, Serialize};

/// A vote as FLE sends it: `{state, leader, zxid, electionEpoch, peerEpoch, version}` (the
/// `config` bytes of dynamic reconfiguration are not modelled: the ensemble is static).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Notification {
    /// The sender's peer state.
    pub state: ServerState,
    /// The proposed leader's sid.
    pub leader: ServerId,
    /// The proposed leader's last zxid (in-memory `lastProcessedZxid`).
    pub zxid: Zxid,
    /// The sender's logical clock (`logicalclock`).
    pub election_epoch: u64,
    /// The proposed leader's epoch (`currentEpoch`, or the zxid's epoch).
    pub peer_epoch: Epoch,
    /// Notification format version (2 in ZooKeeper 3.6+).
    pub version: i32,
}

impl Notification {
    /// Encoded size in bytes as `QuorumCnxManager` frames it (length prefix + 5 longs/ints +
    /// version + empty config).
    pub const WIRE_BYTES: u64 = 4 + 4 + 8 + 8 + 8 + 8 + 4 + 4;
}
