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
