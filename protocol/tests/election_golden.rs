//! Golden transcript: the exact notification sequence of a three-server election, then of a
//! follower that drops back to LOOKING and rejoins. The expected file
//! `tests/election_golden/three_servers.txt` was written by hand from ZooKeeper's
//! `lookForLeader` (derivation below) and is reviewed like code. `ZABSIM_BLESS=1` rewrites it
//! from the run (then review the diff).
//!
//! Setup: s1, s2, s3 start at 0 ms (in that order) with zxids 0x100000005, 0x100000007,
//! 0x100000006, all `currentEpoch` 1; every link takes 10 ms.
//!
//! - 0 ms: each sends its own candidacy, round 1, to the two others (its vote to itself is looped
//!   back inside FLE and never appears).
//! - 10 ms, deliveries in send order: s2 and s3 keep their votes against s1's; s1 adopts s2
//!   (higher zxid) and broadcasts it, and with its own looped-back vote has a quorum {s1, s2}:
//!   finalize wait. s3 adopts s2 (higher zxid beats its higher sid), broadcasts, quorum {s2, s3}:
//!   finalize wait. s3's own candidacy reaches s1 and s2 and loses.
//! - 20 ms: s2 gets s1's vote for s2: quorum {s1, s2}, finalize wait. The other three votes are
//!   drained by servers already waiting, each restarting its 200 ms wait: nobody hears anything
//!   after 20 ms, so all decide at 220 ms (in the order their last wait was armed: s3, s1, s2).
//! - 5000 ms: s3 drops back to LOOKING (round 2) and sends its candidacy; s1 and s2 answer with
//!   their current votes, FOLLOWING and LEADING s2 in round 1. In `outofelection` they form a
//!   quorum with the leader seen LEADING: s3 follows s2 at 5020 ms, taking round 1.

mod election_harness;

use election_harness::{fixed_delay, ms, Cluster};
use zabsim_protocol::server::QuorumConfig;
use zabsim_protocol::types::{Epoch, Zxid};

const GOLDEN: &str = "tests/election_golden/three_servers.txt";

#[test]
fn three_server_election_notification_sequence() {
    let z = |counter| Zxid::new(Epoch(1), counter);
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), fixed_delay(10));
    cluster.start_at(ms(0), 1, z(5), Epoch(1));
    cluster.start_at(ms(0), 2, z(7), Epoch(1));
    cluster.start_at(ms(0), 3, z(6), Epoch(1));
    cluster.run_until(ms(4_999));
    cluster.start_at(ms(5_000), 3, z(6), Epoch(1));
    cluster.run_until(ms(10_000));
    let actual = cluster.transcript();

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if bless() {
        if let Err(e) = std::fs::write(&path, &actual) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    let expected = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    assert_eq!(
        actual, expected,
        "transcript differs from {GOLDEN} (ZABSIM_BLESS=1 rewrites it)"
    );
}

#[expect(
    clippy::disallowed_methods,
    reason = "the golden test's rewrite switch is read by the test, not by simulation code"
)]
fn bless() -> bool {
    std::env::var("ZABSIM_BLESS").is_ok_and(|v| v == "1")
}
