//! `LearnerHandler.syncFollower`: how the leader brings a learner to its history.
//!
//! STATUS: the leader has no txn history yet (broadcast is not built), so the choice covers
//! the learner being level (empty DIFF), ahead (TRUNC to the leader's last zxid) or behind
//! (SNAP). The committed-log DIFF window comes with broadcast.

use crate::observe::{Observation, SyncMode};
use crate::server::core::PeerCore;
use crate::server::io::Conn;
use crate::server::quorum_packet::QuorumPacket;
use crate::types::{ServerId, Zxid};

/// Sends the sync decision for the learner `sid` whose last zxid is `peer_last`.
pub fn sync_follower(core: &mut PeerCore, conn: Conn, sid: ServerId, peer_last: Zxid) {
    let leader_last = core.last_logged_zxid;
    let (mode, zxid) = if peer_last == leader_last {
        (SyncMode::Diff, leader_last)
    } else if peer_last > leader_last {
        (SyncMode::Trunc, leader_last)
    } else {
        (SyncMode::Snap, leader_last)
    };
    core.observe(Observation::SyncModeChosen {
        leader: core.myid,
        learner: sid,
        mode,
        peer_last_zxid: peer_last,
        zxid,
    });
    let packet = match mode {
        SyncMode::Diff => QuorumPacket::Diff { zxid },
        SyncMode::Trunc => QuorumPacket::Trunc { zxid },
        SyncMode::Snap => QuorumPacket::Snap {
            zxid,
            image: Box::default(),
        },
    };
    core.send(conn, packet);
}
