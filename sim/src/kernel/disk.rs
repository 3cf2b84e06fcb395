//! Per-node virtual disks: named files, a page cache, durable bytes and pending writes.
//!
//! Fault model. **Inside** ZooKeeper's model (the cluster must survive with nothing acknowledged
//! lost): writes that were not fsynced are lost at a crash; the last of them may be **torn** at
//! a 512-byte sector boundary (the disk persisted a prefix of the pending writes in issue order,
//! and of the last one only some whole sectors); fsync can be **slow** (stalls); the disk can
//! be **full** (ENOSPC, an operational error the server must handle without acknowledging).
//! **Outside** the model (the server must detect these and refuse to serve wrong data, or the
//! scenario is negative): **bit flips** in a file region, **latent read errors**, an **fsync
//! that lies** (reports success, persists nothing), and a **wipe** (the disk was replaced).
//!
//! Model. A file name points to an inode. Every operation is applied to the page cache at once
//! (reads see it) and appended to the disk-wide list of pending operations. `fsync(file)`
//! completes after a sampled latency and then makes durable every pending operation issued
//! before it that wrote that inode, together with every pending namespace operation (create,
//! rename, delete) issued before it (a journal commit is global). A rename of a file whose data
//! was never fsynced therefore leaves a durable but empty file: the classic "rename without
//! fsync" bug is reproducible. Completions are FIFO per disk (one device queue).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::latency::LatencyDist;
use super::process::DiskError;
use super::rng::{Ratio, SimRng};

/// The sector size at which torn writes are cut.
pub const SECTOR_BYTES: u64 = 512;

/// Disk configuration for every node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskConfig {
    /// Latency of a write, truncate or namespace operation (page-cache speed).
    #[serde(default = "default_write_latency")]
    pub write_latency: LatencyDist,
    /// Latency of an fsync.
    #[serde(default = "default_fsync_latency")]
    pub fsync_latency: LatencyDist,
    /// Capacity in bytes (`None`: unlimited).
    #[serde(default)]
    pub capacity_bytes: Option<u64>,
}

fn default_write_latency() -> LatencyDist {
    LatencyDist::Fixed { us: 5 }
}

fn default_fsync_latency() -> LatencyDist {
    LatencyDist::LongTail {
        min_us: 200,
        p50_us: 1_000,
        p90_us: 2_000,
        p99_us: 10_000,
        p999_us: 50_000,
        max_us: 200_000,
    }
}

impl Default for DiskConfig {
    fn default() -> Self {
        DiskConfig {
            write_latency: default_write_latency(),
            fsync_latency: default_fsync_latency(),
            capacity_bytes: None,
        }
    }
}

/// What a crash does to the writes still pending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CrashDisk {
    /// Every pending operation is lost (inside the model).
    #[default]
    LosePending,
    /// A random prefix (in issue order) of the pending operations reached the media, and the
    /// next write only as whole sectors: a torn tail (inside the model).
    TornPrefix,
}

/// A byte range of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// First byte.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

impl Region {
    fn end(self) -> u64 {
        self.offset.saturating_add(self.len)
    }

    fn overlaps(self, offset: u64, len: u64) -> bool {
        self.len > 0 && len > 0 && self.offset < offset.saturating_add(len) && offset < self.end()
    }
}

type Ino = u64;

#[derive(Clone, Debug, Default)]
struct Inode {
    cache: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Clone, Debug)]
enum OpKind {
    Write {
        ino: Ino,
        offset: u64,
        data: Vec<u8>,
    },
    Truncate {
        ino: Ino,
        len: u64,
    },
    Link {
        name: String,
        ino: Ino,
    },
    Unlink {
        name: String,
    },
}

#[derive(Clone, Debug)]
struct PendingOp {
    seq: u64,
    kind: OpKind,
}

