//! Kernel process tests: pause defers (never loses) events, crashes and kills discard the old
//! incarnation's timers and completions, restarts rebuild the process from its disk, and a
//! process can exit. Method: scripted toy actors and the counter replicator of `testkit`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use zabsim_sim::kernel::testkit::{
    decode_log, replicator_world, scripted_world, Behaviour, Num, Replicator, Scripted, SeenLog,
    ToyCtx, ToyEvent, REPLICATOR_LOG,
};
use zabsim_sim::kernel::*;

const MS: u64 = 1_000_000;

fn config(seed: u64) -> KernelConfig {
    let mut c = KernelConfig::with_seed(seed);
    c.network.latency = LatencyDist::Fixed { us: 1_000 };
    c.network.detection_delay = LatencyDist::Fixed { us: 50_000 };
    c.disk.fsync_latency = LatencyDist::Fixed { us: 500 };
    c
}

/// Node 0 sends `Num(k)` at `10 + k` ms for k in 0..100 to node 1; node 1 arms a timer at
/// 100 ms.
fn sender_and_sleeper() -> Behaviour {
    let conn: Rc<RefCell<Option<ConnId>>> = Rc::default();
    Rc::new(
        move |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| match (ctx.node().0, ev) {
            (0, Event::Start) => {
                ctx.connect(NodeId(1));
                for k in 0..100 {
                    ctx.set_timer_after((10 + k) * MS, k);
                }
            }
            (0, Event::Connected { conn: c, .. }) => *conn.borrow_mut() = Some(*c),
            (0, Event::Timer { tag, .. }) => {
                if let Some(c) = *conn.borrow() {
                    ctx.send(c, Num(*tag));
                }
            }
            (1, Event::Start) => {
                ctx.set_timer_after(100 * MS, 1_000);
            }
            _ => {}
        },
    )
}

fn events_of(log: &SeenLog, node: NodeId) -> Vec<(SimTime, ToyEvent)> {
    log.borrow()
        .iter()
        .filter(|s| s.node == node)
        .map(|s| (s.global, s.event.clone()))
        .collect()
}

#[test]
fn a_paused_node_receives_nothing_until_it_resumes_and_then_everything_in_order() {
    let (world, log) = scripted_world(config(1), 2, sender_and_sleeper());
    let mut s = Simulation::new(world, NoRoles);
    s.run_until_time(SimTime(50 * MS));
    s.world.pause(NodeId(1));
    s.run_until_time(SimTime(300 * MS));
    let before: usize = events_of(&log, NodeId(1)).len();
    assert!(events_of(&log, NodeId(1))
        .iter()
        .all(|(t, _)| *t <= SimTime(50 * MS)));
    s.world.resume(NodeId(1));
    s.run_until_time(SimTime(400 * MS));
    let after = events_of(&log, NodeId(1));
    let resumed: Vec<&(SimTime, ToyEvent)> = after[before..].iter().collect();
    assert!(
        resumed.iter().all(|(t, _)| *t == SimTime(300 * MS)),
        "all at the resume instant"
    );
    // The deferred timer comes first, then the held messages, in order and complete.
    assert!(matches!(resumed[0].1, Event::Timer { tag: 1_000, .. }));
    let msgs: Vec<u64> = after
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Message { msg, .. } => Some(msg.0),
            _ => None,
        })
        .collect();
    assert_eq!(msgs, (0..100).collect::<Vec<_>>());
    assert_eq!(s.world.net_stats().lost, 0);
}

