//! Kernel network tests: each network fault does exactly what `kernel/net.rs` says it does.
//! Method: toy scripted actors on a network with fixed latencies, so every expected delivery
//! time can be computed by hand; a property test covers FIFO under long-tailed jitter.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use proptest::prelude::*;
use zabsim_sim::kernel::testkit::{
    scripted_world, Behaviour, Num, Scripted, SeenLog, ToyCtx, ToyEvent,
};
use zabsim_sim::kernel::*;

const L: u64 = 10_000_000; // one-way latency: 10 ms
const DETECT: u64 = 100_000_000; // detection delay: 100 ms
const CONNECT_TIMEOUT: u64 = 1_000_000_000;

fn fixed_config(seed: u64) -> KernelConfig {
    let mut c = KernelConfig::with_seed(seed);
    c.network.latency = LatencyDist::Fixed { us: L / 1000 };
    c.network.detection_delay = LatencyDist::Fixed { us: DETECT / 1000 };
    c.network.connect_timeout_ms = CONNECT_TIMEOUT / 1_000_000;
    c.trace = TraceMode::Full;
    c
}

type Conns = Rc<RefCell<BTreeMap<NodeId, ConnId>>>;

/// Node 0 connects to node 1 at start; both remember the connection; every timer tick `k`
/// sends `Num(node * 1000 + k)` on it.
fn pair_behaviour(conns: &Conns) -> Behaviour {
    let conns = Rc::clone(conns);
    Rc::new(move |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| match ev {
        Event::Start if ctx.node() == NodeId(0) => {
            ctx.connect(NodeId(1));
        }
        Event::Connected { conn, .. } | Event::Accepted { conn, .. } => {
            conns.borrow_mut().insert(ctx.node(), *conn);
        }
        Event::Timer { tag, .. } => {
            if let Some(&c) = conns.borrow().get(&ctx.node()) {
                ctx.send(c, Num(u64::from(ctx.node().0) * 1000 + tag));
            }
        }
        _ => {}
    })
}

fn sim(world: World<Scripted>) -> Simulation<Scripted, NoRoles> {
    Simulation::new(world, NoRoles)
}

fn messages_at(log: &SeenLog, node: NodeId) -> Vec<(SimTime, u64)> {
    log.borrow()
        .iter()
        .filter(|s| s.node == node)
        .filter_map(|s| match s.event {
            Event::Message { msg, .. } => Some((s.global, msg.0)),
            _ => None,
        })
        .collect()
}

fn disconnects_at(log: &SeenLog, node: NodeId) -> Vec<(SimTime, DisconnectReason)> {
    log.borrow()
        .iter()
        .filter(|s| s.node == node)
        .filter_map(|s| match s.event {
            Event::Disconnected { reason, .. } => Some((s.global, reason)),
            _ => None,
        })
        .collect()
}

/// A pair world where each node sends one message every 1 ms from `from_ms` for `count` ms.
fn chatty_pair(seed: u64, from_ms: u64, count: u64) -> (Simulation<Scripted, NoRoles>, SeenLog) {
    let conns: Conns = Rc::default();
    let inner = pair_behaviour(&conns);
    let behaviour: Behaviour = Rc::new(move |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| {
        if let Event::Start = ev {
            for k in 0..count {
                ctx.set_timer_after((from_ms + k) * 1_000_000, k);
            }
        }
        inner(ctx, ev);
    });
    let (world, log) = scripted_world(fixed_config(seed), 2, behaviour);
    (sim(world), log)
}

#[test]
fn connection_handshake_takes_one_latency_each_way_and_carries_the_port() {
    let behaviour: Behaviour = Rc::new(|ctx: &mut ToyCtx<'_>, ev: &ToyEvent| {
        if let (Event::Start, 0) = (ev, ctx.node().0) {
            let c = ctx.connect_port(NodeId(1), 2888);
            assert_eq!((ctx.port(c), ctx.peer(c)), (Some(2888), Some(NodeId(1))));
        }
    });
    let (world, log) = scripted_world(fixed_config(1), 2, behaviour);
    let mut s = sim(world);
    s.run_until_time(SimTime(L * 3));
    let seen = log.borrow();
    let accepted = seen
        .iter()
        .find(|e| matches!(e.event, Event::Accepted { .. }))
        .unwrap();
    let connected = seen
        .iter()
        .find(|e| matches!(e.event, Event::Connected { .. }))
        .unwrap();
    assert_eq!((accepted.node, accepted.global), (NodeId(1), SimTime(L)));
    assert!(matches!(
        accepted.event,
        Event::Accepted {
            port: 2888,
            peer: NodeId(0),
            ..
        }
    ));
    assert_eq!(
        (connected.node, connected.global),
        (NodeId(0), SimTime(2 * L))
    );
}

