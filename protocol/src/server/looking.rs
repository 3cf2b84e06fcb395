//! LOOKING: starting a Fast Leader Election round, taking the decided role, and dropping back
//! from a role (`QuorumPeer.run`'s `finally`: shut the role down, `fastForwardDataBase`, LOOKING).
//! The database is kept across elections (ZK-2678); only a process restart reloads it.

use super::election::{split_actions, ElectionAction};
use super::io::{ServerAction, ServerTimer};
use super::leader::Leader;
use super::learner::{Learner, LearnerPhase};
use super::{QuorumPeer, Role};
use crate::observe::{ApplyReason, ServerState, SyncMode, ZabState};

impl QuorumPeer {
    /// Turns LOOKING and starts an FLE round with the in-memory `lastProcessedZxid`.
    pub(crate) fn look_for_leader(&mut self, out: &mut Vec<ServerAction>) {
        self.gen += 1;
        self.role = Role::Looking;
        self.set_state(ServerState::Looking, out);
        self.set_zab(ZabState::Election, out);
        let actions = self
            .fle
            .start(self.now, self.db.last_processed_zxid(), self.current_epoch);
        self.run_election_actions(actions, out);
    }

    /// Carries out FLE's actions; a decision makes the peer take its role.
    pub(crate) fn run_election_actions(
        &mut self,
        actions: Vec<ElectionAction>,
        out: &mut Vec<ServerAction>,
    ) {
        let (server_actions, decision) = split_actions(actions);
        out.extend(server_actions);
        let Some((vote, state)) = decision else {
            return;
        };
        if !matches!(self.role, Role::Looking) {
            return; // FLE answers from a settled peer never re-decide
        }
        self.gen += 1;
        match state {
            ServerState::Leading => {
                assert_eq!(vote.leader, self.myid, "LEADING behind another sid");
                self.become_leader(out);
            }
            ServerState::Following | ServerState::Observing => {
                assert_ne!(vote.leader, self.myid, "following ourselves");
                let learner = Learner::new(vote.leader, state == ServerState::Observing);
                self.role = Role::Learning(Box::new(learner));
                self.set_state(state, out);
                self.set_zab(ZabState::Discovery, out);
                self.connect_to_leader(out);
            }
            ServerState::Looking => unreachable!("FLE never decides LOOKING"),
        }
    }

    fn become_leader(&mut self, out: &mut Vec<ServerAction>) {
        self.set_state(ServerState::Leading, out);
        self.set_zab(ZabState::Discovery, out);
        let mut leader = Leader::new(self.myid, self.accepted_epoch);
        leader.tick_deadline_reset();
        self.role = Role::Leading(Box::new(leader));
        // Leader.lead(): zk.loadData() takes a snapshot of the current tree.
        self.take_snapshot(out);
        let init = self.tick_ms() * u64::from(self.config.init_limit);
        out.push(ServerAction::SetTimer {
            timer: ServerTimer::InitLimit,
            at: self.now.plus_millis(init),
        });
        out.push(ServerAction::SetTimer {
            timer: ServerTimer::Tick,
            at: self.now.plus_millis(self.tick_ms() / 2),
        });
        self.leader_try_epoch_quorum(out);
    }

    /// Leaves the current role for LOOKING: connections closed, clients dropped, timers
    /// cancelled, the log fast-forwarded into memory if the server had been serving.
    pub(crate) fn shutdown_role(&mut self, why: &str, out: &mut Vec<ServerAction>) {
        let _ = why;
        let role = std::mem::replace(&mut self.role, Role::Looking);
        match role {
            Role::Leading(l) => {
                for conn in l.handler_conns() {
                    out.push(ServerAction::Close { conn });
                }
            }
            Role::Learning(l) => {
                if let Some(conn) = l.conn {
                    out.push(ServerAction::Close { conn });
                }
                let unfinished = l.phase != LearnerPhase::Broadcast;
                if unfinished && l.sync_mode == Some(SyncMode::Snap) {
                    // ZK-3642: a failed SNAP sync must not leave the unlogged image in memory;
                    // ZooKeeper clears the database and reloads it from disk.
                    if let Err(e) = self.reload_database(ApplyReason::Recovery, out) {
                        self.halt(format!("reload after a failed SNAP sync: {e}"), out);
                        return;
                    }
                }
            }
            Role::Looking => {}
        }
        for timer in [
            ServerTimer::Tick,
            ServerTimer::InitLimit,
            ServerTimer::LeaderConnectRetry,
        ] {
            out.push(ServerAction::CancelTimer { timer });
        }
        // ServerCnxn.close → ZKDatabase.removeCnxn: the closed connections' watches go.
        let (conns, sessions) = self.clients.close_all();
        for conn in conns {
            out.push(ServerAction::Close { conn });
        }
        for session in sessions {
            self.db.remove_connection(session);
        }
        if self.zab == ZabState::Broadcast {
            // ZooKeeperServer.shutdown(false) → zkDb.fastForwardDataBase() (ZK-2845).
            for entry in self.logged_after(self.db.last_processed_zxid()) {
                self.apply_txn(&entry, ApplyReason::FastForward, out);
            }
        }
        self.db.clear_outstanding_changes();
        self.look_for_leader(out);
    }
}
