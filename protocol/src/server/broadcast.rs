//! LEADING, phase 3: `PrepRequestProcessor` → `Leader.propose` (PROPOSAL to followers, the
//! leader's own log append whose fsync yields its own ACK) → `processAck`/`tryToCommit`
//! (strictly in zxid order, majority of voters) → COMMIT to followers, INFORM to observers,
//! apply locally, release pending SYNCs. Plus the liveness loop: PING every half tick, and
//! "Not sufficient followers synced" after `syncLimit`; session expiry (`SessionTrackerImpl`).

use super::io::{Conn, ServerAction, ServerTimer};
use super::leader::{HandlerPhase, Outstanding, PendingSync};
use super::quorum_packet::QuorumPacket;
use super::{QuorumPeer, Role};
use crate::observe::{ApplyReason, Observation, ZabState};
use crate::session_wire::ClientMessage;
use crate::store::{RequestContext, WriteRequest};
use crate::types::{ServerId, SessionId, Xid, Zxid};
use std::collections::BTreeSet;

impl QuorumPeer {
    /// A packet from a synced learner.
    pub(crate) fn leader_broadcast_packet(
        &mut self,
        conn: Conn,
        packet: QuorumPacket,
        out: &mut Vec<ServerAction>,
    ) {
        let Some(h) = self.leader().handlers.get(&conn).cloned() else {
            return;
        };
        match packet {
            QuorumPacket::Ack { zxid } => {
                if let Some(hm) = self.leader().handlers.get_mut(&conn) {
                    hm.unacked.retain(|z, _| *z > zxid);
                }
                if let (Some(sid), false) = (h.sid, h.observer) {
                    self.process_ack(sid, zxid, out);
                }
            }
            QuorumPacket::Ping { touches, .. } => {
                let now = self.now_ms();
                for (session, timeout) in touches {
                    self.db.session_tracker.touch_session(session, timeout, now);
                }
            }
            QuorumPacket::Revalidate {
                session,
                timeout_ms,
                ..
            } => {
                let now = self.now_ms();
                let valid = self
                    .db
                    .session_tracker
                    .touch_session(session, timeout_ms, now);
                out.push(ServerAction::SendPacket {
                    conn,
                    packet: QuorumPacket::Revalidate {
                        session,
                        timeout_ms,
                        valid,
                    },
                });
            }
            QuorumPacket::Request {
                session,
                message,
                cnxn,
            } => self.leader_forwarded_request(conn, session, message, cnxn, out),
            _ => {}
        }
    }

    fn leader_forwarded_request(
        &mut self,
        conn: Conn,
        session: SessionId,
        message: ClientMessage,
        cnxn: u64,
        out: &mut Vec<ServerAction>,
    ) {
        match message {
            ClientMessage::Connect(req) => {
                let write = WriteRequest::CreateSession {
                    timeout_ms: req.timeout_ms,
                };
                self.propose(session, Xid(0), write, out);
            }
            ClientMessage::CloseSession { xid } => {
                self.propose(session, xid, WriteRequest::CloseSession, out)
            }
            ClientMessage::Request { xid, request } => {
                if let crate::request::Request::Sync { path } = &request {
                    let packet = QuorumPacket::Sync {
                        session,
                        cnxn,
                        xid: xid.0,
                        path: path.clone(),
                    };
                    self.leader_process_sync(conn, packet, out);
                } else {
                    self.propose(session, xid, WriteRequest::Client(request), out);
                }
            }
            ClientMessage::Ping | ClientMessage::SetWatches(_) => {}
        }
    }

    /// `Leader.processSync`: answered now if nothing is outstanding, else when `lastProposed`
    /// commits.
    fn leader_process_sync(
        &mut self,
        conn: Conn,
        packet: QuorumPacket,
        out: &mut Vec<ServerAction>,
    ) {
        let l = self.leader();
        if l.outstanding.is_empty() {
            out.push(ServerAction::SendPacket { conn, packet });
        } else {
            let at = l.last_proposed;
            l.pending_syncs
                .entry(at)
                .or_default()
                .push(PendingSync { conn, packet });
        }
    }

    /// Prep + `Leader.propose`: a new zxid, PROPOSAL to the forwarding followers, the leader's
    /// own log append (its ACK follows the fsync). At counter rollover the leader abdicates.
    pub(crate) fn propose(
        &mut self,
        session: SessionId,
        xid: Xid,
        write: WriteRequest,
        out: &mut Vec<ServerAction>,
    ) {
        if !matches!(self.role, Role::Leading(_)) {
            return; // the leader abdicated earlier in this step
        }
        let last = self.leader().last_proposed;
        let counter = last.counter().wrapping_add(1);
        if counter == Zxid::COUNTER_ROLLOVER {
            // ZK-1277: XidRolloverException → the leader shuts down; a new epoch restarts at 1.
            self.shutdown_role("zxid counter rollover", out);
            return;
        }
        let zxid = Zxid::new(last.epoch(), counter);
        let ctx = RequestContext {
            session,
            xid,
            auth: Vec::new(),
        };
        let entry = self.db.prep(&ctx, &write, zxid, self.now_ms());
        let now = self.now;
        assert_eq!(entry.header.zxid, zxid, "prep keeps the zxid");
        let l = self.leader();
        l.last_proposed = zxid;
        l.outstanding.insert(
            zxid,
            Outstanding {
                entry: entry.clone(),
                acks: BTreeSet::new(),
            },
        );
        let followers: Vec<Conn> = l
            .handlers
            .iter()
            .filter(|(_, h)| !h.observer && h.phase == HandlerPhase::Synced)
            .map(|(c, _)| *c)
            .chain(
                l.handlers
                    .iter()
                    .filter(|(_, h)| !h.observer && h.phase == HandlerPhase::AwaitNewLeaderAck)
                    .map(|(c, _)| *c),
            )
            .collect();
        self.observe(
            out,
            Observation::Proposed {
                leader: self.myid,
                entry: entry.clone(),
            },
        );
        for conn in followers {
            if let Some(h) = self.leader().handlers.get_mut(&conn) {
                h.unacked.insert(zxid, now);
            }
            out.push(ServerAction::SendPacket {
                conn,
                packet: QuorumPacket::Proposal { txn: entry.clone() },
            });
        }
        self.log_txns(vec![entry], true, out);
    }

