//! A tiny hand-driven harness for `QuorumPeer` golden tests: it routes actions between servers
//! (election channel, quorum connections, client connections), completes disk operations on a
//! two-level disk (page cache + durable copy), fires timers in deadline order and can crash and
//! restart a server from its durable files. One global FIFO of deliveries: deterministic.
//!
//! Disk model (simplified on purpose): Append/Write/Truncate change the page cache; Fsync copies
//! the file to the durable copy; Rename/Delete act on both; a crash keeps only the durable copy.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use zabsim_protocol::observe::Observation;
use zabsim_protocol::server::{
    Conn, DataDir, DiskRequest, IoToken, Port, QuorumConfig, QuorumPacket, QuorumPeer,
    ServerAction, ServerInput, ServerTimer,
};
use zabsim_protocol::session_wire::{ClientMessage, ServerMessage};
use zabsim_protocol::types::{LocalTime, ServerId};

/// One end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Server(ServerId),
    Client,
}

/// A delivery waiting in the global queue.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub to: ServerId,
    pub input: ServerInput,
}

pub struct Node {
    pub peer: QuorumPeer,
    pub cache: BTreeMap<String, Vec<u8>>,
    pub durable: BTreeMap<String, Vec<u8>>,
    pub timers: BTreeMap<ServerTimer, LocalTime>,
    pub disk_pending: VecDeque<(IoToken, DiskRequest)>,
    pub up: bool,
    pub incarnation: u64,
}

