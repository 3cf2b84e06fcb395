//! The connection machinery behind [`Ctx`](super::ctx::Ctx) and the network faults: opening,
//! sending, closing, delivering pipe heads, breaking, and waking stalled pipes.
//!
//! Contract: see `net.rs`. Every item of a pipe is delivered in push order; a pipe's head is
//! delivered only when its direction is not blocked and (except for the handshake, which the
//! receiver's operating system answers) its receiver is not paused.

use super::net::{ConnState, End, Item, MessageFaultKind, Pipe};
use super::process::{ConnId, ConnectError, DisconnectReason, Event, NodeId, Payload};
use super::trace::RecordKind;
use super::world::{Core, Ev, NodeStatus, Notice};

/// How a node went down, which decides what its peers see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Downed {
    /// The process died; its operating system resets connections (peers learn after one
    /// latency, `PeerReset`).
    Killed,
    /// The machine died; peers learn only after their detection delay (`Broken`).
    Crashed,
}

impl<M: Payload, T> Core<M, T> {
    fn arm(&mut self, conn: ConnId, dir: usize) {
        let now = self.now();
        let pipe = &mut self.net.conn_mut(conn).pipes[dir];
        if pipe.armed || pipe.stalled {
            return;
        }
        if let Some(&(at, _)) = pipe.items.front() {
            pipe.armed = true;
            let dir = dir as u8;
            self.queue.push(at.max(now), Ev::Pipe { conn, dir });
        }
    }

    fn push_item(&mut self, conn: ConnId, dir: usize, item: Item<M>) {
        let c = self.net.conn(conn);
        let extra = self
            .net
            .extra_latency(c.ends[dir].node, c.ends[1 - dir].node);
        let sampled = self.rng_net.latency_ns(&self.config.network.latency);
        let at = self.now().plus_ns(sampled.saturating_add(extra));
        self.net.conn_mut(conn).pipes[dir].push(at, item);
        self.arm(conn, dir);
    }

    /// Opens a connection from `from` to `peer`'s `port`.
    pub(crate) fn connect(&mut self, from: NodeId, peer: NodeId, port: u16) -> ConnId {
        assert_ne!(from, peer, "a node cannot connect to itself");
        let id = ConnId(self.net.conns.len() as u64);
        let end = |node, incarnation| End {
            node,
            incarnation,
            established: false,
            done: false,
        };
        self.net.conns.push(super::net::Conn {
            ends: [end(from, self.node(from).incarnation), end(peer, 0)],
            port,
            pipes: [Pipe::default(), Pipe::default()],
            state: ConnState::Live,
            doom_version: 0,
            doomed: false,
        });
        self.net.live.insert(id);
        self.net.stats.connections += 1;
        self.record(
            Some(from),
            RecordKind::Connect,
            id.0,
            u64::from(peer.0),
            || format!("{id} -> {peer}"),
        );
        self.push_item(id, 0, Item::Syn);
        if self.net.partitioned(from, peer) || self.net.partitioned(peer, from) {
            let timeout = self.config.network.connect_timeout_ns();
            self.doom(id, timeout);
        }
        id
    }

    /// Sends `msg` from `from` on `conn`; lost silently if the connection is dead or closed.
    pub(crate) fn send(&mut self, from: NodeId, conn: ConnId, msg: M) {
        let now = self.now();
        let digest = msg.trace_digest();
        let c = self.net.conn(conn);
        let end = c.end_of(from).filter(|&e| {
            c.state == ConnState::Live
                && !c.ends[e].done
                && c.ends[e].incarnation == self.node(from).incarnation
        });
        let Some(e) = end else {
            self.net.stats.lost += 1;
            self.record(Some(from), RecordKind::Drop, conn.0, digest, || {
                format!("send on dead {conn}")
            });
            return;
        };
        let dst = c.ends[1 - e].node;
        self.net.stats.sent += 1;
        self.net.stats.bytes_sent += msg.size_bytes();
        let detail = self.trace.wants_detail().then(|| msg.summary());
        self.record(Some(from), RecordKind::Send, conn.0, digest, || {
            format!("{conn} -> {dst} {}", detail.unwrap_or_default())
        });
        let mut copies = 1;
        let mut reorder = false;
        for (kind, chance) in self.net.active_rules(from, dst, now) {
            if !self.rng_net.chance(chance) {
                continue;
            }
            match kind {
                MessageFaultKind::Drop => {
                    self.net.stats.lost += 1;
                    self.record(Some(from), RecordKind::Drop, conn.0, digest, || {
                        "OutOfModel drop".to_string()
                    });
                    return;
                }
                MessageFaultKind::Duplicate => copies = 2,
                MessageFaultKind::Reorder => reorder = true,
            }
        }
        for _ in 1..copies {
            self.push_item(conn, e, Item::Msg(msg.clone()));
        }
        self.push_item(conn, e, Item::Msg(msg));
        if reorder {
            let items = &mut self.net.conn_mut(conn).pipes[e].items;
            let n = items.len();
            // Swap payloads, keep times: the newer message overtakes the one before it.
            if n >= 2 && matches!(items[n - 2].1, Item::Msg(_)) {
                let last = std::mem::replace(&mut items[n - 1].1, Item::Fin);
                let prev = std::mem::replace(&mut items[n - 2].1, last);
                items[n - 1].1 = prev;
            }
        }
    }