/// A sampled completion for a disk operation: when the device finishes it, and what it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Nanoseconds from issue to completion (already FIFO-adjusted by the caller).
    pub latency_ns: u64,
    /// For an fsync: the inode and the pending-sequence barrier to promote at completion.
    pub fsync: Option<FsyncTicket>,
    /// The result the process will see.
    pub result: Result<(), DiskError>,
}

/// What an fsync promotes when it completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsyncTicket {
    /// The file whose data to promote (`None`: a directory sync, namespace operations only).
    ino: Option<Ino>,
    barrier: u64,
    generation: u64,
}

/// One node's disk.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    names: BTreeMap<String, Ino>,
    durable_names: BTreeMap<String, Ino>,
    inodes: BTreeMap<Ino, Inode>,
    pending: Vec<PendingOp>,
    next_ino: Ino,
    next_seq: u64,
    generation: u64,
    capacity_bytes: Option<u64>,
    latent: Vec<(Ino, Region)>,
    /// While true, fsync reports success and persists nothing (outside the model).
    pub fsync_lies: bool,
    /// Extra nanoseconds added to every fsync (a stalled device; inside the model).
    pub fsync_extra_ns: u64,
    /// Probability that an operation fails with EIO (inside the model: reported, not silent).
    pub error_chance: Ratio,
}

impl Disk {
    /// An empty disk with an optional capacity.
    pub fn new(capacity_bytes: Option<u64>) -> Disk {
        Disk {
            capacity_bytes,
            error_chance: Ratio::NEVER,
            ..Disk::default()
        }
    }

    /// Sets the capacity (`None`: unlimited). Existing data is kept even if it exceeds it.
    pub fn set_capacity(&mut self, capacity_bytes: Option<u64>) {
        self.capacity_bytes = capacity_bytes;
    }

    /// The capacity limit, if any.
    pub fn capacity_bytes(&self) -> Option<u64> {
        self.capacity_bytes
    }

    /// Bytes used by the files visible in the page cache.
    pub fn used_bytes(&self) -> u64 {
        self.names
            .values()
            .filter_map(|ino| self.inodes.get(ino))
            .map(|i| i.cache.len() as u64)
            .sum()
    }

    /// Names of the files, sorted.
    pub fn list(&self) -> Vec<String> {
        self.names.keys().cloned().collect()
    }

    /// Names of the files that would survive a crash now, sorted.
    pub fn list_durable(&self) -> Vec<String> {
        self.durable_names.keys().cloned().collect()
    }

    /// True if the file exists (page cache view).
    pub fn exists(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// The file's length (page cache view).
    pub fn len(&self, name: &str) -> Result<u64, DiskError> {
        let ino = self.ino(name)?;
        Ok(self.inode(ino).cache.len() as u64)
    }

    /// Number of operations not yet durable.
    pub fn pending_ops(&self) -> usize {
        self.pending.len()
    }

    /// The whole file (page cache view), or a latent read error.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, DiskError> {
        let len = self.len(name)?;
        self.read_at(name, 0, len)
    }

    /// `len` bytes from `offset` (short at end of file), or a latent read error.
    pub fn read_at(&self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>, DiskError> {
        let ino = self.ino(name)?;
        let data = &self.inode(ino).cache;
        let start = (offset as usize).min(data.len());
        let end = (offset.saturating_add(len) as usize).min(data.len());
        let got = (end - start) as u64;
        for &(bad_ino, region) in &self.latent {
            if bad_ino == ino && region.overlaps(offset, got) {
                return Err(DiskError::ReadError {
                    file: name.to_string(),
                    offset: region.offset.max(offset),
                });
            }
        }
        Ok(data.get(start..end).map(<[u8]>::to_vec).unwrap_or_default())
    }

    /// The durable content of a file (what a crash now would leave), for tests and checkers.
    pub fn durable_content(&self, name: &str) -> Option<Vec<u8>> {
        let ino = self.durable_names.get(name)?;
        self.inodes.get(ino).map(|i| i.durable.clone())
    }

    fn ino(&self, name: &str) -> Result<Ino, DiskError> {
        self.names
            .get(name)
            .copied()
            .ok_or_else(|| DiskError::NotFound(name.to_string()))
    }

    fn inode(&self, ino: Ino) -> &Inode {
        match self.inodes.get(&ino) {
            Some(i) => i,
            None => panic!("dangling inode {ino}"),
        }
    }

    fn inode_mut(&mut self, ino: Ino) -> &mut Inode {
        match self.inodes.get_mut(&ino) {
            Some(i) => i,
            None => panic!("dangling inode {ino}"),
        }
    }

    fn push_op(&mut self, kind: OpKind) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push(PendingOp { seq, kind });
    }

