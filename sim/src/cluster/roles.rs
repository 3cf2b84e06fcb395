//! Fault targets by role: the current leader, the followers, any server, the clients.

use super::recorder::SharedRecorder;
use super::server_node::node_of;
use super::ZkNode;
use crate::kernel::{NodeId, NodeStatus, RoleResolver, World};
use serde::{Deserialize, Serialize};
use zabsim_protocol::observe::ServerState;

/// A role a scenario can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// The server that leads the newest epoch (nobody while there is none).
    Leader,
    /// The running servers that follow.
    Followers,
    /// Every server node.
    Servers,
    /// Every client node.
    Clients,
}

/// Resolves roles from what the servers reported (their latest `ServerStateChanged`).
#[derive(Debug, Clone)]
pub struct ZkRoles {
    recorder: SharedRecorder,
    servers: u32,
}

impl ZkRoles {
    /// A resolver over `servers` server nodes reporting to `recorder`.
    pub fn new(recorder: SharedRecorder, servers: u32) -> ZkRoles {
        ZkRoles { recorder, servers }
    }
}

impl RoleResolver<ZkNode> for ZkRoles {
    type Role = Role;

    fn nodes_with_role(&self, world: &World<ZkNode>, role: &Role) -> Vec<NodeId> {
        let alive = |n: &NodeId| world.status(*n) == NodeStatus::Running;
        let recorder = self.recorder.borrow();
        let mut nodes: Vec<NodeId> = match role {
            Role::Leader => recorder
                .leaders()
                .first()
                .map(|sid| node_of(*sid))
                .into_iter()
                .filter(alive)
                .collect(),
            Role::Followers => recorder
                .servers
                .iter()
                .filter(|(_, v)| v.state == Some(ServerState::Following))
                .map(|(sid, _)| node_of(*sid))
                .filter(alive)
                .collect(),
            Role::Servers => (0..self.servers).map(NodeId).collect(),
            Role::Clients => world
                .nodes()
                .into_iter()
                .filter(|n| n.0 >= self.servers)
                .collect(),
        };
        nodes.sort();
        nodes
    }
}