#[test]
fn a_crash_discards_the_old_incarnations_timers_and_a_restart_starts_afresh() {
    let (world, log) = scripted_world(config(2), 2, sender_and_sleeper());
    let mut s = Simulation::new(world, NoRoles);
    s.run_until_time(SimTime(50 * MS));
    s.world.crash(NodeId(1), CrashDisk::LosePending);
    assert_eq!(s.world.status(NodeId(1)), NodeStatus::Down);
    s.run_until_time(SimTime(60 * MS));
    s.world.restart(NodeId(1));
    s.run_until_time(SimTime(500 * MS));
    let ev1 = events_of(&log, NodeId(1));
    let timers: Vec<SimTime> = ev1
        .iter()
        .filter_map(|(t, e)| matches!(e, Event::Timer { .. }).then_some(*t))
        .collect();
    // The first incarnation's 100 ms timer never fires; the second's fires at 60 + 100 ms.
    assert_eq!(timers, vec![SimTime(160 * MS)]);
    let starts = log
        .borrow()
        .iter()
        .filter(|e| e.node == NodeId(1) && e.event == Event::Start)
        .map(|e| e.incarnation)
        .collect::<Vec<_>>();
    assert_eq!(starts, vec![1, 2]);
    // Node 0 learns its connection broke after the detection delay, then its sends are lost.
    let lost: Vec<SimTime> = events_of(&log, NodeId(0))
        .iter()
        .filter_map(|(t, e)| {
            matches!(
                e,
                Event::Disconnected {
                    reason: DisconnectReason::Broken,
                    ..
                }
            )
            .then_some(*t)
        })
        .collect();
    assert_eq!(lost, vec![SimTime(100 * MS)]);
}

#[test]
fn a_restarted_replicator_recovers_its_durable_counter_from_disk() {
    let mut s = Simulation::new(replicator_world(config(3), 3, 10), NoRoles);
    s.run_until_time(SimTime(505 * MS));
    let before = s.world.process(NodeId(0)).unwrap().durable;
    assert!(before >= 40, "about one value per 10 ms: {before}");
    s.world.crash(NodeId(0), CrashDisk::TornPrefix);
    s.world.restart(NodeId(0));
    s.run_until_time(SimTime(506 * MS));
    let p = s.world.process(NodeId(0)).unwrap();
    let (values, _) = decode_log(&s.world.disk(NodeId(0)).read(REPLICATOR_LOG).unwrap());
    assert_eq!(p.durable, *values.last().unwrap());
    assert!(p.durable >= before, "nothing durable was lost");
    // Replicas acknowledged only values they had made durable.
    s.run_until_time(SimTime(2_000 * MS));
    let primary: &Replicator = s.world.process(NodeId(0)).unwrap();
    for (&replica, &acked) in &primary.acked {
        let (vals, _) = decode_log(
            &s.world
                .disk(replica)
                .durable_content(REPLICATOR_LOG)
                .unwrap(),
        );
        assert!(
            vals.contains(&acked),
            "{replica} acked {acked} without it being durable"
        );
    }
    assert_eq!(primary.acked.len(), 2);
}

#[test]
fn exit_takes_the_process_down_and_peers_see_a_reset() {
    let behaviour: Behaviour =
        Rc::new(
            |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| match (ctx.node().0, ev) {
                (0, Event::Start) => {
                    ctx.connect(NodeId(1));
                }
                (0, Event::Connected { conn, .. }) => ctx.send(*conn, Num(1)),
                (1, Event::Message { .. }) => ctx.exit(),
                _ => {}
            },
        );
    let (world, log) = scripted_world(config(4), 2, behaviour);
    let mut s = Simulation::new(world, NoRoles);
    s.run_until_time(SimTime(100 * MS));
    assert_eq!(s.world.status(NodeId(1)), NodeStatus::Down);
    let resets: Vec<SimTime> = events_of(&log, NodeId(0))
        .iter()
        .filter_map(|(t, e)| {
            matches!(
                e,
                Event::Disconnected {
                    reason: DisconnectReason::PeerReset,
                    ..
                }
            )
            .then_some(*t)
        })
        .collect();
    // Connected at 2 ms, the message arrives at 3 ms, the reset one latency later.
    assert_eq!(resets, vec![SimTime(4 * MS)]);
}