    fn create(&mut self, name: &str) -> Ino {
        if let Some(&ino) = self.names.get(name) {
            return ino;
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(ino, Inode::default());
        self.names.insert(name.to_string(), ino);
        self.push_op(OpKind::Link {
            name: name.to_string(),
            ino,
        });
        ino
    }

    /// Puts a file on the disk as if it had been written and synced long ago (a data directory
    /// the node starts from): both the page cache and the media hold `data`, nothing is pending.
    pub fn preload(&mut self, name: &str, data: &[u8]) {
        assert!(!self.names.contains_key(name), "{name} preloaded twice");
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(
            ino,
            Inode {
                cache: data.to_vec(),
                durable: data.to_vec(),
            },
        );
        self.names.insert(name.to_string(), ino);
        self.durable_names.insert(name.to_string(), ino);
    }

    /// Writes `data` at `offset`, creating the file if needed and zero-filling any gap.
    pub fn write(&mut self, name: &str, offset: u64, data: &[u8]) -> Result<(), DiskError> {
        let old_len = self
            .names
            .get(name)
            .map_or(0, |&i| self.inode(i).cache.len() as u64);
        let new_len = old_len.max(offset.saturating_add(data.len() as u64));
        if let Some(cap) = self.capacity_bytes {
            if self.used_bytes() + (new_len - old_len) > cap {
                return Err(DiskError::NoSpace);
            }
        }
        let ino = self.create(name);
        apply_write(&mut self.inode_mut(ino).cache, offset, data);
        // A rewrite remaps the sector: latent errors under the written bytes disappear.
        self.latent.retain(|&(i, r)| {
            !(i == ino && r.offset >= offset && r.end() <= offset + data.len() as u64)
        });
        self.push_op(OpKind::Write {
            ino,
            offset,
            data: data.to_vec(),
        });
        Ok(())
    }

    /// Appends `data` at the end of the file (creating it if needed).
    pub fn append(&mut self, name: &str, data: &[u8]) -> Result<(), DiskError> {
        let offset = self
            .names
            .get(name)
            .map_or(0, |&i| self.inode(i).cache.len() as u64);
        self.write(name, offset, data)
    }

    /// Sets the file's length (cutting, or extending with zeros).
    pub fn truncate(&mut self, name: &str, len: u64) -> Result<(), DiskError> {
        let ino = self.ino(name)?;
        let old = self.inode(ino).cache.len() as u64;
        if let Some(cap) = self.capacity_bytes {
            if len > old && self.used_bytes() + (len - old) > cap {
                return Err(DiskError::NoSpace);
            }
        }
        self.inode_mut(ino).cache.resize(len as usize, 0);
        self.push_op(OpKind::Truncate { ino, len });
        Ok(())
    }

    /// Renames `from` to `to`, atomically replacing `to` if it exists.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), DiskError> {
        let ino = self.ino(from)?;
        self.names.remove(from);
        self.names.insert(to.to_string(), ino);
        self.push_op(OpKind::Unlink {
            name: from.to_string(),
        });
        self.push_op(OpKind::Link {
            name: to.to_string(),
            ino,
        });
        Ok(())
    }