    /// `from` closes `conn`: the peer gets `ClosedByPeer` after everything sent before.
    pub(crate) fn close(&mut self, from: NodeId, conn: ConnId) {
        let c = self.net.conn_mut(conn);
        let Some(e) = c.end_of(from) else { return };
        if c.state != ConnState::Live || c.ends[e].done {
            return;
        }
        c.ends[e].done = true;
        let other_done = c.ends[1 - e].done;
        self.record(Some(from), RecordKind::Close, conn.0, 0, String::new);
        if other_done {
            self.retire(conn);
        } else {
            self.push_item(conn, e, Item::Fin);
        }
    }

    fn retire(&mut self, conn: ConnId) {
        let c = self.net.conn_mut(conn);
        c.state = ConnState::Dead;
        let lost: usize = c
            .pipes
            .iter_mut()
            .map(|p| {
                let n = p
                    .items
                    .iter()
                    .filter(|(_, i)| matches!(i, Item::Msg(_)))
                    .count();
                p.items.clear();
                n
            })
            .sum();
        self.net.stats.lost += lost as u64;
        self.net.live.remove(&conn);
    }

    /// Schedules a partition-induced break of `conn` after `delay_ns`.
    pub(crate) fn doom(&mut self, conn: ConnId, delay_ns: u64) {
        let at = self.now().plus_ns(delay_ns);
        let c = self.net.conn_mut(conn);
        c.doomed = true;
        c.doom_version += 1;
        let version = c.doom_version;
        self.queue.push(at, Ev::Doom { conn, version });
    }

    pub(crate) fn on_doom(&mut self, conn: ConnId, version: u32) {
        let c = self.net.conn(conn);
        if c.state == ConnState::Live && c.doomed && c.doom_version == version {
            self.break_conn(conn, [0, 0], DisconnectReason::Broken);
        }
    }

    /// Breaks `conn`: in-flight items are lost, and each end still listening learns of it after
    /// its delay (`ConnectFailed` if it never saw the connection up).
    pub(crate) fn break_conn(
        &mut self,
        conn: ConnId,
        delays_ns: [u64; 2],
        reason: DisconnectReason,
    ) {
        if self.net.conn(conn).state != ConnState::Live {
            return;
        }
        let in_flight: usize = self
            .net
            .conn(conn)
            .pipes
            .iter()
            .map(|p| p.items.len())
            .sum();
        self.retire(conn);
        self.net.stats.breaks += 1;
        self.record(
            None,
            RecordKind::Break,
            conn.0,
            in_flight as u64,
            String::new,
        );
        let now = self.now();
        for (e, delay) in delays_ns.into_iter().enumerate() {
            let end = self.net.conn(conn).ends[e];
            if end.done || !self.alive(end.node, end.incarnation) {
                continue;
            }
            self.net.conn_mut(conn).ends[e].done = true;
            let notice = if end.established {
                Notice::Disconnected(reason)
            } else if e == 0 {
                Notice::ConnectFailed(match reason {
                    DisconnectReason::PeerReset => ConnectError::Refused,
                    _ => ConnectError::TimedOut,
                })
            } else {
                continue;
            };
            let (node, incarnation) = (end.node, end.incarnation);
            self.queue.push(
                now.plus_ns(delay),
                Ev::Notify {
                    node,
                    incarnation,
                    conn,
                    notice,
                },
            );
        }
        assert!(self.net.conn(conn).pipes.iter().all(|p| p.items.is_empty()));
    }

