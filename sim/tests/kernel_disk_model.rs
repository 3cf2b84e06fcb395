//! The disk model on its own (no world): fsync barriers, the rename-without-fsync bug, torn
//! lengths on sector boundaries, capacity and latent errors, as `kernel/disk.rs` documents.

use zabsim_sim::kernel::disk::{torn_len, CrashDisk, Disk, Region};
use zabsim_sim::kernel::{DiskError, SimRng, Stream};

fn rng() -> SimRng {
    SimRng::new(5, Stream::Disk)
}

#[test]
fn fsync_makes_earlier_writes_durable_and_crash_loses_the_rest() {
    let mut d = Disk::new(None);
    d.append("log", b"abc").unwrap();
    let t = d.fsync_ticket("log").unwrap();
    d.append("log", b"def").unwrap();
    assert_eq!(d.complete_fsync(t), 2, "the create and the first write");
    assert_eq!(d.read("log").unwrap(), b"abcdef");
    assert_eq!(d.durable_content("log").unwrap(), b"abc");
    assert_eq!(d.crash(CrashDisk::LosePending, &mut rng()), 1);
    assert_eq!(d.read("log").unwrap(), b"abc");
}

#[test]
fn rename_without_fsync_of_the_data_leaves_an_empty_file() {
    let mut d = Disk::new(None);
    d.write("epoch.tmp", 0, b"7").unwrap();
    d.rename("epoch.tmp", "epoch").unwrap();
    d.write("other", 0, b"x").unwrap();
    let t = d.fsync_ticket("other").unwrap();
    d.complete_fsync(t);
    d.crash(CrashDisk::LosePending, &mut rng());
    assert_eq!(d.read("epoch").unwrap(), b"");
    assert!(!d.exists("epoch.tmp"));
}

#[test]
fn torn_len_is_sector_aligned() {
    let mut r = rng();
    for _ in 0..200 {
        let t = torn_len(100, 2000, &mut r);
        assert!(t == 0 || (100 + t) % 512 == 0);
        assert!(t < 2000);
    }
    assert_eq!(
        torn_len(0, 512, &mut r),
        0,
        "a one-sector write is whole or absent"
    );
}

#[test]
fn capacity_refuses_growth_without_applying_it() {
    let mut d = Disk::new(Some(4));
    d.write("f", 0, b"abc").unwrap();
    assert_eq!(d.append("f", b"de"), Err(DiskError::NoSpace));
    assert_eq!(d.read("f").unwrap(), b"abc");
    d.write("f", 0, b"xyz").unwrap();
}

#[test]
fn latent_errors_fail_overlapping_reads_until_rewritten() {
    let mut d = Disk::new(None);
    d.write("f", 0, &[1u8; 100]).unwrap();
    d.add_latent_error("f", Region { offset: 10, len: 5 })
        .unwrap();
    assert!(d.read_at("f", 0, 10).is_ok());
    assert!(matches!(
        d.read("f"),
        Err(DiskError::ReadError { offset: 10, .. })
    ));
    d.write("f", 8, &[2u8; 10]).unwrap();
    assert!(d.read("f").is_ok());
}

mod properties {
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use zabsim_sim::kernel::disk::{CrashDisk, Disk};
    use zabsim_sim::kernel::{Ratio, SimRng, Stream};

    #[derive(Clone, Debug)]
    enum Op {
        Write(usize, u64, Vec<u8>),
        Append(usize, Vec<u8>),
        Truncate(usize, u64),
        Rename(usize, usize),
        Delete(usize),
        FsyncNow(usize),
    }

    const NAMES: [&str; 3] = ["log.1", "epoch", "epoch.tmp"];

