//! Kernel fault machinery tests: timelines with timed heals, role targets resolved by the glue's
//! resolver, the nemesis' one-fault-at-a-time schedule with stability windows and a final heal,
//! guard rails (stall, time and event limits), and the RON form of the fault vocabulary.

use std::rc::Rc;

use serde::Deserialize;
use zabsim_sim::kernel::testkit::{
    replicator_world, scripted_world, Replicator, Scripted, ToyCtx, ToyEvent,
};
use zabsim_sim::kernel::*;

const MS: u64 = 1_000_000;

/// The toy replicator's roles: node 0 is the primary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
enum ToyRole {
    Primary,
    Replica,
}

struct ToyResolver;

impl RoleResolver<Replicator> for ToyResolver {
    type Role = ToyRole;
    fn nodes_with_role(&self, world: &World<Replicator>, role: &ToyRole) -> Vec<NodeId> {
        world
            .nodes()
            .into_iter()
            .filter(|&n| world.process(n).is_some())
            .filter(|&n| (n == NodeId(0)) == (*role == ToyRole::Primary))
            .collect()
    }
}

fn replicators(seed: u64, n: usize) -> Simulation<Replicator, ToyResolver> {
    let mut cfg = KernelConfig::with_seed(seed);
    cfg.network.latency = LatencyDist::Fixed { us: 1_000 };
    Simulation::new(replicator_world(cfg, n, 10), ToyResolver)
}

#[test]
fn a_timed_fault_is_resolved_when_it_applies_and_its_inverse_heals_exactly_it() {
    let mut s = replicators(1, 3);
    s.schedule_faults(vec![ScheduledFault {
        at_ms: 100,
        fault: FaultKind::Pause {
            target: Target::Role(ToyRole::Primary),
        },
        heal_after_ms: Some(50),
    }]);
    s.run_until_time(SimTime(120 * MS));
    assert_eq!(s.world.status(NodeId(0)), NodeStatus::Paused);
    assert_eq!(s.world.status(NodeId(1)), NodeStatus::Running);
    s.run_until_time(SimTime(200 * MS));
    assert_eq!(s.world.status(NodeId(0)), NodeStatus::Running);
    let log: Vec<(SimTime, String)> = s
        .fault_log()
        .iter()
        .map(|f| (f.at, f.fault.clone()))
        .collect();
    assert_eq!(
        log,
        vec![
            (
                SimTime(100 * MS),
                "Pause { target: Nodes([NodeId(0)]) }".to_string()
            ),
            (
                SimTime(150 * MS),
                "Resume { target: Nodes([NodeId(0)]) }".to_string()
            ),
        ]
    );
}

#[test]
fn random_targets_come_from_the_faultable_nodes_and_minorities_are_minorities() {
    let mut s = replicators(2, 5);
    for _ in 0..50 {
        let r = s.apply_now(&FaultKind::Isolate {
            target: Target::RandomMinority,
        });
        let FaultKind::Isolate {
            target: Target::Nodes(ns),
        } = r
        else {
            panic!("{r:?}")
        };
        assert!((1..=2).contains(&ns.len()), "{ns:?}");
        let r = s.apply_now(&FaultKind::Kill {
            target: Target::OneOfRole(ToyRole::Replica),
        });
        let FaultKind::Kill {
            target: Target::Nodes(ns),
        } = r
        else {
            panic!("{r:?}")
        };
        assert!(ns.len() <= 1 && !ns.contains(&NodeId(0)));
        s.world.heal_all();
    }
}

#[test]
fn the_nemesis_runs_one_fault_at_a_time_with_stability_windows_and_heals_at_the_end() {
    let mut s = replicators(3, 5);
    let cfg = NemesisConfig {
        start_ms: 100,
        end_ms: 5_000,
        gap_ms: SpanMs::new(10, 50),
        fault_ms: SpanMs::new(20, 200),
        stability_ms: 100,
        kinds: vec![
            Weighted {
                kind: NemesisKind::Crash,
                weight: 3,
            },
            Weighted {
                kind: NemesisKind::Pause,
                weight: 3,
            },
            Weighted {
                kind: NemesisKind::Isolate,
                weight: 3,
            },
        ],
        roles: vec![ToyRole::Primary],
    };
    cfg.validate().unwrap();
    s.start_nemesis(cfg);
    assert_eq!(s.run_until_time(SimTime(6_000 * MS)), Outcome::Reached);
    let log = s.fault_log();
    assert!(log.len() >= 10, "{} faults", log.len());
    assert!(log.iter().all(|f| f.error.is_none()));
    // Faults and heals alternate; a fault follows the previous heal by at least the window.
    let (faults, rest): (Vec<_>, Vec<_>) = log[..log.len() - 1]
        .iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    for ((_, f), (_, h)) in faults.iter().zip(&rest) {
        let heal = f
            .fault
            .replace("Crash", "Restart")
            .replace("Pause", "Resume");
        assert!(
            h.fault.starts_with("HealNetwork")
                || heal.starts_with(h.fault.split(' ').next().unwrap()),
            "{f:?} then {h:?}"
        );
        assert!(h.at > f.at);
    }
    for w in rest.iter().zip(faults.iter().skip(1)) {
        let ((_, heal), (_, next)) = w;
        assert!(
            next.at.since(heal.at) >= 100 * MS,
            "stability window violated: {heal:?} {next:?}"
        );
    }
    assert_eq!(log.last().unwrap().fault, "HealAll");
    s.world.check_invariants();
    assert!(s
        .world
        .nodes()
        .iter()
        .all(|&n| s.world.status(n) == NodeStatus::Running));
}

