//! The context a process acts through: its local clocks, connections, timers, disk, random
//! stream and trace notes.
//!
//! Contract: every method acts on behalf of the node whose event is being handled, at the
//! current virtual instant, and records what it does in the trace. Effects are immediate in the
//! kernel's state (a sent message is in flight, a write is in the page cache) and their
//! consequences arrive later as [`Event`](super::process::Event)s: a message at the peer, a
//! timer firing, an [`IoId`] completing. Disk operations complete in issue order, one device
//! queue per node.

use super::clock::ClockKind;
use super::core::{Core, IoEntry, TimerEntry};
use super::disk::Region;
use super::process::{ConnId, DiskError, IoId, NodeId, Payload, TimerId};
use super::rng::SimRng;
use super::time::{LocalTime, SimTime};
use super::trace::{fnv1a64, RecordKind};

/// A kind of disk operation, as recorded in the trace (`IoIssue`, field `b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum DiskOp {
    /// Write at an offset.
    Write = 1,
    /// Append at the end.
    Append = 2,
    /// Set the length.
    Truncate = 3,
    /// Rename, replacing the target atomically.
    Rename = 4,
    /// Delete.
    Delete = 5,
    /// Make the file's writes (and earlier namespace operations) durable.
    Fsync = 6,
    /// Make earlier namespace operations durable.
    FsyncDir = 7,
}

/// What a process can do. Borrowed for the duration of one event.
pub struct Ctx<'a, M, T> {
    core: &'a mut Core<M, T>,
    node: NodeId,
}

impl<M, T> std::fmt::Debug for Ctx<'_, M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("node", &self.node).finish()
    }
}

impl<'a, M: Payload, T> Ctx<'a, M, T> {
    pub(crate) fn new(core: &'a mut Core<M, T>, node: NodeId) -> Self {
        Ctx { core, node }
    }

    /// This node.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// This node's process incarnation (1 at first boot, bumped at every restart).
    pub fn incarnation(&self) -> u32 {
        self.core.node(self.node).incarnation
    }

    /// Number of nodes in the world (ids are `0..node_count`).
    pub fn node_count(&self) -> usize {
        self.core.nodes.len()
    }

    /// The node at the other end of `conn`, if this node is one of its ends.
    pub fn peer(&self, conn: ConnId) -> Option<NodeId> {
        let c = self.core.net.conns.get(conn.0 as usize)?;
        let e = c.end_of(self.node)?;
        Some(c.ends[1 - e].node)
    }

    /// A node's name (as given to `World::add_node`).
    pub fn node_name(&self, node: NodeId) -> &str {
        &self.core.node(node).name
    }

    /// The monotonic local clock (`System.nanoTime`; ZooKeeper's `Time.currentElapsedTime`).
    pub fn now(&self) -> LocalTime {
        self.read_clock(ClockKind::Monotonic)
    }

    /// The wall local clock, nanoseconds since 1970 (`System.currentTimeMillis` × 10⁶).
    pub fn wall_now(&self) -> LocalTime {
        self.read_clock(ClockKind::Wall)
    }

    /// Either local clock.
    pub fn read_clock(&self, kind: ClockKind) -> LocalTime {
        self.core.node(self.node).clock.read(kind, self.core.now())
    }

    /// Opens a connection to `peer`: later `Connected` or `ConnectFailed`; the peer gets
    /// `Accepted`. Messages may be sent at once; they follow the handshake.
    pub fn connect(&mut self, peer: NodeId) -> ConnId {
        self.core.connect(self.node, peer, 0)
    }

    /// Opens a connection to `peer`'s `port`. Ports are labels that the acceptor sees in
    /// `Accepted` (every port accepts; a process that does not serve one closes the connection).
    pub fn connect_port(&mut self, peer: NodeId, port: u16) -> ConnId {
        self.core.connect(self.node, peer, port)
    }

    /// The acceptor's port of `conn`.
    pub fn port(&self, conn: ConnId) -> Option<u16> {
        self.core.net.conns.get(conn.0 as usize).map(|c| c.port)
    }

    /// Sends on `conn`. If the connection is dead the message is lost silently; the process
    /// learns of the death through its own `Disconnected` event.
    pub fn send(&mut self, conn: ConnId, msg: M) {
        self.core.send(self.node, conn, msg);
    }

    /// Closes `conn`. The peer gets `Disconnected { ClosedByPeer }` after everything this end
    /// sent before; nothing more is delivered here.
    pub fn close(&mut self, conn: ConnId) {
        self.core.close(self.node, conn);
    }