#[test]
fn a_one_way_partition_is_one_way_until_the_connections_break() {
    // Both nodes send one message per millisecond from t = 100 ms to 299 ms. At t = 150 ms,
    // 0 -> 1 is blocked. Node 0 keeps hearing node 1 until the connection breaks at
    // 150 + DETECT ms; node 1 hears nothing node 0 sent from 140 ms on (in flight or later).
    let (mut s, log) = chatty_pair(2, 100, 200);
    let t = SimTime::from_millis(150);
    s.run_until_time(t);
    s.world.partition_one_way(&[NodeId(0)], &[NodeId(1)]);
    s.run_until_time(SimTime::from_millis(1_000));

    let to_1 = messages_at(&log, NodeId(1));
    let to_0 = messages_at(&log, NodeId(0));
    // Node 1: only what node 0 sent by 140 ms (delivered by 150 ms, before the partition).
    assert!(to_1.iter().all(|&(at, _)| at <= t), "{to_1:?}");
    assert_eq!(
        to_1.last().map(|&(_, v)| v),
        Some(40),
        "sent at 140 ms, delivered at 150 ms"
    );
    // Node 0: still hears node 1 during the detection window.
    let during: Vec<_> = to_0.iter().filter(|&&(at, _)| at > t).collect();
    assert!(
        !during.is_empty(),
        "the unblocked direction stopped flowing"
    );
    let brk = t.plus_ns(DETECT);
    assert!(to_0.iter().all(|&(at, _)| at < brk));
    // Both ends learn of the break exactly when the partition has lasted the detection delay.
    assert_eq!(
        disconnects_at(&log, NodeId(0)),
        vec![(brk, DisconnectReason::Broken)]
    );
    assert_eq!(
        disconnects_at(&log, NodeId(1)),
        vec![(brk, DisconnectReason::Broken)]
    );
}

#[test]
fn a_new_connection_across_a_partition_times_out_in_either_direction() {
    for (from, to) in [(0u32, 1u32), (1, 0)] {
        let behaviour: Behaviour = Rc::new(move |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| {
            if let (Event::Start, true) = (ev, ctx.node() == NodeId(from)) {
                ctx.set_timer_after(5_000_000, 0);
            }
            if let Event::Timer { .. } = ev {
                ctx.connect(NodeId(to));
            }
        });
        let (world, log) = scripted_world(fixed_config(3), 2, behaviour);
        let mut s = sim(world);
        s.world.partition_one_way(&[NodeId(0)], &[NodeId(1)]);
        s.run_until_time(SimTime::from_millis(5_000));
        let seen = log.borrow();
        let failed: Vec<_> = seen
            .iter()
            .filter_map(|e| match e.event {
                Event::ConnectFailed { error, .. } => Some((e.node, e.global, error)),
                _ => None,
            })
            .collect();
        let at = SimTime(5_000_000 + CONNECT_TIMEOUT);
        assert_eq!(failed, vec![(NodeId(from), at, ConnectError::TimedOut)]);
        assert!(!seen
            .iter()
            .any(|e| matches!(e.event, Event::Connected { .. })));
    }
}

#[test]
fn clogged_messages_arrive_in_order_when_the_clog_releases_and_nothing_breaks() {
    let (mut s, log) = chatty_pair(4, 100, 20);
    s.run_until_time(SimTime::from_millis(95));
    s.world.clog(&[NodeId(0)], &[NodeId(1)], 50_000_000);
    s.run_until_time(SimTime::from_millis(1_000));
    let to_1 = messages_at(&log, NodeId(1));
    assert_eq!(
        to_1.iter().map(|&(_, v)| v).collect::<Vec<_>>(),
        (0..20).collect::<Vec<_>>()
    );
    let release = SimTime::from_millis(145);
    // Sent 100..=119 ms; those that would arrive before 145 ms were held and arrive at 145 ms.
    for &(at, v) in &to_1 {
        let natural = SimTime::from_millis(110 + v);
        assert_eq!(at, natural.max(release), "message {v}");
    }
    assert!(disconnects_at(&log, NodeId(0)).is_empty());
    assert!(disconnects_at(&log, NodeId(1)).is_empty());
}

