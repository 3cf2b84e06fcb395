//! Kernel disk tests: each disk fault does exactly what `kernel/disk.rs` says — inside the model
//! (lost unsynced writes, torn tails on sector boundaries, slow fsync, ENOSPC) and outside it
//! (bit flips, latent read errors, lying fsync, wipe). Method: a scripted toy process issues
//! real disk operations through its `Ctx`; faults go through the world's fault primitives.

use std::rc::Rc;

use zabsim_sim::kernel::testkit::{scripted_world, Behaviour, Scripted, SeenLog, ToyCtx, ToyEvent};
use zabsim_sim::kernel::*;

const N0: NodeId = NodeId(0);

fn config(seed: u64) -> KernelConfig {
    let mut c = KernelConfig::with_seed(seed);
    c.disk.write_latency = LatencyDist::Fixed { us: 10 };
    c.disk.fsync_latency = LatencyDist::Fixed { us: 2_000 };
    c
}

/// One node that runs `on_start` at boot.
fn one_node(
    cfg: KernelConfig,
    on_start: impl Fn(&mut ToyCtx<'_>) + 'static,
) -> (Simulation<Scripted, NoRoles>, SeenLog) {
    let behaviour: Behaviour = Rc::new(move |ctx: &mut ToyCtx<'_>, ev: &ToyEvent| {
        if let (Event::Start, 1) = (ev, ctx.incarnation()) {
            on_start(ctx);
        }
    });
    let (world, log) = scripted_world(cfg, 1, behaviour);
    (Simulation::new(world, NoRoles), log)
}

