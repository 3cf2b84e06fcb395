//! A small hand-driven cluster for `QuorumPeer` golden tests: it routes election votes and
//! quorum packets between peers with a fixed 1 ms delay, completes disk requests after 1 ms
//! against an in-memory data directory, fires timers, and records a transcript.

#![allow(dead_code)]

use std::collections::BTreeMap;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::server::{
    Conn, DataDir, DiskRequest, IoToken, Port, QuorumConfig, QuorumPeer, ServerAction, ServerInput,
    ServerTimer,
};
use zabsim_protocol::session_wire::{ClientMessage, ServerMessage};
use zabsim_protocol::types::{LocalTime, ServerId};

/// `LocalTime` counts nanoseconds.
const NANOS_PER_MS: u64 = 1_000_000;

/// One scheduled input.
#[derive(Debug)]
struct Event {
    to: u64,
    input: ServerInput,
}

/// Three (or n) peers and the wires between them.
pub struct Cluster {
    pub config: QuorumConfig,
    pub peers: BTreeMap<u64, QuorumPeer>,
    pub disks: BTreeMap<u64, BTreeMap<String, Vec<u8>>>,
    /// Disk requests issued and not yet completed, per server.
    pub pending_disk: BTreeMap<u64, Vec<(IoToken, DiskRequest)>>,
    /// When true, disk requests complete only when the test calls `complete_disk`.
    pub hold_disk: bool,
    /// Servers whose disk requests are held even when `hold_disk` is off.
    pub held: std::collections::BTreeSet<u64>,
    queue: BTreeMap<(u64, u64), Event>,
    timers: BTreeMap<(u64, ServerTimer), u64>,
    seq: u64,
    /// Now, in nanoseconds of local time (every server's clock is the same here).
    pub now: u64,
    next_conn: u64,
    /// (server, conn) → (peer server, peer conn).
    wires: BTreeMap<(u64, Conn), (u64, Conn)>,
    /// Packets as "from->to NAME", in delivery order.
    pub transcript: Vec<String>,
    pub observations: Vec<(u64, Observation)>,
    pub halted: BTreeMap<u64, String>,
    /// Client connections: conn → server, and what each received.
    pub clients: BTreeMap<Conn, u64>,
    pub client_inbox: BTreeMap<Conn, Vec<ServerMessage>>,
}

impl Cluster {
    pub fn new(n: u64) -> Cluster {
        let config = QuorumConfig::with_voters(n);
        let mut cluster = Cluster {
            config: config.clone(),
            peers: BTreeMap::new(),
            disks: BTreeMap::new(),
            pending_disk: BTreeMap::new(),
            hold_disk: false,
            held: std::collections::BTreeSet::new(),
            queue: BTreeMap::new(),
            timers: BTreeMap::new(),
            seq: 0,
            now: 0,
            next_conn: 0,
            wires: BTreeMap::new(),
            transcript: Vec::new(),
            observations: Vec::new(),
            halted: BTreeMap::new(),
            clients: BTreeMap::new(),
            client_inbox: BTreeMap::new(),
        };
        for sid in 1..=n {
            cluster.disks.insert(sid, BTreeMap::new());
        }
        cluster
    }

    /// Boots `sid` from its disk and starts it now.
    pub fn start(&mut self, sid: u64) {
        let dir: DataDir = self.disks[&sid]
            .iter()
            .map(|(k, v)| (k.clone(), Ok(v.clone())))
            .collect();
        let peer = QuorumPeer::boot(self.config.clone(), ServerId(sid), dir);
        self.peers.insert(sid, peer);
        self.schedule(0, sid, ServerInput::Start { entropy: sid });
    }

    /// Crashes `sid`: drops its process, pending disk work, timers and connections.
    pub fn crash(&mut self, sid: u64) {
        self.peers.remove(&sid);
        self.pending_disk.remove(&sid);
        self.timers.retain(|(s, _), _| *s != sid);
        self.queue.retain(|_, e| e.to != sid);
        let broken: Vec<((u64, Conn), (u64, Conn))> = self
            .wires
            .iter()
            .filter(|((s, _), (p, _))| *s == sid || *p == sid)
            .map(|(k, v)| (*k, *v))
            .collect();
        for (mine, theirs) in broken {
            self.wires.remove(&mine);
            if theirs.0 != sid && mine.0 == sid {
                self.schedule(1, theirs.0, ServerInput::Closed { conn: theirs.1 });
            }
        }
    }

    fn schedule(&mut self, delay: u64, to: u64, input: ServerInput) {
        self.seq += 1;
        let at = self.now + delay * NANOS_PER_MS;
        self.queue.insert((at, self.seq), Event { to, input });
    }