    /// `Leader.processAck` + `tryToCommit`, in order.
    pub(crate) fn process_ack(&mut self, sid: ServerId, zxid: Zxid, out: &mut Vec<ServerAction>) {
        if zxid.counter() == 0 {
            return; // NEWLEADER / UPTODATE acks
        }
        let l = self.leader();
        if zxid <= l.last_committed {
            return;
        }
        if let Some(p) = l.outstanding.get_mut(&zxid) {
            p.acks.insert(sid);
        }
        self.try_to_commit(out);
    }

    fn try_to_commit(&mut self, out: &mut Vec<ServerAction>) {
        loop {
            let Role::Leading(l) = &self.role else {
                return;
            };
            let Some((&zxid, p)) = l.outstanding.iter().next() else {
                return;
            };
            if !self.config.is_quorum(&p.acks) {
                return; // strictly in order: nothing later commits first
            }
            let l = self.leader();
            let Some(p) = l.outstanding.remove(&zxid) else {
                return;
            };
            assert!(zxid > l.last_committed, "commits go forward");
            l.last_committed = zxid;
            let mut to_followers = Vec::new();
            let mut to_observers = Vec::new();
            for (c, h) in &l.handlers {
                match (h.phase, h.observer) {
                    (HandlerPhase::Synced | HandlerPhase::AwaitNewLeaderAck, false) => {
                        to_followers.push(*c)
                    }
                    (HandlerPhase::Synced | HandlerPhase::AwaitNewLeaderAck, true) => {
                        to_observers.push(*c)
                    }
                    _ => {}
                }
            }
            let syncs = l.pending_syncs.remove(&zxid).unwrap_or_default();
            self.observe(
                out,
                Observation::Committed {
                    leader: self.myid,
                    zxid,
                    acks: p.acks.iter().copied().collect(),
                },
            );
            for conn in to_followers {
                let packet = QuorumPacket::Commit { zxid };
                out.push(ServerAction::SendPacket { conn, packet });
            }
            for conn in to_observers {
                let packet = QuorumPacket::Inform {
                    txn: p.entry.clone(),
                };
                out.push(ServerAction::SendPacket { conn, packet });
            }
            self.apply_txn(&p.entry, ApplyReason::Commit, out);
            for s in syncs {
                out.push(ServerAction::SendPacket {
                    conn: s.conn,
                    packet: s.packet,
                });
            }
        }
    }

    /// The leader's half-tick: PING everyone; every other half tick `tick++`, the synced-quorum
    /// check and session expiry.
    pub(crate) fn leader_tick(&mut self, out: &mut Vec<ServerAction>) {
        let half_tick = (self.tick_ms() / 2).max(1);
        out.push(ServerAction::SetTimer {
            timer: ServerTimer::Tick,
            at: self.now.plus_millis(half_tick),
        });
        let myid = self.myid;
        let l = self.leader();
        l.half = !l.half;
        if !l.half {
            l.tick += 1;
        }
        if !l.established {
            return;
        }
        let zxid = l.last_proposed;
        for (conn, h) in &l.handlers {
            if h.phase == HandlerPhase::Synced {
                let packet = QuorumPacket::Ping {
                    zxid,
                    touches: Vec::new(),
                };
                out.push(ServerAction::SendPacket {
                    conn: *conn,
                    packet,
                });
            }
        }
        if l.half {
            return;
        }
        let tick = l.tick;
        let mut synced: BTreeSet<ServerId> = l
            .handlers
            .values()
            .filter(|h| h.phase == HandlerPhase::Synced && tick <= h.tick_of_next_ack_deadline)
            .filter_map(|h| h.sid)
            .collect();
        synced.insert(myid);
        if !self.config.is_quorum(&synced) {
            self.shutdown_role("Not sufficient followers synced", out);
            return;
        }
        self.sync_limit_check(out);
        self.expire_sessions(out);
    }

    /// `LearnerHandler.SyncLimitCheck`: a follower that has not acked a proposal within
    /// `syncLimit` ticks is disconnected ("Closing connection to peer due to transaction
    /// timeout").
    fn sync_limit_check(&mut self, out: &mut Vec<ServerAction>) {
        let limit_ms = self.tick_ms() * u64::from(self.config.sync_limit);
        let now = self.now;
        let l = self.leader();
        let late: Vec<Conn> = l
            .handlers
            .iter()
            .filter(|(_, h)| h.phase == HandlerPhase::Synced && !h.observer)
            .filter(|(_, h)| {
                h.unacked
                    .values()
                    .next()
                    .is_some_and(|sent| now > sent.plus_millis(limit_ms))
            })
            .map(|(c, _)| *c)
            .collect();
        for conn in late {
            self.leader_drop_handler(conn, out);
        }
    }

    fn expire_sessions(&mut self, out: &mut Vec<ServerAction>) {
        if self.zab != ZabState::Broadcast {
            return;
        }
        let expired = self.db.session_tracker.expire(self.now_ms());
        for session in expired {
            let o = Observation::SessionExpired {
                leader: self.myid,
                session,
            };
            self.observe(out, o);
            self.propose(session, Xid(0), WriteRequest::CloseSession, out);
        }
    }
}