fn io_results(log: &SeenLog) -> Vec<(SimTime, Result<(), DiskError>)> {
    log.borrow()
        .iter()
        .filter_map(|s| match &s.event {
            Event::IoDone { result, .. } => Some((s.global, result.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_crash_loses_exactly_the_unsynced_bytes() {
    let (mut s, _) = one_node(config(1), |ctx| {
        ctx.append("f", &[b'A'; 100]);
        ctx.fsync("f");
        ctx.append("f", &[b'B'; 100]);
    });
    s.run_until_time(SimTime::from_millis(10));
    assert_eq!(
        s.world.disk(N0).read("f").unwrap().len(),
        200,
        "the page cache has both"
    );
    s.world.crash(N0, CrashDisk::LosePending);
    assert_eq!(s.world.disk(N0).read("f").unwrap(), vec![b'A'; 100]);
}

#[test]
fn an_fsync_covers_only_writes_issued_before_it_and_completes_after_its_latency() {
    let (mut s, log) = one_node(config(2), |ctx| {
        ctx.append("f", b"one");
        ctx.fsync("f");
        ctx.append("f", b"two");
    });
    // Latency counts from issue; completions never overtake an earlier one (one device
    // queue): write at 10 us, fsync at 2000 us, and the later write not before the fsync.
    s.run_until_time(SimTime::from_micros(1_999));
    assert_eq!(
        s.world.disk(N0).durable_content("f"),
        None,
        "not even the create is durable yet"
    );
    s.run_until_time(SimTime::from_micros(2_000));
    assert_eq!(s.world.disk(N0).durable_content("f").unwrap(), b"one");
    let times: Vec<SimTime> = io_results(&log).iter().map(|&(t, _)| t).collect();
    assert_eq!(
        times,
        vec![
            SimTime::from_micros(10),
            SimTime::from_micros(2_000),
            SimTime::from_micros(2_000)
        ]
    );
}

#[test]
fn a_torn_crash_keeps_a_prefix_ending_on_a_sector_boundary() {
    let data: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8 + 1).collect();
    let mut lengths = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let d = data.clone();
        let (mut s, _) = one_node(config(seed), move |ctx| {
            ctx.write("log", 0, &[7u8; 100]);
            ctx.fsync("log");
            ctx.write("log", 100, &d);
        });
        s.run_until_time(SimTime::from_millis(10));
        s.world.crash(N0, CrashDisk::TornPrefix);
        let got = s.world.disk(N0).read("log").unwrap();
        let len = got.len() as u64;
        // Either the pending write was lost (100), reached the media whole (2100), or was
        // torn after some whole sectors (a multiple of 512 in between).
        let torn = len % SECTOR_BYTES == 0 && len > 100 && len < 2100;
        assert!(len == 100 || len == 2100 || torn, "seed {seed}: {len}");
        assert_eq!(&got[..100], &[7u8; 100][..]);
        assert_eq!(
            &got[100..],
            &data[..(len - 100) as usize],
            "the surviving bytes are a prefix"
        );
        lengths.insert(len);
    }
    let torn = lengths.iter().filter(|&&l| l != 100 && l != 2100).count();
    assert!(
        torn >= 2,
        "tears should land on several boundaries: {lengths:?}"
    );
}

#[test]
fn a_kill_keeps_the_page_cache_but_a_later_crash_loses_it() {
    let (mut s, _) = one_node(config(3), |ctx| {
        ctx.append("f", b"unsynced");
    });
    s.run_until_time(SimTime::from_millis(1));
    s.world.kill(N0);
    s.world.restart(N0);
    s.run_until_time(SimTime::from_millis(2));
    assert_eq!(s.world.disk(N0).read("f").unwrap(), b"unsynced");
    s.world.crash(N0, CrashDisk::LosePending);
    assert!(!s.world.disk(N0).exists("f"));
}

#[test]
fn enospc_fails_the_write_and_applies_none_of_it() {
    let mut cfg = config(4);
    cfg.disk.capacity_bytes = Some(1_000);
    let (mut s, log) = one_node(cfg, |ctx| {
        ctx.append("f", &[1u8; 800]);
        ctx.append("f", &[2u8; 300]);
        ctx.append("g", &[3u8; 200]);
    });
    s.run_until_time(SimTime::from_millis(1));
    let results: Vec<_> = io_results(&log).into_iter().map(|(_, r)| r).collect();
    assert_eq!(results, vec![Ok(()), Err(DiskError::NoSpace), Ok(())]);
    assert_eq!(s.world.disk(N0).read("f").unwrap(), vec![1u8; 800]);
}

#[test]
fn the_disk_full_fault_leaves_exactly_the_free_bytes_asked_for() {
    let behaviour: Behaviour = Rc::new(|ctx: &mut ToyCtx<'_>, ev: &ToyEvent| match ev {
        Event::Start => {
            ctx.append("f", &[1u8; 100]);
            ctx.set_timer_after(1_000_000, 0);
        }
        Event::Timer { .. } => {
            ctx.append("f", &[2u8; 10]);
            ctx.append("f", &[3u8; 1]);
        }
        _ => {}
    });
    let (world, log) = scripted_world(config(5), 1, behaviour);
    let mut s = Simulation::new(world, NoRoles);
    s.run_until_time(SimTime::from_micros(500));
    s.world.disk_free(N0, Some(10));
    assert_eq!(s.world.disk(N0).capacity_bytes(), Some(110));
    s.run_until_time(SimTime::from_millis(5));
    let results: Vec<_> = io_results(&log).into_iter().map(|(_, r)| r).collect();
    assert_eq!(results, vec![Ok(()), Ok(()), Err(DiskError::NoSpace)]);
    assert_eq!(s.world.disk(N0).len("f").unwrap(), 110);
}

#[test]
fn a_bit_flip_changes_every_byte_of_the_region_and_nothing_else() {
    let original: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
    let o = original.clone();
    let (mut s, _) = one_node(config(6), move |ctx| {
        ctx.write("snap", 0, &o);
        ctx.fsync("snap");
    });
    s.run_until_time(SimTime::from_millis(10));
    let region = Region {
        offset: 1000,
        len: 100,
    };
    assert_eq!(s.world.bit_flip(N0, "snap", region).unwrap(), 100);
    for (name, got) in [
        ("cache", s.world.disk(N0).read("snap").unwrap()),
        ("durable", s.world.disk(N0).durable_content("snap").unwrap()),
    ] {
        for (i, (a, b)) in got.iter().zip(&original).enumerate() {
            let inside = (1000..1100).contains(&i);
            assert_eq!(a != b, inside, "{name} byte {i}");
        }
    }
}

#[test]
fn a_latent_read_error_fails_overlapping_reads_only() {
    let (mut s, _) = one_node(config(7), |ctx| {
        ctx.write("log", 0, &[9u8; 2048]);
    });
    s.run_until_time(SimTime::from_millis(1));
    s.world
        .latent_read_error(
            N0,
            "log",
            Region {
                offset: 512,
                len: 512,
            },
        )
        .unwrap();
    let d = s.world.disk(N0);
    assert!(d.read_at("log", 0, 512).is_ok());
    assert!(d.read_at("log", 1024, 1024).is_ok());
    assert_eq!(
        d.read_at("log", 1000, 100),
        Err(DiskError::ReadError {
            file: "log".into(),
            offset: 1000
        })
    );
}

#[test]
fn a_lying_fsync_reports_success_and_persists_nothing() {
    let (mut s, log) = one_node(config(8), |ctx| {
        ctx.append("f", b"data");
        ctx.fsync("f");
    });
    s.world.fsync_lies(N0, true);
    s.run_until_time(SimTime::from_millis(10));
    let results = io_results(&log);
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    s.world.crash(N0, CrashDisk::LosePending);
    assert!(!s.world.disk(N0).exists("f"));
}

#[test]
fn a_wipe_removes_every_file_and_crashes_the_node() {
    let (mut s, _) = one_node(config(9), |ctx| {
        ctx.append("a", b"1");
        ctx.append("b", b"2");
        ctx.fsync("a");
        ctx.fsync("b");
    });
    s.run_until_time(SimTime::from_millis(10));
    assert_eq!(
        s.world.disk(N0).list_durable(),
        vec!["a".to_string(), "b".to_string()]
    );
    s.world.wipe(N0);
    assert_eq!(s.world.status(N0), NodeStatus::Down);
    assert!(s.world.disk(N0).list().is_empty());
    assert!(s.world.disk(N0).list_durable().is_empty());
}

#[test]
fn tmp_write_rename_then_fsync_of_the_target_survives_a_crash() {
    // The rename moves the inode; fsync of the new name syncs its data and the rename.
    for fsync_tmp_first in [true, false] {
        let (mut s, _) = one_node(config(10), move |ctx| {
            ctx.write("currentEpoch", 0, b"4");
            ctx.fsync("currentEpoch");
            ctx.write("currentEpoch.tmp", 0, b"5");
            if fsync_tmp_first {
                ctx.fsync("currentEpoch.tmp");
            }
            ctx.rename("currentEpoch.tmp", "currentEpoch");
            ctx.fsync("currentEpoch");
        });
        s.run_until_time(SimTime::from_millis(20));
        s.world.crash(N0, CrashDisk::LosePending);
        assert_eq!(s.world.disk(N0).read("currentEpoch").unwrap(), b"5");
        assert!(!s.world.disk(N0).exists("currentEpoch.tmp"));
    }
}

#[test]
fn a_crash_before_the_rename_is_durable_leaves_the_old_file_and_the_tmp() {
    let (mut s, _) = one_node(config(10), |ctx| {
        ctx.write("currentEpoch", 0, b"4");
        ctx.fsync("currentEpoch");
        ctx.write("currentEpoch.tmp", 0, b"5");
        ctx.fsync("currentEpoch.tmp");
        ctx.rename("currentEpoch.tmp", "currentEpoch");
    });
    s.run_until_time(SimTime::from_millis(10));
    assert_eq!(
        s.world.disk(N0).read("currentEpoch").unwrap(),
        b"5",
        "the cache sees the rename"
    );
    s.world.crash(N0, CrashDisk::LosePending);
    assert_eq!(s.world.disk(N0).read("currentEpoch").unwrap(), b"4");
    assert_eq!(s.world.disk(N0).read("currentEpoch.tmp").unwrap(), b"5");
}

#[test]
fn a_rename_made_durable_by_another_file_fsync_leaves_an_empty_file() {
    let (mut s, _) = one_node(config(11), |ctx| {
        ctx.write("acceptedEpoch.tmp", 0, b"5");
        ctx.rename("acceptedEpoch.tmp", "acceptedEpoch");
        ctx.append("log", b"x");
        ctx.fsync("log");
    });
    s.run_until_time(SimTime::from_millis(20));
    s.world.crash(N0, CrashDisk::LosePending);
    assert_eq!(s.world.disk(N0).read("acceptedEpoch").unwrap(), b"");
}

#[test]
fn a_slow_fsync_completes_late_by_the_stall() {
    let (mut s, log) = one_node(config(12), |ctx| {
        ctx.append("f", b"x");
        ctx.fsync("f");
    });
    s.world.slow_fsync(N0, 50_000_000);
    s.run_until_time(SimTime::from_millis(100));
    let times: Vec<SimTime> = io_results(&log).iter().map(|&(t, _)| t).collect();
    assert_eq!(
        times,
        vec![SimTime::from_micros(10), SimTime::from_micros(52_000)]
    );
}

#[test]
fn injected_disk_errors_fail_operations_visibly_and_apply_nothing() {
    let behaviour: Behaviour = Rc::new(|ctx: &mut ToyCtx<'_>, ev: &ToyEvent| match ev {
        Event::Start => {
            ctx.append("f", b"ok");
            ctx.fsync("f");
            ctx.set_timer_after(10_000_000, 0);
            ctx.set_timer_after(20_000_000, 1);
        }
        Event::Timer { .. } => {
            ctx.append("f", b"+");
            ctx.fsync("f");
        }
        _ => {}
    });
    let (world, log) = scripted_world(config(13), 1, behaviour);
    let mut s = Simulation::new(world, NoRoles);
    s.run_until_time(SimTime::from_millis(5));
    s.world.disk_errors(N0, Ratio::ALWAYS);
    s.run_until_time(SimTime::from_millis(15));
    s.world.disk_errors(N0, Ratio::NEVER);
    s.run_until_time(SimTime::from_millis(50));
    let results: Vec<_> = io_results(&log).into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        results,
        vec![
            Ok(()),
            Ok(()),
            Err(DiskError::Io),
            Err(DiskError::Io),
            Ok(()),
            Ok(())
        ]
    );
    assert_eq!(s.world.disk(N0).durable_content("f").unwrap(), b"ok+");
}