    /// Arms a timer at a monotonic local deadline.
    pub fn set_timer(&mut self, deadline: LocalTime, tag: T) -> TimerId {
        self.set_timer_on(ClockKind::Monotonic, deadline, tag)
    }

    /// Arms a timer `after_ns` monotonic nanoseconds from now.
    pub fn set_timer_after(&mut self, after_ns: u64, tag: T) -> TimerId {
        let deadline = LocalTime(self.now().0.saturating_add(after_ns));
        self.set_timer(deadline, tag)
    }

    /// Arms a timer at a local deadline of clock `kind` (see `clock.rs` for jumps).
    pub fn set_timer_on(&mut self, kind: ClockKind, deadline: LocalTime, tag: T) -> TimerId {
        let id = TimerId(self.core.next_timer);
        self.core.next_timer += 1;
        let now = self.core.now();
        let node = self.core.node(self.node);
        let at = node.clock.global_deadline(kind, deadline, now);
        let entry = TimerEntry {
            node: self.node,
            incarnation: node.incarnation,
            clock: kind,
            deadline,
            version: 0,
            tag,
        };
        self.core.timers.insert(id, entry);
        self.core
            .queue
            .push(at, super::core::Ev::Timer { id, version: 0 });
        self.core.record(
            Some(self.node),
            RecordKind::TimerSet,
            id.0,
            at.0,
            String::new,
        );
        id
    }

    /// Cancels a pending timer of this node; false if it already fired or is unknown.
    pub fn cancel_timer(&mut self, id: TimerId) -> bool {
        let mine = self
            .core
            .timers
            .get(&id)
            .is_some_and(|t| t.node == self.node);
        if mine {
            self.core.timers.remove(&id);
            self.core.record(
                Some(self.node),
                RecordKind::TimerCancel,
                id.0,
                0,
                String::new,
            );
        }
        mine
    }