    fn op() -> impl Strategy<Value = Op> {
        let f = 0..NAMES.len();
        let data = proptest::collection::vec(any::<u8>(), 0..700);
        prop_oneof![
            (f.clone(), 0u64..1500, data.clone()).prop_map(|(f, o, d)| Op::Write(f, o, d)),
            (f.clone(), data).prop_map(|(f, d)| Op::Append(f, d)),
            (f.clone(), 0u64..2000).prop_map(|(f, l)| Op::Truncate(f, l)),
            (f.clone(), f.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
            f.clone().prop_map(Op::Delete),
            f.prop_map(Op::FsyncNow),
        ]
    }

    fn apply(d: &mut Disk, op: &Op) {
        // Errors (missing files) are part of the input space; they must change nothing.
        let _ = match op {
            Op::Write(f, o, data) => d.write(NAMES[*f], *o, data),
            Op::Append(f, data) => d.append(NAMES[*f], data),
            Op::Truncate(f, l) => d.truncate(NAMES[*f], *l),
            Op::Rename(a, b) if a != b => d.rename(NAMES[*a], NAMES[*b]),
            Op::Rename(..) => Ok(()),
            Op::Delete(f) => d.delete(NAMES[*f]),
            Op::FsyncNow(f) => d.fsync_ticket(NAMES[*f]).map(|t| {
                d.complete_fsync(t);
            }),
        };
    }

    fn snapshot(d: &Disk) -> BTreeMap<String, Vec<u8>> {
        d.list()
            .into_iter()
            .map(|n| (n.clone(), d.read(&n).unwrap()))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

        /// Once every file is fsynced, a crash loses nothing: the page cache and the durable
        /// state agree, names and bytes.
        #[test]
        fn a_full_sync_makes_a_crash_lossless(ops in proptest::collection::vec(op(), 0..40)) {
            let mut d = Disk::new(None);
            for op in &ops {
                apply(&mut d, op);
            }
            let before = snapshot(&d);
            for name in d.list() {
                let t = d.fsync_ticket(&name).unwrap();
                d.complete_fsync(t);
            }
            // Deletions of files that no longer exist become durable with a directory sync.
            let t = d.fsync_dir_ticket();
            d.complete_fsync(t);
            d.crash(CrashDisk::LosePending, &mut SimRng::new(1, Stream::Disk));
            prop_assert_eq!(snapshot(&d), before);
        }

        /// A crash leaves exactly the state `durable_content` promised, and a second crash
        /// changes nothing.
        #[test]
        fn a_crash_leaves_what_was_durable(ops in proptest::collection::vec(op(), 0..40), seed in any::<u64>()) {
            let mut d = Disk::new(None);
            d.error_chance = Ratio::NEVER;
            for op in &ops {
                apply(&mut d, op);
            }
            let promised: BTreeMap<String, Vec<u8>> = d
                .list_durable()
                .into_iter()
                .map(|n| (n.clone(), d.durable_content(&n).unwrap()))
                .collect();
            d.crash(CrashDisk::LosePending, &mut SimRng::new(seed, Stream::Disk));
            prop_assert_eq!(snapshot(&d), promised.clone());
            d.crash(CrashDisk::TornPrefix, &mut SimRng::new(seed, Stream::Disk));
            prop_assert_eq!(snapshot(&d), promised);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        /// Deleted files do not accumulate: after a full sync, only live files hold inodes.
        #[test]
        fn deleted_files_are_collected_once_durable(ops in proptest::collection::vec(op(), 0..40)) {
            let mut d = Disk::new(None);
            for op in &ops {
                apply(&mut d, op);
            }
            d.append("sync-anchor", b"x").unwrap();
            for name in d.list() {
                let t = d.fsync_ticket(&name).unwrap();
                d.complete_fsync(t);
            }
            // Pending writes to orphaned inodes may remain (they can never become visible), so
            // count only what a name reaches.
            prop_assert!(d.inode_count() >= d.list().len());
            let t = d.fsync_dir_ticket();
            d.complete_fsync(t);
            d.crash(CrashDisk::LosePending, &mut SimRng::new(1, Stream::Disk));
            prop_assert_eq!(d.inode_count(), d.list().len());
        }
    }
}