    pub(crate) fn on_notify(
        &mut self,
        node: NodeId,
        incarnation: u32,
        conn: ConnId,
        notice: Notice,
    ) -> Option<(NodeId, Event<M, T>)> {
        let c = self.net.conn(conn);
        let peer = c.ends[usize::from(c.ends[0].node == node)].node;
        let event = match notice {
            Notice::ConnectFailed(error) => {
                self.record(
                    Some(node),
                    RecordKind::ConnectFailed,
                    conn.0,
                    u64::from(peer.0),
                    || format!("{conn} -> {peer} {error:?}"),
                );
                Event::ConnectFailed { conn, peer, error }
            }
            Notice::Disconnected(reason) => {
                self.record(
                    Some(node),
                    RecordKind::Disconnected,
                    conn.0,
                    reason as u64,
                    || format!("{conn} {reason:?}"),
                );
                Event::Disconnected { conn, peer, reason }
            }
        };
        self.route(node, incarnation, event)
    }

    /// Delivers the head of pipe `dir` of `conn`, or stalls it.
    pub(crate) fn on_pipe(&mut self, conn: ConnId, dir: u8) -> Option<(NodeId, Event<M, T>)> {
        let dir = usize::from(dir);
        let now = self.now();
        let c = self.net.conn_mut(conn);
        c.pipes[dir].armed = false;
        if c.state != ConnState::Live {
            return None;
        }
        let (src, dst) = (c.ends[dir].node, c.ends[1 - dir].node);
        let is_syn = matches!(c.pipes[dir].items.front(), Some((_, Item::Syn)));
        // A resumed process first gets the events deferred while it was paused (an accept
        // before the messages on that connection), then what its pipes held.
        let d = self.node(dst);
        let held = d.status == NodeStatus::Paused || !d.deferred.is_empty();
        if self.net.blocked(src, dst, now) || (held && !is_syn) {
            self.net.conn_mut(conn).pipes[dir].stalled = true;
            return None;
        }
        let (at, item) = self.net.conn_mut(conn).pipes[dir].items.pop_front()?;
        assert!(at <= now, "pipe head delivered early");
        self.arm(conn, dir);
        match item {
            Item::Syn => self.on_syn(conn, src, dst),
            Item::SynAck => {
                let end = &mut self.net.conn_mut(conn).ends[0];
                end.established = true;
                let inc = end.incarnation;
                self.record(
                    Some(dst),
                    RecordKind::Connected,
                    conn.0,
                    u64::from(src.0),
                    String::new,
                );
                self.route(dst, inc, Event::Connected { conn, peer: src })
            }
            Item::Msg(msg) => self.on_msg(conn, dir, msg),
            Item::Fin => {
                let c = self.net.conn_mut(conn);
                let end = c.ends[1 - dir];
                c.ends[1 - dir].done = true;
                self.retire(conn);
                if end.done {
                    return None;
                }
                let reason = DisconnectReason::ClosedByPeer;
                self.record(
                    Some(dst),
                    RecordKind::Disconnected,
                    conn.0,
                    reason as u64,
                    String::new,
                );
                self.route(
                    dst,
                    end.incarnation,
                    Event::Disconnected {
                        conn,
                        peer: src,
                        reason,
                    },
                )
            }
        }
    }

    fn on_syn(&mut self, conn: ConnId, src: NodeId, dst: NodeId) -> Option<(NodeId, Event<M, T>)> {
        let n = self.node(dst);
        if n.status == NodeStatus::Down {
            let rst = self.rng_net.latency_ns(&self.config.network.latency);
            self.break_conn(conn, [rst, 0], DisconnectReason::PeerReset);
            return None;
        }
        let inc = n.incarnation;
        let end = &mut self.net.conn_mut(conn).ends[1];
        end.incarnation = inc;
        end.established = true;
        self.record(
            Some(dst),
            RecordKind::Accept,
            conn.0,
            u64::from(src.0),
            String::new,
        );
        self.push_item(conn, 1, Item::SynAck);
        let port = self.net.conn(conn).port;
        self.route(
            dst,
            inc,
            Event::Accepted {
                conn,
                peer: src,
                port,
            },
        )
    }