    /// This node's random stream (for non-protocol actors such as workload clients).
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.core.node_mut(self.node).rng
    }

    /// Records a process-level observation in the trace (hashed: label and value).
    pub fn note(&mut self, label: &'static str, value: u64) {
        self.core.record(
            Some(self.node),
            RecordKind::Note,
            fnv1a64(label.as_bytes()),
            value,
            || label.to_string(),
        );
    }

    /// Records an observation with a detail text (built only when full records are kept).
    pub fn note_with(&mut self, label: &'static str, value: u64, detail: impl FnOnce() -> String) {
        self.core.record(
            Some(self.node),
            RecordKind::Note,
            fnv1a64(label.as_bytes()),
            value,
            || format!("{label} {}", detail()),
        );
    }

    /// The process stops itself (`System.exit`): memory is lost, the machine and its page cache
    /// survive. Takes effect when the current event's handler returns.
    pub fn exit(&mut self) {
        self.core.exit_requested = Some(self.node);
    }

    /// The global virtual instant, for the observer only: recording client histories and
    /// observations whose real-time order the checkers judge. Never feed it to protocol logic,
    /// which must see only its local clocks.
    pub fn observer_now(&self) -> SimTime {
        self.core.now()
    }

    // ----- disk -----

    fn issue(
        &mut self,
        op: DiskOp,
        name: &str,
        result: Result<(), DiskError>,
        fsync: bool,
    ) -> IoId {
        let ticket = if fsync && result.is_ok() {
            self.core.node(self.node).disk.fsync_ticket(name).ok()
        } else {
            None
        };
        self.issue_with_ticket(op, name, result, ticket)
    }

    fn issue_with_ticket(
        &mut self,
        op: DiskOp,
        name: &str,
        result: Result<(), DiskError>,
        ticket: Option<super::disk::FsyncTicket>,
    ) -> IoId {
        let fsync = ticket.is_some() || matches!(op, DiskOp::Fsync | DiskOp::FsyncDir);
        let id = IoId(self.core.next_io);
        self.core.next_io += 1;
        let now = self.core.now();
        let cfg = self.core.config.disk.clone();
        let latency = {
            let n = &self.core.nodes[self.node.index()];
            n.disk.sample_latency(&cfg, fsync, &mut self.core.rng_disk)
        };
        let n = self.core.node_mut(self.node);
        let done = now.plus_ns(latency).max(n.io_last_done);
        n.io_last_done = done;
        let incarnation = n.incarnation;
        n.disk_ops_issued += 1;
        let reached = match n.crash_after_ops {
            Some((1, mode)) => Some(mode),
            Some((k, mode)) => {
                n.crash_after_ops = Some((k - 1, mode));
                None
            }
            None => None,
        };
        if let Some(mode) = reached {
            n.crash_after_ops = None;
            self.core.dying = Some((self.node, mode));
        }
        self.core.ios.insert(
            id,
            IoEntry {
                node: self.node,
                incarnation,
                ticket,
                result,
            },
        );
        self.core.queue.push(done, super::core::Ev::Io { io: id });
        let name = name.to_string();
        self.core.record(
            Some(self.node),
            RecordKind::IoIssue,
            id.0,
            op as u64,
            move || format!("{op:?} {name}"),
        );
        id
    }

    /// True if an injected EIO hits the next operation (draws only while errors are on).
    fn injected_error(&mut self) -> bool {
        let chance = self.core.node(self.node).disk.error_chance;
        chance.numerator > 0 && self.core.rng_disk.chance(chance)
    }

    /// Runs `op` on the disk unless an injected EIO hits it first.
    fn disk_op(
        &mut self,
        op: impl FnOnce(&mut super::disk::Disk) -> Result<(), DiskError>,
    ) -> Result<(), DiskError> {
        if self.core.dying.is_some_and(|(n, _)| n == self.node) {
            // The machine died at its crash point: nothing later reaches the disk.
            return Err(DiskError::Io);
        }
        if self.injected_error() {
            return Err(DiskError::Io);
        }
        op(&mut self.core.node_mut(self.node).disk)
    }

    /// Writes `data` at `offset` of `file` (created if absent).
    pub fn write(&mut self, file: &str, offset: u64, data: &[u8]) -> IoId {
        let r = self.disk_op(|d| d.write(file, offset, data));
        self.issue(DiskOp::Write, file, r, false)
    }

    /// Appends `data` to `file` (created if absent).
    pub fn append(&mut self, file: &str, data: &[u8]) -> IoId {
        let r = self.disk_op(|d| d.append(file, data));
        self.issue(DiskOp::Append, file, r, false)
    }

    /// Sets `file`'s length.
    pub fn truncate(&mut self, file: &str, len: u64) -> IoId {
        let r = self.disk_op(|d| d.truncate(file, len));
        self.issue(DiskOp::Truncate, file, r, false)
    }

    /// Renames `from` to `to`, atomically replacing `to` (the tmp+rename idiom of ZooKeeper's
    /// `AtomicFileOutputStream`: fsync the tmp file before renaming it).
    pub fn rename(&mut self, from: &str, to: &str) -> IoId {
        let r = self.disk_op(|d| d.rename(from, to));
        self.issue(DiskOp::Rename, to, r, false)
    }

    /// Deletes `file`.
    pub fn delete(&mut self, file: &str) -> IoId {
        let r = self.disk_op(|d| d.delete(file));
        self.issue(DiskOp::Delete, file, r, false)
    }

    /// Makes `file`'s writes issued so far, and all namespace operations issued so far,
    /// durable; completes after a sampled fsync latency. A failed fsync promotes nothing.
    pub fn fsync(&mut self, file: &str) -> IoId {
        let r = self.disk_op(|d| d.fsync_ticket(file).map(|_| ()));
        self.issue(DiskOp::Fsync, file, r, true)
    }

    /// Syncs the directory: makes every namespace operation issued so far (create, rename,
    /// delete) durable, and no file data; completes after a sampled fsync latency.
    pub fn fsync_dir(&mut self) -> IoId {
        let r = self.disk_op(|_| Ok(()));
        let ticket = self.core.node(self.node).disk.fsync_dir_ticket();
        let ticket = r.is_ok().then_some(ticket);
        self.issue_with_ticket(DiskOp::FsyncDir, ".", r, ticket)
    }

    /// Reads the whole file (page-cache view), synchronously.
    pub fn read(&self, file: &str) -> Result<Vec<u8>, DiskError> {
        self.core.node(self.node).disk.read(file)
    }

    /// Reads `len` bytes at `offset` (short at end of file), synchronously.
    pub fn read_at(&self, file: &str, offset: u64, len: u64) -> Result<Vec<u8>, DiskError> {
        self.core.node(self.node).disk.read_at(file, offset, len)
    }

    /// The file's length.
    pub fn file_len(&self, file: &str) -> Result<u64, DiskError> {
        self.core.node(self.node).disk.len(file)
    }

    /// True if the file exists.
    pub fn exists(&self, file: &str) -> bool {
        self.core.node(self.node).disk.exists(file)
    }

    /// The files, sorted by name.
    pub fn list(&self) -> Vec<String> {
        self.core.node(self.node).disk.list()
    }

    /// Whether `region` of `file` is readable (no latent error), without reading it.
    pub fn region_readable(&self, file: &str, region: Region) -> bool {
        self.read_at(file, region.offset, region.len).is_ok()
    }
}