#[test]
fn a_paused_node_still_completes_handshakes_but_accepts_later() {
    let behaviour: Behaviour = Rc::new(|ctx: &mut ToyCtx<'_>, ev: &ToyEvent| {
        if let (0, Event::Start) = (ctx.node().0, ev) {
            ctx.set_timer_after(10 * MS, 0);
        }
        if let (0, Event::Timer { .. }) = (ctx.node().0, ev) {
            ctx.connect(NodeId(1));
        }
    });
    let (world, log) = scripted_world(config(5), 2, behaviour);
    let mut s = Simulation::new(world, NoRoles);
    s.run_until_time(SimTime(5 * MS));
    s.world.pause(NodeId(1));
    s.run_until_time(SimTime(100 * MS));
    s.world.resume(NodeId(1));
    s.run_until_time(SimTime(200 * MS));
    let kinds: BTreeMap<&str, SimTime> = log
        .borrow()
        .iter()
        .filter(|e| !matches!(e.event, Event::Start | Event::Timer { .. }))
        .map(|e| (e.event.name(), e.global))
        .collect();
    assert_eq!(kinds.get("connected"), Some(&SimTime(12 * MS)));
    assert_eq!(kinds.get("accepted"), Some(&SimTime(100 * MS)));
}

/// Swarm seed 8480: `HealAll` heals the network (waking held pipes) before it resumes paused
/// nodes. A connection accepted while the node was paused must still reach it before the
/// messages sent on it; it once came after them, so the server dropped the election hello on
/// an unknown connection and ignored every vote on it (a LOOKING server stuck for good).
#[test]
fn an_accept_deferred_by_a_pause_comes_before_the_messages_on_that_connection() {
    let behaviour: Behaviour =
        Rc::new(
            |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| match (ctx.node().0, ev) {
                (0, Event::Start) => {
                    ctx.set_timer_after(10 * MS, 0);
                }
                (0, Event::Timer { .. }) => {
                    ctx.connect(NodeId(1));
                }
                (0, Event::Connected { conn, .. }) => ctx.send(*conn, Num(7)),
                _ => {}
            },
        );
    let (world, log) = scripted_world(config(6), 2, behaviour);
    let mut s = Simulation::new(world, NoRoles);
    s.run_until_time(SimTime(5 * MS));
    s.world.pause(NodeId(1));
    s.run_until_time(SimTime(100 * MS));
    s.world.heal_network();
    s.world.resume(NodeId(1));
    s.run_until_time(SimTime(200 * MS));
    let seen: Vec<&str> = events_of(&log, NodeId(1))
        .iter()
        .filter(|(_, e)| !matches!(e, Event::Start | Event::Timer { .. }))
        .map(|(_, e)| e.name())
        .collect();
    assert_eq!(seen, ["accepted", "message"]);
}

#[test]
fn the_world_can_be_inspected_without_a_driver() {
    let (mut world, _) =
        scripted_world(config(6), 1, Rc::new(|_: &mut ToyCtx<'_>, _: &ToyEvent| {}));
    assert_eq!(world.step(), Step::Event);
    assert_eq!(world.status(NodeId(0)), NodeStatus::Running);
    assert_eq!(world.step(), Step::Idle);
    let _: Option<&Scripted> = world.process(NodeId(0));
}

#[test]
fn crash_points_enumerate_every_boundary_between_persistent_writes() {
    // The primary's disk operations are: append v1, fsync, append v2, fsync, ... (one pair
    // per 10 ms tick). Crashing right after operation k leaves the (k - 1) / 2 values whose
    // fsync had completed; with a torn crash the last, unsynced append may also have survived,
    // whole or torn (then recovery drops it), but nothing issued after the crash point.
    for k in 1..=8u64 {
        for disk in [CrashDisk::LosePending, CrashDisk::TornPrefix] {
            let mut s = Simulation::new(replicator_world(config(7 + k), 1, 10), NoRoles);
            s.world.crash_after_disk_ops(NodeId(0), k, disk);
            s.run_until_time(SimTime(100 * MS));
            assert_eq!(s.world.status(NodeId(0)), NodeStatus::Down, "k = {k}");
            s.world.restart(NodeId(0));
            s.run_until_time(SimTime(100 * MS + 1));
            let p: &Replicator = s.world.process(NodeId(0)).unwrap();
            let synced = (k - 1) / 2;
            match disk {
                CrashDisk::LosePending => {
                    assert_eq!((p.durable, p.torn_at_boot), (synced, 0), "k = {k}");
                }
                CrashDisk::TornPrefix => {
                    assert!(
                        p.durable == synced || p.durable == synced + 1,
                        "k = {k}: {}",
                        p.durable
                    );
                }
            }
        }
    }
}
