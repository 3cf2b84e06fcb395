//! Identifiers: server ids, epochs, zxids, session ids and client request ids.
//!
//! A zxid is ZooKeeper's 64-bit transaction id: the epoch in the high 32 bits, a counter in the
//! low 32 bits (`ZxidUtils.makeZxid`). Counter 0 is the epoch marker `(e, 0)`; the counter
//! `0xffffffff` is never used for a txn (ZOOKEEPER-1277).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A server id (`myid`, ZooKeeper's `sid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ServerId(pub u64);

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// A ZAB epoch (the high 32 bits of a zxid; `acceptedEpoch`, `currentEpoch`, `peerEpoch`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Epoch(pub u32);

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A ZooKeeper transaction id: `epoch << 32 | counter`, ordered as the 64-bit value.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Zxid(pub u64);

impl Zxid {
    /// The zxid before any txn: epoch 0, counter 0.
    pub const ZERO: Zxid = Zxid(0);
    /// ZooKeeper's "no zxid", -1 as jute's `long` (`WatchedEvent.NO_ZXID`): the reply-header
    /// zxid of a notification that no txn triggered, such as one `setWatches` fires.
    pub const NONE: Zxid = Zxid(u64::MAX);
    /// The largest counter ever proposed plus one; a leader about to use it abdicates.
    pub const COUNTER_ROLLOVER: u32 = u32::MAX;

    /// `ZxidUtils.makeZxid(epoch, counter)`.
    pub fn new(epoch: Epoch, counter: u32) -> Zxid {
        Zxid((u64::from(epoch.0) << 32) | u64::from(counter))
    }

    /// The epoch half (`ZxidUtils.getEpochFromZxid`).
    pub fn epoch(self) -> Epoch {
        Epoch((self.0 >> 32) as u32)
    }

    /// The counter half (`ZxidUtils.getCounterFromZxid`).
    pub fn counter(self) -> u32 {
        (self.0 & 0xffff_ffff) as u32
    }

    /// The value as jute's signed `long`, as it is written on the wire and on disk.
    pub fn as_i64(self) -> i64 {
        self.0 as i64
    }

    /// From jute's signed `long`.
    pub fn from_i64(value: i64) -> Zxid {
        Zxid(value as u64)
    }
}

impl fmt::Display for Zxid {
    /// ZooKeeper's own rendering: `0x` and lower-case hex, as in `log.<hex>` file names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

/// A session id (jute `long`). ZooKeeper builds it from the server id and the start time.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

/// A client request id (`cxid` / `xid` in ZooKeeper's request and reply headers).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Xid(pub i32);

/// Virtual time in nanoseconds, as a node's local clock shows it. The protocol never reads a
/// clock: the driver hands it the local `now` with every input.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LocalTime(pub u64);

impl LocalTime {
    /// Milliseconds, the unit of ZooKeeper's `ctime`/`mtime` and of txn header times.
    pub fn as_millis(self) -> i64 {
        (self.0 / 1_000_000) as i64
    }

    /// This time plus `ms` milliseconds.
    pub fn plus_millis(self, ms: u64) -> LocalTime {
        LocalTime(self.0 + ms * 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zxid_splits_into_epoch_and_counter() {
        let z = Zxid::new(Epoch(3), 7);
        assert_eq!(z.0, 0x3_0000_0007);
        assert_eq!(z.epoch(), Epoch(3));
        assert_eq!(z.counter(), 7);
        assert_eq!(z.to_string(), "0x300000007");
        assert!(Zxid::new(Epoch(2), u32::MAX) < Zxid::new(Epoch(3), 0));
    }
}
