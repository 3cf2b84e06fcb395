//! `DigestCalculator` (digest version 2): a node's digest is the CRC32 of its path, data and
//! the 60-byte big-endian StatPersisted fields (czxid, mzxid, pzxid, ctime, mtime, version,
//! cversion, aversion, ephemeralOwner); the tree digest is the wrapping sum of node digests.
//! The root is hashed under `""`, and every node under `/zookeeper/` counts as 0.

use crate::stat::StatPersisted;

/// `DigestCalculator.DIGEST_VERSION`.
pub const DIGEST_VERSION: i32 = 2;

/// `calculateDigest(path, data, stat)`.
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> i64 {
    if path.starts_with("/zookeeper/") {
        return 0;
    }
    let path = if path == "/" { "" } else { path };
    let mut b = Vec::with_capacity(60);
    b.extend_from_slice(&stat.czxid.as_i64().to_be_bytes());
    b.extend_from_slice(&stat.mzxid.as_i64().to_be_bytes());
    b.extend_from_slice(&stat.pzxid.as_i64().to_be_bytes());
    b.extend_from_slice(&stat.ctime.to_be_bytes());
    b.extend_from_slice(&stat.mtime.to_be_bytes());
    b.extend_from_slice(&stat.version.to_be_bytes());
    b.extend_from_slice(&stat.cversion.to_be_bytes());
    b.extend_from_slice(&stat.aversion.to_be_bytes());
    b.extend_from_slice(&stat.ephemeral_owner.to_be_bytes());
    assert_eq!(b.len(), 60, "digest stat layout is 60 bytes");
    let mut crc = Crc32::new();
    crc.update(path.as_bytes());
    if let Some(d) = data {
        crc.update(d);
    }
    crc.update(&b);
    i64::from(crc.value())
}

/// CRC-32 (IEEE 802.3, `java.util.zip.CRC32`), bitwise.
#[derive(Clone, Copy, Debug)]
pub struct Crc32 {
    state: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    /// A fresh checksum.
    pub fn new() -> Crc32 {
        Crc32 { state: 0xffff_ffff }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.state ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (self.state & 1).wrapping_neg();
                self.state = (self.state >> 1) ^ (0xedb8_8320 & mask);
            }
        }
    }

    /// The checksum so far (`getValue`).
    pub fn value(&self) -> u32 {
        !self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Zxid;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        let mut crc = Crc32::new();
        crc.update(b"123456789");
        assert_eq!(crc.value(), 0xcbf4_3926);
    }

    #[test]
    fn zookeeper_subtree_and_root_alias() {
        let stat = StatPersisted {
            czxid: Zxid(1),
            ..StatPersisted::default()
        };
        assert_eq!(node_digest("/zookeeper/quota", Some(b"x"), &stat), 0);
        assert_ne!(node_digest("/zookeeper", Some(b""), &stat), 0);
        assert_eq!(
            node_digest("/", Some(b""), &stat),
            node_digest("", Some(b""), &stat)
        );
        // A null buffer and an empty one hash alike (CRC of no bytes).
        assert_eq!(
            node_digest("/a", None, &stat),
            node_digest("/a", Some(b""), &stat)
        );
    }
}