/// A packet seen on a quorum connection: (from, to, type name).
pub type PacketTrace = Vec<(u64, u64, &'static str)>;

/// Packets and observations, interleaved in the order they happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Traced {
    Packet(u64, u64, &'static str),
    /// An ACK packet with its zxid: (from, zxid).
    Ack(u64, zabsim_protocol::types::Zxid),
    Obs(Observation),
}

pub struct Cluster {
    pub config: QuorumConfig,
    pub now: LocalTime,
    pub nodes: BTreeMap<ServerId, Node>,
    pub queue: VecDeque<Delivery>,
    /// Connection → its two ends (first = the side that opened it).
    pub conns: BTreeMap<Conn, (End, End)>,
    next_conn: u64,
    pub observations: Vec<Observation>,
    pub packets: PacketTrace,
    pub trace: Vec<Traced>,
    pub client_inbox: BTreeMap<Conn, Vec<ServerMessage>>,
    /// Servers whose disk operations are held (not completed).
    pub hold_disk: BTreeSet<ServerId>,
    /// Pairs that cannot talk (election votes dropped, connections refused).
    pub cut: BTreeSet<(ServerId, ServerId)>,
    /// Drop quorum packets matching (from, to, type name).
    pub drop_packets: BTreeSet<(u64, u64, &'static str)>,
    pub halts: Vec<(ServerId, String)>,
}

impl Cluster {
    pub fn new(config: QuorumConfig) -> Cluster {
        let mut c = Cluster {
            config: config.clone(),
            now: LocalTime(1_000_000_000),
            nodes: BTreeMap::new(),
            queue: VecDeque::new(),
            conns: BTreeMap::new(),
            next_conn: 0,
            observations: Vec::new(),
            packets: Vec::new(),
            trace: Vec::new(),
            client_inbox: BTreeMap::new(),
            hold_disk: BTreeSet::new(),
            cut: BTreeSet::new(),
            drop_packets: BTreeSet::new(),
            halts: Vec::new(),
        };
        for sid in config.peers.iter().map(|p| p.sid) {
            let node = Node {
                peer: QuorumPeer::boot(config.clone(), sid, DataDir::new()),
                cache: BTreeMap::new(),
                durable: BTreeMap::new(),
                timers: BTreeMap::new(),
                disk_pending: VecDeque::new(),
                up: false,
                incarnation: 0,
            };
            c.nodes.insert(sid, node);
        }
        c
    }

    pub fn start_all(&mut self) {
        let sids: Vec<ServerId> = self.nodes.keys().copied().collect();
        for sid in sids {
            self.start(sid);
        }
    }

    pub fn start(&mut self, sid: ServerId) {
        let node = self.nodes.get_mut(&sid).expect("known sid");
        node.up = true;
        node.incarnation += 1;
        let entropy = sid.0 * 7919 + node.incarnation;
        self.input(sid, ServerInput::Start { entropy });
    }

    fn is_cut(&self, a: ServerId, b: ServerId) -> bool {
        self.cut.contains(&(a, b)) || self.cut.contains(&(b, a))
    }

    /// Crash `sid`: volatile state and unsynced bytes are lost, connections break.
    pub fn crash(&mut self, sid: ServerId) {
        let node = self.nodes.get_mut(&sid).expect("known sid");
        node.up = false;
        node.cache = node.durable.clone();
        node.timers.clear();
        node.disk_pending.clear();
        self.observations.push(Observation::Crashed { server: sid });
        self.trace
            .push(Traced::Obs(Observation::Crashed { server: sid }));
        let broken: Vec<Conn> = self
            .conns
            .iter()
            .filter(|(_, (a, b))| *a == End::Server(sid) || *b == End::Server(sid))
            .map(|(c, _)| *c)
            .collect();
        for conn in broken {
            self.break_conn(conn, Some(sid));
        }
        self.queue.retain(|d| d.to != sid);
    }

    /// Restart a crashed server from its durable files.
    pub fn restart(&mut self, sid: ServerId) {
        let node = self.nodes.get_mut(&sid).expect("known sid");
        let dir: DataDir = node
            .durable
            .iter()
            .map(|(k, v)| (k.clone(), Ok(v.clone())))
            .collect();
        node.peer = QuorumPeer::boot(self.config.clone(), sid, dir);
        self.start(sid);
    }

    fn break_conn(&mut self, conn: Conn, except: Option<ServerId>) {
        if let Some((a, b)) = self.conns.remove(&conn) {
            for end in [a, b] {
                if let End::Server(s) = end {
                    if Some(s) != except {
                        self.queue.push_back(Delivery {
                            to: s,
                            input: ServerInput::Closed { conn },
                        });
                    }
                }
            }
        }
    }

    fn other_end(&self, conn: Conn, me: ServerId) -> Option<End> {
        let (a, b) = self.conns.get(&conn)?;
        Some(if *a == End::Server(me) { *b } else { *a })
    }

    /// Feeds one input to a server and routes its actions.
    pub fn input(&mut self, sid: ServerId, input: ServerInput) {
        let now = self.now;
        let node = self.nodes.get_mut(&sid).expect("known sid");
        if !node.up {
            return;
        }
        let actions = node.peer.handle(now, input);
        for a in actions {
            self.route(sid, a);
        }
    }

    fn route(&mut self, sid: ServerId, action: ServerAction) {
        match action {
            ServerAction::SendNotification { to, notification } => {
                if !self.is_cut(sid, to) {
                    self.queue.push_back(Delivery {
                        to,
                        input: ServerInput::Notification {
                            from: sid,
                            notification,
                        },
                    });
                }
            }
            ServerAction::ConnectToLeader { leader, request } => {
                let up = self.nodes.get(&leader).is_some_and(|n| n.up);
                if !up || self.is_cut(sid, leader) {
                    self.queue.push_back(Delivery {
                        to: sid,
                        input: ServerInput::LeaderConnectFailed { request },
                    });
                    return;
                }
                self.next_conn += 1;
                let conn = Conn(self.next_conn);
                self.conns
                    .insert(conn, (End::Server(sid), End::Server(leader)));
                self.queue.push_back(Delivery {
                    to: leader,
                    input: ServerInput::Accepted {
                        conn,
                        port: Port::Quorum,
                    },
                });
                self.queue.push_back(Delivery {
                    to: sid,
                    input: ServerInput::LeaderConnected { request, conn },
                });
            }
            ServerAction::SendPacket { conn, packet } => self.send_packet(sid, conn, packet),
            ServerAction::Reply { conn, message } => {
                if self.conns.contains_key(&conn) {
                    self.client_inbox.entry(conn).or_default().push(message);
                }
            }
            ServerAction::Close { conn } => self.break_conn(conn, Some(sid)),
            ServerAction::SetTimer { timer, at } => {
                self.node(sid).timers.insert(timer, at);
            }
            ServerAction::CancelTimer { timer } => {
                self.node(sid).timers.remove(&timer);
            }
            ServerAction::Disk { io, op } => {
                self.node(sid).disk_pending.push_back((io, op));
            }
            ServerAction::Observe(o) => {
                self.trace.push(Traced::Obs(o.clone()));
                self.observations.push(o)
            }
            ServerAction::Halt { reason } => {
                self.halts.push((sid, reason));
                self.crash(sid);
            }
        }
    }

    fn send_packet(&mut self, sid: ServerId, conn: Conn, packet: QuorumPacket) {
        let Some(End::Server(to)) = self.other_end(conn, sid) else {
            return;
        };
        let name = packet.type_name();
        if self.is_cut(sid, to) || self.drop_packets.contains(&(sid.0, to.0, name)) {
            return;
        }
        self.packets.push((sid.0, to.0, name));
        self.trace.push(Traced::Packet(sid.0, to.0, name));
        if let QuorumPacket::Ack { zxid } = &packet {
            self.trace.push(Traced::Ack(sid.0, *zxid));
        }
        self.queue.push_back(Delivery {
            to,
            input: ServerInput::Packet { conn, packet },
        });
    }

    pub fn node(&mut self, sid: ServerId) -> &mut Node {
        self.nodes.get_mut(&sid).expect("known sid")
    }

    /// Completes one pending disk operation of `sid` (in order).
    pub fn complete_disk(&mut self, sid: ServerId) -> bool {
        let node = self.node(sid);
        let Some((io, op)) = node.disk_pending.pop_front() else {
            return false;
        };
        apply_disk(node, &op);
        self.input(sid, ServerInput::DiskDone { io, result: Ok(()) });
        true
    }

    /// Delivers queued messages and disk completions until nothing is pending (timers aside).
    pub fn settle(&mut self) {
        for _ in 0..100_000 {
            if let Some(d) = self.queue.pop_front() {
                self.input(d.to, d.input);
                continue;
            }
            let ready: Vec<ServerId> = self
                .nodes
                .iter()
                .filter(|(s, n)| n.up && !n.disk_pending.is_empty() && !self.hold_disk.contains(s))
                .map(|(s, _)| *s)
                .collect();
            if ready.is_empty() {
                return;
            }
            for sid in ready {
                self.complete_disk(sid);
            }
        }
        panic!("harness did not settle");
    }

    /// Settles, then fires timers in deadline order until `ms` of virtual time have passed.
    pub fn run_for(&mut self, ms: u64) {
        let until = self.now.plus_millis(ms);
        loop {
            self.settle();
            let next = self
                .nodes
                .iter()
                .filter(|(_, n)| n.up)
                .flat_map(|(s, n)| n.timers.iter().map(move |(t, at)| (*at, *s, *t)))
                .min();
            match next {
                Some((at, sid, timer)) if at <= until => {
                    self.now = self.now.max(at);
                    self.node(sid).timers.remove(&timer);
                    self.input(sid, ServerInput::Timer(timer));
                }
                _ => {
                    self.now = until;
                    self.settle();
                    return;
                }
            }
        }
    }

    /// A client connects to `sid`; returns the connection.
    pub fn client_connect(&mut self, sid: ServerId) -> Conn {
        self.next_conn += 1;
        let conn = Conn(self.next_conn);
        self.conns.insert(conn, (End::Client, End::Server(sid)));
        self.input(
            sid,
            ServerInput::Accepted {
                conn,
                port: Port::Client,
            },
        );
        conn
    }

    pub fn client_send(&mut self, conn: Conn, message: ClientMessage) {
        if let Some(End::Server(sid)) = self.conns.get(&conn).map(|e| e.1) {
            self.input(sid, ServerInput::Client { conn, message });
        }
    }

    pub fn inbox(&self, conn: Conn) -> Vec<ServerMessage> {
        self.client_inbox.get(&conn).cloned().unwrap_or_default()
    }

    pub fn peer(&self, sid: u64) -> &QuorumPeer {
        &self.nodes[&ServerId(sid)].peer
    }
}

fn apply_disk(node: &mut Node, op: &DiskRequest) {
    match op {
        DiskRequest::Append { file, bytes } => {
            node.cache.entry(file.clone()).or_default().extend(bytes);
        }
        DiskRequest::Write {
            file,
            offset,
            bytes,
        } => {
            let f = node.cache.entry(file.clone()).or_default();
            let end = *offset as usize + bytes.len();
            if f.len() < end {
                f.resize(end, 0);
            }
            f[*offset as usize..end].copy_from_slice(bytes);
        }
        DiskRequest::Truncate { file, len } => {
            // Like any data change, a new length reaches the media only with the file's fsync.
            if let Some(f) = node.cache.get_mut(file) {
                f.truncate(*len as usize);
            }
        }
        DiskRequest::Fsync { file } => {
            if let Some(f) = node.cache.get(file) {
                node.durable.insert(file.clone(), f.clone());
            }
        }
        DiskRequest::FsyncDir => {}
        DiskRequest::Rename { from, to } => {
            for m in [&mut node.cache, &mut node.durable] {
                if let Some(f) = m.remove(from) {
                    m.insert(to.clone(), f);
                }
            }
        }
        DiskRequest::Delete { file } => {
            node.cache.remove(file);
            node.durable.remove(file);
        }
    }
}

impl Cluster {
    /// Packets between two servers (both directions), in order.
    pub fn packets_between(&self, a: u64, b: u64) -> Vec<(u64, u64, &'static str)> {
        self.packets
            .iter()
            .filter(|(f, t, _)| (*f == a && *t == b) || (*f == b && *t == a))
            .filter(|(_, _, n)| *n != "PING")
            .copied()
            .collect()
    }

    /// Index in the trace of the first item matching `pred`.
    pub fn position(&self, pred: impl Fn(&Traced) -> bool) -> Option<usize> {
        self.trace.iter().position(pred)
    }

    /// The current leader, if exactly one server is LEADING in BROADCAST.
    pub fn leader(&self) -> Option<u64> {
        let leaders: Vec<u64> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.up)
            .filter(|(_, n)| {
                n.peer.state() == zabsim_protocol::observe::ServerState::Leading
                    && n.peer.zab_state() == zabsim_protocol::observe::ZabState::Broadcast
            })
            .map(|(s, _)| s.0)
            .collect();
        (leaders.len() == 1).then(|| leaders[0])
    }
}

/// Client helpers: a session on `sid`, and writes/reads through it.
pub mod client {
    use super::Cluster;
    use zabsim_protocol::acl::Acl;
    use zabsim_protocol::request::Request;
    use zabsim_protocol::server::Conn;
    use zabsim_protocol::session_wire::{ClientMessage, ConnectRequest, ServerMessage};
    use zabsim_protocol::types::{ServerId, SessionId, Xid, Zxid};

    /// Opens a new session on `sid` and waits for the handshake answer.
    pub fn open_session(c: &mut Cluster, sid: u64) -> (Conn, SessionId) {
        let conn = c.client_connect(ServerId(sid));
        c.client_send(
            conn,
            ClientMessage::Connect(ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: Zxid::ZERO,
                timeout_ms: 10_000,
                session_id: SessionId(0),
                passwd: vec![0; 16],
                read_only: false,
            }),
        );
        c.settle();
        let session = c
            .inbox(conn)
            .iter()
            .find_map(|m| match m {
                ServerMessage::Connected(r) if r.timeout_ms > 0 => Some(r.session_id),
                _ => None,
            })
            .expect("session established");
        (conn, session)
    }

    /// Sends `create path data` (persistent, open ACL) and settles.
    pub fn create(c: &mut Cluster, conn: Conn, xid: i32, path: &str, data: &[u8]) {
        c.client_send(
            conn,
            ClientMessage::Request {
                xid: Xid(xid),
                request: Request::Create {
                    path: path.to_string(),
                    data: Some(data.to_vec()),
                    acl: Acl::open_unsafe(),
                    flags: 0,
                    ttl: -1,
                    with_stat: false,
                },
            },
        );
    }

    /// The reply to `xid` on `conn`, if any: (zxid, error code).
    pub fn reply(
        c: &Cluster,
        conn: Conn,
        xid: i32,
    ) -> Option<(Zxid, zabsim_protocol::error_code::ErrorCode)> {
        c.inbox(conn).iter().find_map(|m| match m {
            ServerMessage::Reply {
                xid: x, zxid, err, ..
            } if x.0 == xid => Some((*zxid, *err)),
            _ => None,
        })
    }
}
