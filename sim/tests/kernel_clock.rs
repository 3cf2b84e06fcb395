//! Kernel clock tests: per-node drift and jumps move timer firing exactly as `kernel/clock.rs`
//! documents. Method: one scripted node with a chosen clock arms timers at local deadlines; the
//! expected global firing instants are computed from the drift by hand.

use std::rc::Rc;

use zabsim_sim::kernel::testkit::{scripted, Behaviour, Scripted, SeenLog, ToyCtx, ToyEvent};
use zabsim_sim::kernel::*;

const N0: NodeId = NodeId(0);
const SEC: u64 = 1_000_000_000;

/// A one-node simulation whose node has `spec` and runs `on_start` at its first boot.
fn node_with_clock(
    spec: ClockSpec,
    on_start: impl Fn(&mut ToyCtx<'_>) + 'static,
) -> (Simulation<Scripted, NoRoles>, SeenLog) {
    let behaviour: Behaviour = Rc::new(move |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| {
        if let Event::Start = ev {
            on_start(ctx);
        }
    });
    let log: SeenLog = Rc::default();
    let mut world = World::new(KernelConfig::with_seed(1));
    let opts = NodeOptions {
        name: "n0".into(),
        faultable: true,
        clock: Some(spec),
    };
    let id = world.add_node(opts, scripted(&log, behaviour));
    world.start(id);
    (Simulation::new(world, NoRoles), log)
}

/// (global time, tag, local monotonic, local wall) of every timer that fired.
fn fired(log: &SeenLog) -> Vec<(SimTime, u64, LocalTime, LocalTime)> {
    log.borrow()
        .iter()
        .filter_map(|s| match s.event {
            Event::Timer { tag, .. } => Some((s.global, tag, s.local, s.wall)),
            _ => None,
        })
        .collect()
}

fn drift(ppm: i32) -> ClockSpec {
    ClockSpec {
        drift_ppm: ppm,
        ..ClockSpec::default()
    }
}

/// The first global nanosecond at which a clock of `ppm` has advanced `local_ns`.
fn expected_global(local_ns: u64, ppm: i64) -> u64 {
    let num = u128::from(local_ns) * 1_000_000;
    let den = (1_000_000 + ppm) as u128;
    num.div_ceil(den) as u64
}

#[test]
fn drift_shifts_timer_firing_by_the_expected_amount() {
    for ppm in [-500i32, -1, 0, 1, 500, 20_000] {
        let (mut s, log) = node_with_clock(drift(ppm), |ctx| {
            ctx.set_timer_after(SEC, 7);
        });
        s.run_until_time(SimTime(3 * SEC));
        let f = fired(&log);
        assert_eq!(f.len(), 1);
        let (at, tag, local, _) = f[0];
        assert_eq!(tag, 7);
        assert_eq!(at.0, expected_global(SEC, i64::from(ppm)), "ppm {ppm}");
        assert!(local.0 >= SEC, "fired before the local deadline");
    }
    // A fast clock (+500 ppm) fires ~0.5 ms early in global time; a slow one ~0.5 ms late.
    assert_eq!(expected_global(SEC, 500), 999_500_250);
    assert_eq!(expected_global(SEC, -500), 1_000_500_251);
}

#[test]
fn a_backward_wall_jump_delays_wall_timers_and_leaves_monotonic_timers_alone() {
    let (mut s, log) = node_with_clock(ClockSpec::default(), |ctx| {
        let wall_deadline = LocalTime(ctx.wall_now().0 + SEC);
        ctx.set_timer_on(ClockKind::Wall, wall_deadline, 1);
        ctx.set_timer_after(SEC, 2);
    });
    s.run_until_time(SimTime(SEC / 2));
    s.world
        .clock_jump(N0, ClockKind::Wall, -2 * SEC as i64)
        .unwrap();
    s.run_until_time(SimTime(10 * SEC));
    let f: Vec<(SimTime, u64)> = fired(&log).iter().map(|&(t, tag, _, _)| (t, tag)).collect();
    assert_eq!(f, vec![(SimTime(SEC), 2), (SimTime(3 * SEC), 1)]);
}

#[test]
fn a_forward_wall_jump_fires_overdue_wall_timers_at_once() {
    let (mut s, log) = node_with_clock(ClockSpec::default(), |ctx| {
        let wall_deadline = LocalTime(ctx.wall_now().0 + SEC);
        ctx.set_timer_on(ClockKind::Wall, wall_deadline, 1);
        ctx.set_timer_after(SEC, 2);
    });
    s.run_until_time(SimTime(SEC / 2));
    s.world
        .clock_jump(N0, ClockKind::Wall, 5 * SEC as i64)
        .unwrap();
    s.run_until_time(SimTime(10 * SEC));
    let f: Vec<(SimTime, u64)> = fired(&log).iter().map(|&(t, tag, _, _)| (t, tag)).collect();
    assert_eq!(f, vec![(SimTime(SEC / 2), 1), (SimTime(SEC), 2)]);
}

#[test]
fn a_forward_monotonic_jump_fires_overdue_timers_and_backward_is_refused() {
    let (mut s, log) = node_with_clock(ClockSpec::default(), |ctx| {
        ctx.set_timer_after(SEC, 1);
        ctx.set_timer_after(10 * SEC, 2);
    });
    s.run_until_time(SimTime(SEC / 4));
    assert!(s.world.clock_jump(N0, ClockKind::Monotonic, -1).is_err());
    s.world
        .clock_jump(N0, ClockKind::Monotonic, 2 * SEC as i64)
        .unwrap();
    s.run_until_time(SimTime(20 * SEC));
    let f: Vec<(SimTime, u64)> = fired(&log).iter().map(|&(t, tag, _, _)| (t, tag)).collect();
    // The 10 s timer now needs 10 - 2.25 = 7.75 s more.
    assert_eq!(f, vec![(SimTime(SEC / 4), 1), (SimTime(8 * SEC), 2)]);
    // The wall clock moves with the monotonic one.
    let (_, _, mono, wall) = fired(&log)[1];
    assert_eq!(wall.0 - mono.0, 1_700_000_000_000 * 1_000_000);
}

#[test]
fn a_drift_change_reconverts_pending_timers() {
    let (mut s, log) = node_with_clock(ClockSpec::default(), |ctx| {
        ctx.set_timer_after(SEC, 1);
    });
    s.run_until_time(SimTime(SEC / 2));
    s.world.set_drift(N0, 1_000).unwrap();
    s.run_until_time(SimTime(2 * SEC));
    let f = fired(&log);
    assert_eq!(f[0].0, SimTime(SEC / 2 + expected_global(SEC / 2, 1_000)));
    assert!(s.world.set_drift(N0, 200_000).is_err());
}

#[test]
fn drawn_clocks_stay_within_the_configured_bounds_and_differ_between_nodes() {
    let mut cfg = KernelConfig::with_seed(3);
    cfg.clocks.max_drift_ppm = 100;
    cfg.clocks.max_wall_offset_ms = 5_000;
    let mut world: World<Scripted> = World::new(cfg);
    let log: SeenLog = Rc::default();
    let noop: Behaviour = Rc::new(|_: &mut ToyCtx<'_>, _: &ToyEvent| {});
    let ids: Vec<NodeId> = (0..5)
        .map(|i| {
            world.add_node(
                NodeOptions::named(format!("n{i}")),
                scripted(&log, Rc::clone(&noop)),
            )
        })
        .collect();
    let drifts: Vec<i32> = ids.iter().map(|&n| world.clock(n).drift_ppm()).collect();
    assert!(drifts.iter().all(|d| d.abs() <= 100), "{drifts:?}");
    let walls: Vec<u64> = ids
        .iter()
        .map(|&n| world.clock(n).wall(SimTime::ZERO).0)
        .collect();
    let epoch = 1_700_000_000_000u64 * 1_000_000;
    assert!(walls
        .iter()
        .all(|&w| w.abs_diff(epoch) <= 5_000 * 1_000_000));
    assert!(
        walls.windows(2).any(|w| w[0] != w[1]),
        "five nodes drew one offset"
    );
}

mod properties {
    use proptest::prelude::*;
    use zabsim_sim::kernel::clock::MAX_DRIFT_PPM;
    use zabsim_sim::kernel::{ClockKind, ClockSpec, LocalTime, NodeClock, SimTime};

    #[derive(Clone, Debug)]
    enum Change {
        Drift(i32),
        WallJump(i64),
        MonoJump(u32),
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            (-MAX_DRIFT_PPM..=MAX_DRIFT_PPM).prop_map(Change::Drift),
            (-10_000_000_000i64..10_000_000_000).prop_map(Change::WallJump),
            any::<u32>().prop_map(Change::MonoJump),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

        /// Whatever the drift and jumps, the monotonic clock never goes back, and a timer's
        /// global deadline is the first instant at which its clock reaches the local deadline.
        #[test]
        fn deadlines_are_exact_and_monotonic_time_never_decreases(
            changes in proptest::collection::vec((1u64..5_000_000_000, change()), 1..20),
            ahead in 1u64..20_000_000_000,
            wall in any::<bool>(),
        ) {
            let mut c = NodeClock::new(ClockSpec::default(), 1_700_000_000_000).unwrap();
            let mut now = SimTime::ZERO;
            let mut last_mono = c.monotonic(now);
            for (step, ch) in changes {
                now = now.plus_ns(step);
                prop_assert!(c.monotonic(now) >= last_mono);
                match ch {
                    Change::Drift(p) => c.set_drift(p, now).unwrap(),
                    Change::WallJump(d) => c.jump(ClockKind::Wall, d, now).unwrap(),
                    Change::MonoJump(d) => c.jump(ClockKind::Monotonic, i64::from(d), now).unwrap(),
                }
                prop_assert!(c.monotonic(now) >= last_mono);
                last_mono = c.monotonic(now);
                let kind = if wall { ClockKind::Wall } else { ClockKind::Monotonic };
                let deadline = LocalTime(c.read(kind, now).0 + ahead);
                let g = c.global_deadline(kind, deadline, now);
                prop_assert!(g > now);
                prop_assert!(c.read(kind, g) >= deadline);
                prop_assert!(c.read(kind, SimTime(g.0 - 1)) < deadline);
            }
        }
    }
}