    fn on_msg(&mut self, conn: ConnId, dir: usize, msg: M) -> Option<(NodeId, Event<M, T>)> {
        let c = self.net.conn(conn);
        let (src, end) = (c.ends[dir].node, c.ends[1 - dir]);
        let digest = msg.trace_digest();
        if end.done {
            self.net.stats.lost += 1;
            self.record(Some(end.node), RecordKind::Drop, conn.0, digest, || {
                "receiver closed".to_string()
            });
            return None;
        }
        self.net.stats.delivered += 1;
        let detail = self.trace.wants_detail().then(|| msg.summary());
        self.record(Some(end.node), RecordKind::Deliver, conn.0, digest, || {
            format!("{conn} <- {src} {}", detail.unwrap_or_default())
        });
        self.route(
            end.node,
            end.incarnation,
            Event::Message {
                conn,
                from: src,
                msg,
            },
        )
    }

    /// Re-arms every stalled pipe; those still blocked stall again when their event fires.
    pub(crate) fn wake_all_pipes(&mut self) {
        let live: Vec<ConnId> = self.net.live.iter().copied().collect();
        for conn in live {
            for dir in 0..2 {
                let pipe = &mut self.net.conn_mut(conn).pipes[dir];
                if pipe.stalled {
                    pipe.stalled = false;
                    self.arm(conn, dir);
                }
            }
        }
    }

    /// Dooms every live connection that crosses a partitioned direction, and reprieves those
    /// that no longer do; then wakes stalled pipes.
    pub(crate) fn reconcile_partition(&mut self) {
        let live: Vec<ConnId> = self.net.live.iter().copied().collect();
        for conn in live {
            let c = self.net.conn(conn);
            let (a, b) = (c.ends[0].node, c.ends[1].node);
            let crosses = self.net.partitioned(a, b) || self.net.partitioned(b, a);
            if crosses && !c.doomed {
                let delay = if c.ends[0].established {
                    self.rng_net
                        .latency_ns(&self.config.network.detection_delay)
                } else {
                    self.config.network.connect_timeout_ns()
                };
                self.doom(conn, delay);
            } else if !crosses && c.doomed {
                let c = self.net.conn_mut(conn);
                c.doomed = false;
                c.doom_version += 1;
            }
        }
        self.wake_all_pipes();
    }

    /// Breaks every live connection of `node` after it went down.
    pub(crate) fn drop_connections_of(&mut self, node: NodeId, how: Downed) {
        let live: Vec<ConnId> = self.net.live.iter().copied().collect();
        for conn in live {
            let Some(e) = self.net.conn(conn).end_of(node) else {
                continue;
            };
            self.net.conn_mut(conn).ends[e].done = true;
            let (delay, reason) = match how {
                Downed::Killed => (
                    self.rng_net.latency_ns(&self.config.network.latency),
                    DisconnectReason::PeerReset,
                ),
                Downed::Crashed => (
                    self.rng_net
                        .latency_ns(&self.config.network.detection_delay),
                    DisconnectReason::Broken,
                ),
            };
            let mut delays = [0, 0];
            delays[1 - e] = delay;
            self.break_conn(conn, delays, reason);
        }
    }

    /// Breaks every live connection between a node of `a` and a node of `b`; each end learns
    /// after its own detection delay.
    pub(crate) fn break_between(&mut self, a: &[NodeId], b: &[NodeId]) -> usize {
        let live: Vec<ConnId> = self.net.live.iter().copied().collect();
        let mut n = 0;
        for conn in live {
            let c = self.net.conn(conn);
            let (x, y) = (c.ends[0].node, c.ends[1].node);
            let hit = (a.contains(&x) && b.contains(&y)) || (a.contains(&y) && b.contains(&x));
            if hit {
                let d0 = self
                    .rng_net
                    .latency_ns(&self.config.network.detection_delay);
                let d1 = self
                    .rng_net
                    .latency_ns(&self.config.network.detection_delay);
                self.break_conn(conn, [d0, d1], DisconnectReason::Broken);
                n += 1;
            }
        }
        n
    }
}