#[test]
fn a_partition_healed_before_the_detection_delay_loses_nothing() {
    let (mut s, log) = chatty_pair(5, 100, 20);
    s.run_until_time(SimTime::from_millis(105));
    s.world.isolate(&[NodeId(0)]);
    s.run_until_time(SimTime::from_millis(135));
    s.world.heal_network();
    s.run_until_time(SimTime::from_millis(1_000));
    for node in [NodeId(0), NodeId(1)] {
        let got: Vec<u64> = messages_at(&log, node)
            .iter()
            .map(|&(_, v)| v % 1000)
            .collect();
        assert_eq!(got, (0..20).collect::<Vec<_>>(), "node {node}");
        assert!(disconnects_at(&log, node).is_empty());
    }
}

#[test]
fn a_broken_connection_loses_what_is_in_flight_and_tells_both_ends_after_the_detection_delay() {
    let (mut s, log) = chatty_pair(6, 100, 10);
    let t = SimTime::from_millis(105);
    s.run_until_time(t);
    s.world.break_connections(&[NodeId(0)], &[NodeId(1)]);
    s.run_until_time(SimTime::from_millis(1_000));
    let brk = t.plus_ns(DETECT);
    assert_eq!(
        disconnects_at(&log, NodeId(0)),
        vec![(brk, DisconnectReason::Broken)]
    );
    assert_eq!(
        disconnects_at(&log, NodeId(1)),
        vec![(brk, DisconnectReason::Broken)]
    );
    // Sent at 100..=105 ms: delivered by 105 ms only if sent by 95 ms: none. Nothing arrives.
    assert!(messages_at(&log, NodeId(1)).is_empty());
    assert_eq!(s.world.net_stats().breaks, 1);
}

#[test]
fn connecting_to_a_down_node_is_refused_after_a_round_trip() {
    let behaviour: Behaviour = Rc::new(|ctx: &mut ToyCtx<'_>, ev: &ToyEvent| {
        if let (Event::Start, true) = (ev, ctx.node() == NodeId(0)) {
            ctx.connect(NodeId(1));
        }
    });
    let log: SeenLog = Rc::default();
    let mut world = World::new(fixed_config(7));
    let a = world.add_node(
        NodeOptions::named("a"),
        zabsim_sim::kernel::testkit::scripted(&log, Rc::clone(&behaviour)),
    );
    world.add_node(
        NodeOptions::named("b"),
        zabsim_sim::kernel::testkit::scripted(&log, behaviour),
    );
    world.start(a);
    let mut s = sim(world);
    s.run_until_time(SimTime::from_millis(100));
    let seen = log.borrow();
    let failed = seen.iter().find_map(|e| match e.event {
        Event::ConnectFailed { error, .. } => Some((e.global, error)),
        _ => None,
    });
    assert_eq!(failed, Some((SimTime(2 * L), ConnectError::Refused)));
}

#[test]
fn a_killed_peer_resets_after_one_latency_and_a_crashed_one_after_the_detection_delay() {
    for (crash, expect) in [
        (false, (L, DisconnectReason::PeerReset)),
        (true, (DETECT, DisconnectReason::Broken)),
    ] {
        let (mut s, log) = chatty_pair(8, 1_000, 0);
        let t = SimTime::from_millis(50);
        s.run_until_time(t);
        if crash {
            s.world.crash(NodeId(1), CrashDisk::LosePending);
        } else {
            s.world.kill(NodeId(1));
        }
        s.run_until_time(SimTime::from_millis(1_000));
        assert_eq!(
            disconnects_at(&log, NodeId(0)),
            vec![(t.plus_ns(expect.0), expect.1)]
        );
        assert!(
            disconnects_at(&log, NodeId(1)).is_empty(),
            "the dead end hears nothing"
        );
    }
}

