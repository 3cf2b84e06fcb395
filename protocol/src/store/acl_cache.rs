//! `ReferenceCountedACLCache`: every distinct ACL list is stored once under a `long` reference
//! (1, 2, ... in first-use order); nodes hold the reference. `-1` is the open ACL
//! (`OPEN_UNSAFE_ACL_ID`), used by the root and the system nodes. Snapshots store the map and
//! the references; unused entries are purged after a snapshot is loaded.

use std::collections::BTreeMap;

use crate::acl::Acl;

/// `ReferenceCountedACLCache.OPEN_UNSAFE_ACL_ID`.
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

/// The ACL cache with reference counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AclCache {
    long_key_map: BTreeMap<i64, Vec<Acl>>,
    acl_key_map: BTreeMap<Vec<Acl>, i64>,
    reference_counter: BTreeMap<i64, i64>,
    acl_index: i64,
}

impl AclCache {
    /// `convertAcls`: the reference for `acls` (a new one if unseen), counting one more use.
    pub fn convert_acls(&mut self, acls: &[Acl]) -> i64 {
        let reference = match self.acl_key_map.get(acls) {
            Some(r) => *r,
            None => {
                self.acl_index += 1;
                let r = self.acl_index;
                self.long_key_map.insert(r, acls.to_vec());
                self.acl_key_map.insert(acls.to_vec(), r);
                r
            }
        };
        self.add_usage(reference);
        reference
    }

    /// `convertLong`: the ACL list of a reference; `None` for an unknown reference.
    pub fn convert_long(&self, reference: i64) -> Option<Vec<Acl>> {
        if reference == OPEN_UNSAFE_ACL_ID {
            return Some(Acl::open_unsafe());
        }
        self.long_key_map.get(&reference).cloned()
    }

    /// `addUsage`.
    pub fn add_usage(&mut self, reference: i64) {
        if reference == OPEN_UNSAFE_ACL_ID || !self.long_key_map.contains_key(&reference) {
            return;
        }
        *self.reference_counter.entry(reference).or_insert(0) += 1;
    }

    /// `removeUsage`: drops the entry when its count reaches zero.
    pub fn remove_usage(&mut self, reference: i64) {
        if reference == OPEN_UNSAFE_ACL_ID || !self.long_key_map.contains_key(&reference) {
            return;
        }
        let count = self.reference_counter.entry(reference).or_insert(0);
        *count -= 1;
        if *count <= 0 {
            self.reference_counter.remove(&reference);
            if let Some(acls) = self.long_key_map.remove(&reference) {
                self.acl_key_map.remove(&acls);
            }
        }
    }

    /// `deserialize`: loads a snapshot's map with zero counts (nodes then add their usage).
    pub fn load(&mut self, map: &BTreeMap<i64, Vec<Acl>>) {
        *self = AclCache::default();
        for (reference, acls) in map {
            self.acl_index = self.acl_index.max(*reference);
            self.long_key_map.insert(*reference, acls.clone());
            self.acl_key_map.insert(acls.clone(), *reference);
            self.reference_counter.insert(*reference, 0);
        }
    }

    /// `purgeUnused`: drops entries no node uses (after a snapshot load).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> = self
            .reference_counter
            .iter()
            .filter(|(_, c)| **c <= 0)
            .map(|(r, _)| *r)
            .collect();
        for reference in unused {
            self.reference_counter.remove(&reference);
            if let Some(acls) = self.long_key_map.remove(&reference) {
                self.acl_key_map.remove(&acls);
            }
        }
    }

    /// The whole map, as a snapshot stores it.
    pub fn map(&self) -> &BTreeMap<i64, Vec<Acl>> {
        &self.long_key_map
    }

    /// The use count of a reference (0 when unknown).
    pub fn usage(&self, reference: i64) -> i64 {
        self.reference_counter.get(&reference).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_count_and_vanish() {
        let mut cache = AclCache::default();
        let a = cache.convert_acls(&Acl::open_unsafe());
        let b = cache.convert_acls(&Acl::read_unsafe());
        assert_eq!((a, b), (1, 2));
        assert_eq!(cache.convert_acls(&Acl::open_unsafe()), 1);
        assert_eq!(cache.usage(1), 2);
        cache.remove_usage(1);
        cache.remove_usage(1);
        assert_eq!(cache.convert_long(1), None);
        assert_eq!(cache.convert_long(-1), Some(Acl::open_unsafe()));
        // A new list gets a fresh reference; indexes are never reused.
        assert_eq!(cache.convert_acls(&Acl::open_unsafe()), 3);
    }
}
