//! The cluster glue: ZooKeeper servers and clients on the kernel.
//!
//! - [`server_node`]: a [`QuorumPeer`](zabsim_protocol::server::QuorumPeer) driven by kernel
//!   events, with `QuorumCnxManager`'s election channel;
//! - [`client_node`]: a ZooKeeper client library instance driven by the
//!   full-API [`crate::workload`] generator;
//! - [`recorder`]: the run's history and message counts, shared by every node;
//! - [`roles`]: "the leader", "a follower" … for fault targets;
//! - [`wire`]: what crosses the simulated network.
//!
//! Servers are kernel nodes `0..n` with sids `1..=n`; clients follow.

pub mod client_node;
pub mod recorder;
pub mod roles;
pub mod server_node;
pub mod wire;

use crate::kernel::{Ctx, Event, Process};
use client_node::ClientNode;
use server_node::ServerNode;
use wire::Wire;
use zabsim_protocol::client::ClientTimer;
use zabsim_protocol::server::ServerTimer;

/// A timer of any node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeTimer {
    /// A server's named timer.
    Server(ServerTimer),
    /// A client library's named timer.
    Client(ClientTimer),
    /// The workload's next operation.
    Workload,
}

/// Any node of a simulated ZooKeeper deployment.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum ZkNode {
    /// A server.
    Server(ServerNode),
    /// A client.
    Client(ClientNode),
}

impl ZkNode {
    /// The server, if this node is one.
    pub fn as_server(&self) -> Option<&ServerNode> {
        match self {
            ZkNode::Server(s) => Some(s),
            ZkNode::Client(_) => None,
        }
    }

    /// The client, if this node is one.
    pub fn as_client(&self) -> Option<&ClientNode> {
        match self {
            ZkNode::Client(c) => Some(c),
            ZkNode::Server(_) => None,
        }
    }
}

impl Process for ZkNode {
    type Msg = Wire;
    type Timer = NodeTimer;

    fn on_event(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, event: Event<Wire, NodeTimer>) {
        match self {
            ZkNode::Server(s) => s.on_event(ctx, event),
            ZkNode::Client(c) => c.on_event(ctx, event),
        }
    }

    fn work_outstanding(&self) -> bool {
        match self {
            ZkNode::Server(s) => s.work_outstanding(),
            ZkNode::Client(c) => c.work_outstanding(),
        }
    }
}
