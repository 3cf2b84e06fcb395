//! Building the world of a scenario and seed: servers (sids 1..=n on nodes 0..n), clients after
//! them, the fault timeline and the nemesis (drawn from the swarm ranges in swarm mode).

use super::RunSpec;
use crate::cluster::client_node::ClientNode;
use crate::cluster::recorder::{Recorder, SharedRecorder};
use crate::cluster::roles::{Role, ZkRoles};
use crate::cluster::server_node::ServerNode;
use crate::cluster::ZkNode;
use crate::kernel::{NemesisConfig, NodeOptions, SimRng, SimTime, Simulation, Stream, World};
use crate::workload::Workload;
use zabsim_protocol::types::ServerId;

/// A world ready to run, with what was derived from the seed.
pub struct Built {
    /// The simulation.
    pub sim: Simulation<ZkNode, ZkRoles>,
    /// The shared recorder.
    pub recorder: SharedRecorder,
    /// The nemesis this seed runs (swarm mode: drawn from the seed).
    pub nemesis: Option<NemesisConfig<Role>>,
    /// The variants switched on.
    pub variants: Vec<String>,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("nemesis", &self.nemesis)
            .finish()
    }
}

/// Builds the world of `spec`.
pub fn build(spec: &RunSpec<'_>) -> Built {
    let scenario = spec.scenario;
    let mut kernel = scenario.kernel.clone();
    kernel.seed = spec.seed;
    let mut world: World<ZkNode> = World::new(kernel);
    let recorder = Recorder::shared();
    let config = scenario.quorum_config(spec.variants);
    let variants = config
        .variants
        .0
        .iter()
        .map(|v| v.name().to_string())
        .collect();
    let servers = scenario.server_count();
    for i in 0..servers {
        let config = config.clone();
        let recorder = recorder.clone();
        let id = world.add_node(
            NodeOptions::named(format!("s{}", i + 1)),
            Box::new(move |ctx| {
                ZkNode::Server(ServerNode::boot(ctx, config.clone(), recorder.clone()))
            }),
        );
        for (name, bytes) in &scenario.initial_files {
            world.preload_file(id, name, bytes);
        }
        world.start(id);
    }
    let connect: Vec<ServerId> = (1..=u64::from(servers)).map(ServerId).collect();
    let stop_at = SimTime::from_millis(scenario.phases.workload_end_ms());
    for c in 0..scenario.cluster.clients {
        let recorder = recorder.clone();
        let connect = connect.clone();
        let workload = scenario.workload.clone();
        let mut options = NodeOptions::named(format!("c{c}"));
        options.faultable = false;
        let id = world.add_node(
            options,
            Box::new(move |ctx| {
                ZkNode::Client(ClientNode::new(
                    ctx,
                    c,
                    connect.clone(),
                    Workload::new(workload.clone()).expect("validated with the scenario"),
                    stop_at,
                    recorder.clone(),
                ))
            }),
        );
        world.start(id);
    }
    let roles = ZkRoles::new(recorder.clone(), servers);
    let mut sim = Simulation::new(world, roles);
    sim.schedule_faults(scenario.faults.clone());
    let nemesis = match (&scenario.nemesis, &scenario.swarm) {
        (Some(n), _) => Some(n.clone()),
        (None, Some(swarm)) => {
            let mut rng = SimRng::new(spec.seed, Stream::Custom(1));
            Some(swarm.derive(&mut rng))
        }
        (None, None) => None,
    };
    if let Some(n) = &nemesis {
        sim.start_nemesis(n.clone());
    }
    Built {
        sim,
        recorder,
        nemesis,
        variants,
    }
}
