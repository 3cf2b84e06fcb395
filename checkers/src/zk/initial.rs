//! A run that starts from a data directory: what the judges are told about the tree every server
//! boots from, so that they judge the run on top of it instead of giving up.
//!
//! The judges do not read the files (their model is their own): the driver hands them the txns
//! the files hold, from an empty tree to the last zxid, and the tree digest the files record at
//! that zxid (written by whichever server made the files: for a real directory, ZooKeeper's own
//! `TxnDigest`). The consistency judge replays the txns into its reference model before the run;
//! the durability judge checks every first recovery against the recorded digest.

use zabsim_protocol::txn::TxnEntry;
use zabsim_protocol::types::Zxid;

/// The data the servers boot from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitialData {
    /// The last zxid the files hold (what a server recovers).
    pub zxid: Zxid,
    /// The tree digest the files record at `zxid`, if they carry one.
    pub digest: Option<i64>,
    /// Every txn from an empty tree up to `zxid`, in zxid order; `None` when the files do not
    /// hold the whole history (purged logs): the consistency judge is then undecided.
    pub txns: Option<Vec<TxnEntry>>,
}

impl InitialData {
    /// The zxid up to which the reference model knows the tree (zero if it does not).
    pub fn known_zxid(&self) -> Zxid {
        if self.txns.is_some() {
            self.zxid
        } else {
            Zxid::ZERO
        }
    }
}