#[test]
fn close_delivers_everything_sent_before_then_closed_by_peer() {
    let conns: Conns = Rc::default();
    let c2 = Rc::clone(&conns);
    let behaviour: Behaviour = Rc::new(move |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| match ev {
        Event::Start if ctx.node() == NodeId(0) => {
            ctx.connect(NodeId(1));
        }
        Event::Connected { conn, .. } => {
            for v in 0..5 {
                ctx.send(*conn, Num(v));
            }
            ctx.close(*conn);
            ctx.send(*conn, Num(99)); // after close: lost
            c2.borrow_mut().insert(ctx.node(), *conn);
        }
        _ => {}
    });
    let (world, log) = scripted_world(fixed_config(9), 2, behaviour);
    let mut s = sim(world);
    s.run_until_time(SimTime::from_millis(100));
    let got: Vec<u64> = messages_at(&log, NodeId(1))
        .iter()
        .map(|&(_, v)| v)
        .collect();
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
    assert_eq!(
        disconnects_at(&log, NodeId(1)),
        vec![(SimTime(3 * L), DisconnectReason::ClosedByPeer)]
    );
    assert!(disconnects_at(&log, NodeId(0)).is_empty());
    assert!(conns.borrow().contains_key(&NodeId(0)));
}

#[test]
fn out_of_model_message_faults_drop_duplicate_and_reorder() {
    for kind in [
        MessageFaultKind::Drop,
        MessageFaultKind::Duplicate,
        MessageFaultKind::Reorder,
    ] {
        let (mut s, log) = chatty_pair(10, 100, 4);
        s.run_until_time(SimTime::from_millis(50));
        s.world.message_fault(
            kind,
            &[NodeId(0)],
            &[NodeId(1)],
            Ratio::ALWAYS,
            1_000_000_000,
        );
        s.run_until_time(SimTime::from_millis(1_000));
        let got: Vec<u64> = messages_at(&log, NodeId(1))
            .iter()
            .map(|&(_, v)| v)
            .collect();
        let expected: Vec<u64> = match kind {
            MessageFaultKind::Drop => vec![],
            MessageFaultKind::Duplicate => vec![0, 0, 1, 1, 2, 2, 3, 3],
            // Each message overtakes its predecessor when the pipe still holds it; with 1 ms
            // spacing and 10 ms latency the pipe always does.
            MessageFaultKind::Reorder => vec![1, 2, 3, 0],
        };
        assert_eq!(got, expected, "{kind:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// FIFO per connection holds under long-tailed latency jitter, clogs and pauses: every
    /// message arrives exactly once, in send order.
    #[test]
    fn fifo_holds_under_latency_jitter(seed in any::<u64>(), count in 1u64..200, clog_ms in 0u64..40, pause in any::<bool>()) {
        let mut cfg = fixed_config(seed);
        cfg.network.latency = LatencyDist::LongTail {
            min_us: 10, p50_us: 500, p90_us: 5_000, p99_us: 50_000, p999_us: 200_000, max_us: 1_000_000,
        };
        cfg.trace = TraceMode::HashOnly;
        let conns: Conns = Rc::default();
        let inner = pair_behaviour(&conns);
        let behaviour: Behaviour = Rc::new(move |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| {
            if let Event::Start = ev {
                for k in 0..count {
                    ctx.set_timer_after(2_000_000_000 + k * 100_000, k);
                }
            }
            inner(ctx, ev);
        });
        let (world, log) = scripted_world(cfg, 2, behaviour);
        let mut s = sim(world);
        s.run_until_time(SimTime::from_millis(2_005));
        s.world.clog(&[NodeId(0)], &[NodeId(1)], clog_ms * 1_000_000);
        if pause {
            s.world.pause(NodeId(1));
        }
        s.run_until_time(SimTime::from_millis(2_030));
        s.world.resume(NodeId(1));
        s.run_until_time(SimTime::from_millis(10_000));
        let got: Vec<u64> = messages_at(&log, NodeId(1)).iter().map(|&(_, v)| v).collect();
        s.world.check_invariants();
        prop_assert_eq!(got, (0..count).collect::<Vec<_>>());
        let times: Vec<SimTime> = messages_at(&log, NodeId(1)).iter().map(|&(t, _)| t).collect();
        prop_assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }
}

#[test]
fn partition_shapes_block_exactly_the_pairs_they_describe() {
    let (world, _) = scripted_world(
        fixed_config(11),
        5,
        Rc::new(|_: &mut ToyCtx<'_>, _: &ToyEvent| {}),
    );
    let mut s = sim(world);
    let n: Vec<NodeId> = (0..5).map(NodeId).collect();
    // Groups: {0,1} | {2,3}; node 4 in no group talks to everyone.
    s.world
        .partition_groups(&[vec![n[0], n[1]], vec![n[2], n[3]]]);
    for &a in &n {
        for &b in &n {
            let across = (a.0 < 2 && (2..4).contains(&b.0)) || (b.0 < 2 && (2..4).contains(&a.0));
            assert_eq!(s.world.is_partitioned(a, b), across, "{a} -> {b}");
        }
    }
    // Bridge through node 2: the others split in halves that reach each other only via 2.
    s.world.bridge(&[n[2]]);
    for &x in &n {
        assert!(!s.world.is_partitioned(x, n[2]) && !s.world.is_partitioned(n[2], x));
    }
    let blocked: usize = n
        .iter()
        .map(|&a| n.iter().filter(|&&b| s.world.is_partitioned(a, b)).count())
        .sum();
    assert_eq!(
        blocked, 8,
        "two halves of two nodes: 2 x 2 pairs, both directions"
    );
    s.world.heal_network();
    assert!(n
        .iter()
        .all(|&a| n.iter().all(|&b| !s.world.is_partitioned(a, b))));
}

#[test]
fn swizzle_clogging_holds_then_releases_every_link_without_breaking_anything() {
    // Both nodes send one message per ms from 100 ms to 399 ms; a swizzle over both nodes
    // starts at 150 ms (steps of 20 ms, hold 100 ms): everything arrives, in order, unbroken.
    let (mut s, log) = chatty_pair(12, 100, 300);
    s.run_until_time(SimTime::from_millis(150));
    s.world
        .swizzle_clog(&[NodeId(0), NodeId(1)], 20_000_000, 100_000_000);
    s.run_until_time(SimTime::from_millis(200));
    assert!(s.world.is_blocked(NodeId(0), NodeId(1)) && s.world.is_blocked(NodeId(1), NodeId(0)));
    s.run_until_time(SimTime::from_millis(2_000));
    assert!(!s.world.is_blocked(NodeId(0), NodeId(1)));
    for node in [NodeId(0), NodeId(1)] {
        let got: Vec<u64> = messages_at(&log, node)
            .iter()
            .map(|&(_, v)| v % 1000)
            .collect();
        assert_eq!(got, (0..300).collect::<Vec<_>>());
        assert!(disconnects_at(&log, node).is_empty());
    }
    // Nothing crossed while both nodes' links were clogged (from 170 ms to at least 290 ms).
    let during = messages_at(&log, NodeId(1))
        .iter()
        .filter(|&&(t, _)| t > SimTime::from_millis(170) && t < SimTime::from_millis(290))
        .count();
    assert_eq!(during, 0);
}

#[test]
fn a_slow_link_delays_later_messages_without_breaking_fifo() {
    let (mut s, log) = chatty_pair(13, 100, 100);
    s.run_until_time(SimTime::from_millis(150));
    s.world.slow_link(&[NodeId(0)], &[NodeId(1)], 30_000_000);
    s.run_until_time(SimTime::from_millis(170));
    s.world.slow_link(&[NodeId(0)], &[NodeId(1)], 0);
    s.run_until_time(SimTime::from_millis(1_000));
    let to_1 = messages_at(&log, NodeId(1));
    assert_eq!(
        to_1.iter().map(|&(_, v)| v).collect::<Vec<_>>(),
        (0..100).collect::<Vec<_>>()
    );
    for &(at, v) in &to_1 {
        let sent = 100 + v;
        let expected = match sent {
            // The slow link applies from 150 ms, after the message sent at 150 ms.
            ..=150 => sent + 10,
            151..=170 => sent + 40,
            // Fast again, but never before the slow message sent at 170 ms (FIFO floor).
            _ => (sent + 10).max(210),
        };
        assert_eq!(at, SimTime::from_millis(expected), "message {v}");
    }
    // The reverse direction was never slowed.
    assert!(messages_at(&log, NodeId(0))
        .iter()
        .all(|&(at, v)| at == SimTime::from_millis(110 + v % 1000)));
}