    /// Deletes a file.
    pub fn delete(&mut self, name: &str) -> Result<(), DiskError> {
        self.ino(name)?;
        self.names.remove(name);
        self.push_op(OpKind::Unlink {
            name: name.to_string(),
        });
        Ok(())
    }

    /// Prepares an fsync of `name`: what to promote when it completes.
    pub fn fsync_ticket(&self, name: &str) -> Result<FsyncTicket, DiskError> {
        let ino = self.ino(name)?;
        Ok(FsyncTicket {
            ino: Some(ino),
            barrier: self.next_seq,
            generation: self.generation,
        })
    }

    /// Prepares a directory sync: makes the namespace operations (create, rename, delete)
    /// issued so far durable when it completes, and no file data.
    pub fn fsync_dir_ticket(&self) -> FsyncTicket {
        FsyncTicket {
            ino: None,
            barrier: self.next_seq,
            generation: self.generation,
        }
    }

    /// Completes an fsync: makes durable the ticket's inode writes and the namespace operations
    /// issued before it. Does nothing if the disk crashed since, or if fsync lies.
    pub fn complete_fsync(&mut self, ticket: FsyncTicket) -> usize {
        if ticket.generation != self.generation || self.fsync_lies {
            return 0;
        }
        let (promote, keep): (Vec<PendingOp>, Vec<PendingOp>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|op| {
                op.seq < ticket.barrier
                    && match &op.kind {
                        OpKind::Write { ino, .. } | OpKind::Truncate { ino, .. } => {
                            Some(*ino) == ticket.ino
                        }
                        OpKind::Link { .. } | OpKind::Unlink { .. } => true,
                    }
            });
        self.pending = keep;
        let n = promote.len();
        for op in promote {
            self.make_durable(op.kind);
        }
        self.collect_garbage();
        n
    }

    /// Drops inodes that no name (cached or durable) and no pending operation references:
    /// deleted or replaced files whose deletion is durable. Keeps long runs that rotate logs
    /// from accumulating dead file contents.
    fn collect_garbage(&mut self) {
        let mut referenced: std::collections::BTreeSet<Ino> = self
            .names
            .values()
            .chain(self.durable_names.values())
            .copied()
            .collect();
        for op in &self.pending {
            match &op.kind {
                OpKind::Write { ino, .. }
                | OpKind::Truncate { ino, .. }
                | OpKind::Link { ino, .. } => {
                    referenced.insert(*ino);
                }
                OpKind::Unlink { .. } => {}
            }
        }
        self.inodes.retain(|ino, _| referenced.contains(ino));
        let inodes = &self.inodes;
        self.latent.retain(|(ino, _)| inodes.contains_key(ino));
    }

    /// Number of inodes held (live files plus deleted ones still referenced), for tests.
    pub fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    fn make_durable(&mut self, op: OpKind) {
        match op {
            OpKind::Write { ino, offset, data } => {
                apply_write(&mut self.inode_mut(ino).durable, offset, &data);
            }
            OpKind::Truncate { ino, len } => self.inode_mut(ino).durable.resize(len as usize, 0),
            OpKind::Link { name, ino } => {
                self.durable_names.insert(name, ino);
            }
            OpKind::Unlink { name } => {
                self.durable_names.remove(&name);
            }
        }
    }

    /// A machine crash: pending operations are lost, or (with [`CrashDisk::TornPrefix`]) a
    /// random prefix survives with a torn last write. The page cache becomes the durable state.
    /// Returns how many pending operations were lost.
    pub fn crash(&mut self, mode: CrashDisk, rng: &mut SimRng) -> usize {
        let pending = std::mem::take(&mut self.pending);
        let n = pending.len();
        let keep = match mode {
            CrashDisk::LosePending => 0,
            CrashDisk::TornPrefix => rng.below(n as u64 + 1) as usize,
        };
        let mut ops = pending.into_iter();
        for op in ops.by_ref().take(keep) {
            self.make_durable(op.kind);
        }
        if let (CrashDisk::TornPrefix, Some(next)) = (mode, ops.next()) {
            if let OpKind::Write { ino, offset, data } = next.kind {
                let torn = torn_len(offset, data.len() as u64, rng);
                assert!(torn < data.len() as u64 || data.is_empty());
                let prefix = data.get(..torn as usize).unwrap_or_default();
                apply_write(&mut self.inode_mut(ino).durable, offset, prefix);
            }
        }
        self.reset_to_durable();
        n - keep
    }