    /// Runs until `until` (ms) or until nothing is left to do.
    pub fn run_until(&mut self, until_ms: u64) {
        let until = until_ms * NANOS_PER_MS;
        loop {
            let next_event = self.queue.keys().next().map(|k| k.0);
            let next_timer = self.timers.values().min().copied();
            let next = match (next_event, next_timer) {
                (Some(e), Some(t)) => e.min(t),
                (Some(e), None) => e,
                (None, Some(t)) => t,
                (None, None) => return,
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            if next_event == Some(next) {
                let key = *self.queue.keys().next().unwrap();
                let event = self.queue.remove(&key).unwrap();
                self.deliver(event.to, event.input);
            } else {
                let key = *self.timers.iter().find(|(_, at)| **at == next).unwrap().0;
                self.timers.remove(&key);
                self.deliver(key.0, ServerInput::Timer(key.1));
            }
        }
    }

    fn deliver(&mut self, sid: u64, input: ServerInput) {
        let Some(peer) = self.peers.get_mut(&sid) else {
            return;
        };
        let actions = peer.handle(LocalTime(self.now), input);
        for action in actions {
            self.perform(sid, action);
        }
    }

    /// Completes every held disk request of `sid`, in order.
    pub fn complete_disk(&mut self, sid: u64) {
        let pending = self.pending_disk.remove(&sid).unwrap_or_default();
        for (io, op) in pending {
            self.apply_disk(sid, &op);
            self.deliver(sid, ServerInput::DiskDone { io, result: Ok(()) });
        }
    }

    fn apply_disk(&mut self, sid: u64, op: &DiskRequest) {
        let disk = self.disks.entry(sid).or_default();
        match op {
            DiskRequest::Append { file, bytes } => disk
                .entry(file.clone())
                .or_default()
                .extend_from_slice(bytes),
            DiskRequest::Write {
                file,
                offset,
                bytes,
            } => {
                let f = disk.entry(file.clone()).or_default();
                let end = *offset as usize + bytes.len();
                if f.len() < end {
                    f.resize(end, 0);
                }
                f[*offset as usize..end].copy_from_slice(bytes);
            }
            DiskRequest::Truncate { file, len } => {
                if let Some(f) = disk.get_mut(file) {
                    f.truncate(*len as usize);
                }
            }
            DiskRequest::Rename { from, to } => {
                if let Some(bytes) = disk.remove(from) {
                    disk.insert(to.clone(), bytes);
                }
            }
            DiskRequest::Delete { file } => {
                disk.remove(file);
            }
            DiskRequest::Fsync { .. } | DiskRequest::FsyncDir => {}
        }
    }

    fn perform(&mut self, sid: u64, action: ServerAction) {
        match action {
            ServerAction::SendNotification { to, notification } => {
                let input = ServerInput::Notification {
                    from: ServerId(sid),
                    notification,
                };
                if self.peers.contains_key(&to.0) {
                    self.schedule(1, to.0, input);
                }
            }
            ServerAction::ConnectToLeader { leader, request } => {
                self.connect(sid, leader.0, request)
            }
            ServerAction::SendPacket { conn, packet } => {
                if let Some((to, their)) = self.wires.get(&(sid, conn)).copied() {
                    self.transcript
                        .push(format!("{sid}->{to} {}", packet.type_name()));
                    self.schedule(
                        1,
                        to,
                        ServerInput::Packet {
                            conn: their,
                            packet,
                        },
                    );
                }
            }
            ServerAction::Close { conn } if self.clients.get(&conn) == Some(&sid) => {
                self.clients.remove(&conn);
            }
            ServerAction::Close { conn } => {
                if let Some((to, their)) = self.wires.remove(&(sid, conn)) {
                    self.wires.remove(&(to, their));
                    self.schedule(1, to, ServerInput::Closed { conn: their });
                }
            }
            ServerAction::SetTimer { timer, at } => {
                self.timers.insert((sid, timer), at.0);
            }
            ServerAction::CancelTimer { timer } => {
                self.timers.remove(&(sid, timer));
            }
            ServerAction::Disk { io, op } => {
                if self.hold_disk || self.held.contains(&sid) {
                    self.pending_disk.entry(sid).or_default().push((io, op));
                } else {
                    self.apply_disk(sid, &op);
                    self.schedule(1, sid, ServerInput::DiskDone { io, result: Ok(()) });
                }
            }
            ServerAction::Observe(o) => self.observations.push((sid, o)),
            ServerAction::Halt { reason } => {
                self.halted.insert(sid, reason);
            }
            ServerAction::Reply { conn, message } => {
                if self.clients.get(&conn) == Some(&sid) {
                    self.transcript.push(format!("{sid}->client REPLY"));
                    self.client_inbox.entry(conn).or_default().push(message);
                }
            }
        }
    }

    fn connect(&mut self, from: u64, leader: u64, request: u64) {
        if !self.peers.contains_key(&leader) {
            self.schedule(1, from, ServerInput::LeaderConnectFailed { request });
            return;
        }
        self.next_conn += 2;
        let (mine, theirs) = (Conn(self.next_conn), Conn(self.next_conn + 1));
        self.wires.insert((from, mine), (leader, theirs));
        self.wires.insert((leader, theirs), (from, mine));
        let accepted = ServerInput::Accepted {
            conn: theirs,
            port: Port::Quorum,
        };
        self.schedule(1, leader, accepted);
        let connected = ServerInput::LeaderConnected {
            request,
            conn: mine,
        };
        self.schedule(1, from, connected);
    }

    /// A client connects to `sid` (delivered after 1 ms); returns its connection.
    pub fn client_connect(&mut self, sid: u64) -> Conn {
        self.next_conn += 2;
        let conn = Conn(self.next_conn);
        self.clients.insert(conn, sid);
        let port = Port::Client;
        self.schedule(1, sid, ServerInput::Accepted { conn, port });
        conn
    }

    /// A client message on `conn`, delivered after 1 ms.
    pub fn client_send(&mut self, conn: Conn, message: ClientMessage) {
        if let Some(sid) = self.clients.get(&conn).copied() {
            self.schedule(1, sid, ServerInput::Client { conn, message });
        }
    }

    /// The transcript lines between two servers (either direction).
    pub fn between(&self, a: u64, b: u64) -> Vec<String> {
        let ab = format!("{a}->{b} ");
        let ba = format!("{b}->{a} ");
        self.transcript
            .iter()
            .filter(|l| l.starts_with(&ab) || l.starts_with(&ba))
            .cloned()
            .collect()
    }
}
