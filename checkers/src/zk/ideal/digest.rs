//! A digest of a reference tree for ideal runs: FNV-1a over every node's path, data and Stat.
//! (Not ZooKeeper's digest algorithm; ideal runs only need equal trees to have equal digests.)

use crate::reference::ReferenceTree;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn feed(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(FNV_PRIME);
    }
}

/// The digest of `tree`.
pub fn digest(tree: &ReferenceTree) -> i64 {
    let mut hash = FNV_OFFSET;
    for path in tree.paths() {
        let Some(node) = tree.node(path) else {
            continue;
        };
        feed(&mut hash, path.as_bytes());
        feed(&mut hash, node.data.as_deref().unwrap_or(b"\xff"));
        let stat = node.stat();
        for v in [
            stat.czxid.0,
            stat.mzxid.0,
            stat.pzxid.0,
            stat.ephemeral_owner as u64,
        ] {
            feed(&mut hash, &v.to_le_bytes());
        }
        for v in [stat.version, stat.cversion, stat.aversion] {
            feed(&mut hash, &v.to_le_bytes());
        }
    }
    hash as i64
}