    fn reset_to_durable(&mut self) {
        self.generation += 1;
        self.pending.clear();
        self.names = self.durable_names.clone();
        let live: Vec<Ino> = self.names.values().copied().collect();
        self.inodes.retain(|ino, _| live.contains(ino));
        for inode in self.inodes.values_mut() {
            inode.cache = inode.durable.clone();
        }
        let inodes = &self.inodes;
        self.latent.retain(|(ino, _)| inodes.contains_key(ino));
        assert!(self.names.values().all(|i| self.inodes.contains_key(i)));
    }

    /// The disk was replaced: every file, durable or not, is gone (outside the model).
    pub fn wipe(&mut self) {
        self.names.clear();
        self.durable_names.clear();
        self.inodes.clear();
        self.pending.clear();
        self.latent.clear();
        self.generation += 1;
    }

    /// Flips bits in every byte of `region` of `name`, in the durable media and in the page
    /// cache (outside the model). Returns the number of bytes changed.
    pub fn flip_bits(
        &mut self,
        name: &str,
        region: Region,
        rng: &mut SimRng,
    ) -> Result<u64, DiskError> {
        let ino = self.ino(name)?;
        let inode = self.inode_mut(ino);
        let mut changed = 0;
        for pos in region.offset..region.end() {
            // A non-zero mask changes at least one bit of the byte.
            let mask = (rng.below(255) + 1) as u8;
            let mut hit = false;
            for bytes in [&mut inode.cache, &mut inode.durable] {
                if let Some(b) = bytes.get_mut(pos as usize) {
                    *b ^= mask;
                    hit = true;
                }
            }
            changed += u64::from(hit);
        }
        Ok(changed)
    }

    /// Makes `region` of `name` unreadable until it is rewritten (outside the model).
    pub fn add_latent_error(&mut self, name: &str, region: Region) -> Result<(), DiskError> {
        let ino = self.ino(name)?;
        self.latent.push((ino, region));
        Ok(())
    }

    /// Clears every latent read error.
    pub fn clear_latent_errors(&mut self) {
        self.latent.clear();
    }

    /// Samples the completion of an operation: the fsync latency (plus any stall) for an
    /// fsync, the write latency otherwise.
    pub fn sample_latency(&self, config: &DiskConfig, fsync: bool, rng: &mut SimRng) -> u64 {
        if fsync {
            config.fsync_latency.sample_ns(rng) + self.fsync_extra_ns
        } else {
            config.write_latency.sample_ns(rng)
        }
    }
}

/// How many bytes of a write starting at `offset` survive a tear: whole sectors only, so the
/// surviving prefix ends on a sector boundary strictly inside the write, or nothing survives.
pub fn torn_len(offset: u64, len: u64, rng: &mut SimRng) -> u64 {
    let end = offset + len;
    let first = (offset / SECTOR_BYTES + 1) * SECTOR_BYTES;
    let boundaries: Vec<u64> = (first..end).step_by(SECTOR_BYTES as usize).collect();
    let choice = rng.below(boundaries.len() as u64 + 1) as usize;
    let torn = match choice.checked_sub(1).and_then(|i| boundaries.get(i)) {
        Some(&b) => b - offset,
        None => 0,
    };
    assert!(torn == 0 || (offset + torn) % SECTOR_BYTES == 0);
    torn
}

fn apply_write(buf: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    if let Some(dst) = buf.get_mut(offset as usize..end) {
        dst.copy_from_slice(data);
    }
}