/// A process that always has work outstanding and never schedules anything.
#[test]
fn no_event_while_work_is_outstanding_is_a_stall() {
    struct Stuck;
    impl Process for Stuck {
        type Msg = zabsim_sim::kernel::testkit::Num;
        type Timer = u64;
        fn on_event(&mut self, _: &mut Ctx<'_, Self::Msg, u64>, _: Event<Self::Msg, u64>) {}
        fn work_outstanding(&self) -> bool {
            true
        }
    }
    let mut world: World<Stuck> = World::new(KernelConfig::with_seed(4));
    let n = world.add_node(NodeOptions::named("stuck"), Box::new(|_| Stuck));
    world.start(n);
    let mut s = Simulation::new(world, NoRoles);
    let outcome = s.run_until(|_| false);
    assert_eq!(outcome, Outcome::Stalled { at: SimTime::ZERO });
    assert!(outcome.is_stall());
    assert_eq!(s.world.nodes_with_outstanding_work(), vec![n]);
}

#[test]
fn an_idle_world_without_outstanding_work_is_quiescent() {
    let (world, _) = scripted_world(
        KernelConfig::with_seed(5),
        2,
        Rc::new(|_: &mut ToyCtx<'_>, _: &ToyEvent| {}),
    );
    let mut s: Simulation<Scripted, NoRoles> = Simulation::new(world, NoRoles);
    assert_eq!(s.run_until(|_| false), Outcome::Quiescent);
}

#[test]
fn time_and_event_limits_stop_the_run() {
    let mut cfg = KernelConfig::with_seed(6);
    cfg.limits.max_time_ms = Some(1_000);
    let mut s = Simulation::new(replicator_world(cfg.clone(), 3, 10), NoRoles);
    assert_eq!(
        s.run_until(|_| false),
        Outcome::TimeLimit {
            at: SimTime(1_000 * MS)
        }
    );
    assert!(s.world.now() <= SimTime(1_000 * MS));
    cfg.limits = Limits {
        max_time_ms: None,
        max_events: Some(500),
    };
    let mut s = Simulation::new(replicator_world(cfg, 3, 10), NoRoles);
    assert_eq!(s.run_until(|_| false), Outcome::EventLimit { events: 500 });
}

#[test]
fn faults_read_from_ron_with_clear_errors_for_unknown_fields() {
    let text = "[
        (at_ms: 100, fault: Crash(target: Role(Primary), disk: TornPrefix), heal_after_ms: Some(50)),
        (at_ms: 200, fault: Clog(from: Node(1), to: All, duration_ms: 30)),
        (at_ms: 300, fault: OutOfModel(BitFlip(target: Random, file: Prefix(\"log.\"), region: Tail(len: 16)))),
        (at_ms: 400, fault: PartitionGroups(groups: [Nodes([0, 1]), Nodes([2])])),
        (at_ms: 500, fault: CrashAfterDiskOps(target: Node(0), ops: 3)),
    ]";
    let faults: Vec<ScheduledFault<ToyRole>> = ron::from_str(text).unwrap();
    assert_eq!(faults.len(), 5);
    assert!(faults.iter().all(|f| f.fault.validate().is_ok()));
    assert_eq!(
        faults[0].fault,
        FaultKind::Crash {
            target: Target::Role(ToyRole::Primary),
            disk: CrashDisk::TornPrefix
        }
    );
    let bad = "(at_ms: 1, fault: Kill(target: Random, when: 3))";
    let err = ron::from_str::<ScheduledFault<ToyRole>>(bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("when"), "{err}");
    let cfg: KernelConfig = ron::from_str("(seed: 7, network: (latency: Fixed(us: 5)))").unwrap();
    assert_eq!(cfg.seed, 7);
    assert!(ron::from_str::<KernelConfig>("(sead: 7)")
        .unwrap_err()
        .to_string()
        .contains("sead"));
}

#[test]
fn validation_names_the_bad_field() {
    let jump: FaultKind<NoRole> = FaultKind::ClockJump {
        target: Target::All,
        clock: ClockKind::Monotonic,
        delta_ms: -5,
    };
    assert!(jump.validate().unwrap_err().contains("delta_ms"));
    let msgs: FaultKind<NoRole> = FaultKind::OutOfModel(OutOfModelFault::Messages {
        kind: MessageFaultKind::Drop,
        from: Target::All,
        to: Target::All,
        chance: Ratio {
            numerator: 1,
            denominator: 0,
        },
        duration_ms: 1,
    });
    assert!(msgs.validate().unwrap_err().contains("chance"));
    assert!(msgs.is_out_of_model());
    let ok: FaultKind<NoRole> = FaultKind::Kill {
        target: Target::Random,
    };
    assert_eq!(ok.validate(), Ok(()));
    // A bad chance that slips through validation is refused at apply time, not a panic.
    let mut s = replicators(9, 3);
    let r: FaultKind<ToyRole> = FaultKind::OutOfModel(OutOfModelFault::Messages {
        kind: MessageFaultKind::Drop,
        from: Target::All,
        to: Target::All,
        chance: Ratio {
            numerator: 2,
            denominator: 1,
        },
        duration_ms: 1,
    });
    s.apply_now(&r);
    assert!(s.fault_log()[0]
        .error
        .as_deref()
        .unwrap()
        .contains("chance"));
    let spec = ClockSpec {
        drift_ppm: 1_000_000,
        ..ClockSpec::default()
    };
    assert!(spec.validate().is_err());
    let mut w: World<Replicator> = World::new(KernelConfig::with_seed(1));
    let opts = NodeOptions {
        name: "x".into(),
        faultable: true,
        clock: Some(spec),
    };
    assert!(w.try_add_node(opts, Replicator::factory(10)).is_err());
}
