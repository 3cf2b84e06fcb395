//! A tiny discrete-event harness for FLE alone: N [`FastLeaderElection`] instances, a network
//! with per-link delays or drops, and named timers, all on one virtual clock (every node's local
//! time is the global time: no drift).
//!
//! Network model: each ordered link is a FIFO channel (TCP, as `QuorumCnxManager` uses): a vote
//! is delivered after the delay the link policy gives it, but never before an earlier vote on the
//! same link. A policy returning `None` drops the vote (a cut link). The latest-wins send queue of
//! `QuorumCnxManager` is not modelled: with no loss every vote arrives.
//!
//! A node's process is down until its first start: votes sent to it are lost (connection
//! refused), as they are after [`Cluster::restart`] until it starts again.
//!
//! Nodes that decided keep running as responders (they never drop back to LOOKING here: there is
//! no Zab behind them), which is exactly the state a late joiner meets.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::BTreeMap;
use std::fmt::Write as _;
use zabsim_protocol::observe::ServerState;
use zabsim_protocol::server::election::{
    ElectionAction, ElectionTimer, FastLeaderElection, FleBugs, Vote,
};
use zabsim_protocol::server::{Notification, QuorumConfig};
use zabsim_protocol::types::{Epoch, LocalTime, ServerId, Zxid};

/// Milliseconds as harness time.
pub fn ms(ms: u64) -> LocalTime {
    LocalTime(0).plus_millis(ms)
}

/// A link policy: `(from, to, send time) -> Some(delay in microseconds)` or `None` to drop.
pub type LinkPolicy = Box<dyn FnMut(ServerId, ServerId, LocalTime) -> Option<u64>>;

/// A uniform link delay in milliseconds.
pub fn fixed_delay(delay_ms: u64) -> LinkPolicy {
    Box::new(move |_, _, _| Some(delay_ms * 1000))
}

/// What happened, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A vote left `from` for `to`.
    Sent {
        at: LocalTime,
        from: ServerId,
        to: ServerId,
        n: Notification,
    },
    /// A node's timer fired.
    Fired {
        at: LocalTime,
        node: ServerId,
        timer: ElectionTimer,
    },
    /// A node decided.
    Decided {
        at: LocalTime,
        node: ServerId,
        vote: Vote,
        state: ServerState,
    },
}

#[derive(Debug)]
enum Event {
    Crash {
        node: ServerId,
    },
    Start {
        node: ServerId,
        zxid: Zxid,
        epoch: Epoch,
    },
    Deliver {
        from: ServerId,
        to: ServerId,
        n: Notification,
    },
    Timer {
        node: ServerId,
        timer: ElectionTimer,
        generation: u64,
    },
}

/// One server in the harness.
#[derive(Debug)]
pub struct Node {
    /// Its FLE.
    pub fle: FastLeaderElection,
    /// Armed timers with their generation.
    timers: BTreeMap<ElectionTimer, u64>,
    /// Its decisions, in order, with their times.
    pub decisions: Vec<(LocalTime, Vote, ServerState)>,
    /// Whether its process is up (it has started).
    up: bool,
}

/// The harness.
pub struct Cluster {
    /// The ensemble.
    pub config: QuorumConfig,
    /// The servers.
    pub nodes: BTreeMap<ServerId, Node>,
    /// The link policy.
    pub links: LinkPolicy,
    /// The FLE bugs every server runs with.
    bugs: FleBugs,
    /// Everything that happened.
    pub log: Vec<Record>,
    now: LocalTime,
    events: BTreeMap<(LocalTime, u64), Event>,
    seq: u64,
    generation: u64,
    link_free_at: BTreeMap<(ServerId, ServerId), LocalTime>,
}

impl Cluster {
    /// A cluster of `config`'s servers (none started) with a link policy.
    pub fn new(config: QuorumConfig, links: LinkPolicy) -> Cluster {
        Cluster::with_bugs(config, links, FleBugs::default())
    }

    /// A cluster whose servers run with historical FLE bugs switched on.
    pub fn with_bugs(config: QuorumConfig, links: LinkPolicy, bugs: FleBugs) -> Cluster {
        let nodes = config
            .peers
            .iter()
            .map(|p| {
                let node = Node {
                    fle: FastLeaderElection::with_bugs(p.sid, &config, bugs),
                    timers: BTreeMap::new(),
                    decisions: Vec::new(),
                    up: false,
                };
                (p.sid, node)
            })
            .collect();
        Cluster {
            config,
            nodes,
            links,
            bugs,
            log: Vec::new(),
            now: LocalTime(0),
            events: BTreeMap::new(),
            seq: 0,
            generation: 0,
            link_free_at: BTreeMap::new(),
        }
    }

    /// The current time.
    pub fn now(&self) -> LocalTime {
        self.now
    }

    /// Starts `node`'s election at `at` with its last zxid and current epoch.
    pub fn start_at(&mut self, at: LocalTime, node: u64, zxid: Zxid, epoch: Epoch) {
        let node = ServerId(node);
        self.schedule(at, Event::Start { node, zxid, epoch });
    }

    /// Crashes `node` at `at` (a fresh FLE replaces it, down until its next start).
    pub fn crash_at(&mut self, at: LocalTime, node: u64) {
        let node = ServerId(node);
        self.schedule(at, Event::Crash { node });
    }

    /// Replaces `node`'s FLE by a fresh one (a process restart: round 0, no current vote).
    pub fn restart(&mut self, node: u64) {
        let sid = ServerId(node);
        let fresh = FastLeaderElection::with_bugs(sid, &self.config, self.bugs);
        if let Some(n) = self.nodes.get_mut(&sid) {
            n.fle = fresh;
            n.timers.clear();
            n.up = false;
        }
    }

    /// Server `sid`'s FLE, to act on it directly (as its `QuorumPeer` would).
    pub fn fle(&mut self, sid: u64) -> &mut FastLeaderElection {
        match self.nodes.get_mut(&ServerId(sid)) {
            Some(node) => &mut node.fle,
            None => panic!("no server s{sid} in the harness"),
        }
    }

    /// Server `sid`'s FLE, to inspect it.
    pub fn fle_ref(&self, sid: u64) -> Option<&FastLeaderElection> {
        self.nodes.get(&ServerId(sid)).map(|n| &n.fle)
    }

    /// Gives server `sid` `count` earlier elections in this process (each a `start` then a
    /// `shutdown`), so that its next round is `count + 1`. The earlier elections run with the
    /// empty candidacy (zxid 0, epoch 0): use [`Cluster::past_elections_as`] when the server's
    /// candidacy is not empty.
    pub fn past_elections(&mut self, sid: u64, count: u64) {
        self.past_elections_as(sid, count, Zxid::ZERO, Epoch(0));
    }

    /// Like [`Cluster::past_elections`], with the server's candidacy (`zxid`, `epoch`) in the
    /// earlier elections too. `QuorumPeer.currentVote` starts as `(myid, lastLoggedZxid,
    /// currentEpoch)` and changes only when an election decides, and a server's zxid cannot grow
    /// between elections that decided nothing (no Zab ran behind them): so undecided earlier
    /// elections must carry the candidacy the server has now, or the harness fabricates a
    /// `currentVote` naming an older zxid of the server itself, a state ZooKeeper cannot reach.
    pub fn past_elections_as(&mut self, sid: u64, count: u64, zxid: Zxid, epoch: Epoch) {
        let fle = self.fle(sid);
        for _ in 0..count {
            let _ = fle.start(LocalTime(0), zxid, epoch);
            let _ = fle.shutdown();
        }
    }

    /// Runs every event up to and including `until`.
    pub fn run_until(&mut self, until: LocalTime) {
        while let Some(entry) = self.events.first_entry() {
            let (at, _) = *entry.key();
            if at > until {
                break;
            }
            let event = entry.remove();
            assert!(at >= self.now, "time never goes back");
            self.now = at;
            self.handle(event);
        }
        self.now = self.now.max(until);
    }

    /// The last decision of `node`, if any.
    pub fn decision(&self, node: u64) -> Option<(Vote, ServerState)> {
        self.nodes
            .get(&ServerId(node))
            .and_then(|n| n.decisions.last())
            .map(|(_, vote, state)| (*vote, *state))
    }

    /// When `node` last decided.
    pub fn decided_at(&self, node: u64) -> Option<LocalTime> {
        self.nodes
            .get(&ServerId(node))
            .and_then(|n| n.decisions.last())
            .map(|(at, _, _)| *at)
    }

    /// The times at which `node`'s notification timeout fired.
    pub fn timeouts(&self, node: u64) -> Vec<LocalTime> {
        self.log
            .iter()
            .filter_map(|r| match r {
                Record::Fired {
                    at,
                    node: n,
                    timer: ElectionTimer::NotificationTimeout,
                } if *n == ServerId(node) => Some(*at),
                _ => None,
            })
            .collect()
    }

    /// The votes sent, as `(time, from, to, notification)`.
    pub fn sent(&self) -> Vec<(LocalTime, ServerId, ServerId, Notification)> {
        self.log
            .iter()
            .filter_map(|r| match r {
                Record::Sent { at, from, to, n } => Some((*at, *from, *to, *n)),
                _ => None,
            })
            .collect()
    }

    /// The log as text: one line per sent vote or decision (timer firings left out).
    pub fn transcript(&self) -> String {
        let mut text = String::new();
        for record in &self.log {
            match record {
                Record::Sent { at, from, to, n } => {
                    let _ = writeln!(
                        text,
                        "{:>6}ms {from}->{to} {:?} leader={} zxid={} round={} peerEpoch={}",
                        at.as_millis(),
                        n.state,
                        n.leader,
                        n.zxid,
                        n.election_epoch,
                        n.peer_epoch
                    );
                }
                Record::Decided {
                    at,
                    node,
                    vote,
                    state,
                } => {
                    let _ = writeln!(
                        text,
                        "{:>6}ms {node} decides {state:?} leader={} zxid={} round={} peerEpoch={}",
                        at.as_millis(),
                        vote.leader,
                        vote.zxid,
                        vote.election_epoch,
                        vote.peer_epoch
                    );
                }
                Record::Fired { .. } => {}
            }
        }
        text
    }

    fn schedule(&mut self, at: LocalTime, event: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), event);
    }

    fn handle(&mut self, event: Event) {
        let now = self.now;
        let (sid, actions) = match event {
            Event::Crash { node } => {
                self.restart(node.0);
                return;
            }
            Event::Start { node, zxid, epoch } => {
                let Some(n) = self.nodes.get_mut(&node) else {
                    return;
                };
                n.up = true;
                (node, n.fle.start(now, zxid, epoch))
            }
            Event::Deliver { from, to, n } => {
                let Some(node) = self.nodes.get_mut(&to) else {
                    return;
                };
                if !node.up {
                    return; // the process is down: the vote is lost
                }
                (to, node.fle.on_notification(now, from, n))
            }
            Event::Timer {
                node,
                timer,
                generation,
            } => {
                let Some(n) = self.nodes.get_mut(&node) else {
                    return;
                };
                if n.timers.get(&timer) != Some(&generation) {
                    return; // replaced or cancelled
                }
                n.timers.remove(&timer);
                self.log.push(Record::Fired {
                    at: now,
                    node,
                    timer,
                });
                (node, n.fle.on_timer(now, timer))
            }
        };
        self.perform(sid, actions);
    }

    fn perform(&mut self, sid: ServerId, actions: Vec<ElectionAction>) {
        let now = self.now;
        for action in actions {
            match action {
                ElectionAction::Send { to, notification } => {
                    assert_ne!(to, sid, "votes to ourselves are looped back inside FLE");
                    self.log.push(Record::Sent {
                        at: now,
                        from: sid,
                        to,
                        n: notification,
                    });
                    if let Some(delay_us) = (self.links)(sid, to, now) {
                        let free = self.link_free_at.get(&(sid, to)).copied();
                        let at = LocalTime(now.0 + delay_us * 1000).max(free.unwrap_or(now));
                        self.link_free_at.insert((sid, to), at);
                        let n = notification;
                        self.schedule(at, Event::Deliver { from: sid, to, n });
                    }
                }
                ElectionAction::SetTimer { timer, at } => {
                    assert!(at >= now, "timers are armed in the future");
                    self.generation += 1;
                    let generation = self.generation;
                    if let Some(n) = self.nodes.get_mut(&sid) {
                        n.timers.insert(timer, generation);
                    }
                    let node = sid;
                    self.schedule(
                        at,
                        Event::Timer {
                            node,
                            timer,
                            generation,
                        },
                    );
                }
                ElectionAction::CancelTimer { timer } => {
                    if let Some(n) = self.nodes.get_mut(&sid) {
                        n.timers.remove(&timer);
                    }
                }
                ElectionAction::Decided { vote, state } => {
                    if let Some(n) = self.nodes.get_mut(&sid) {
                        n.decisions.push((now, vote, state));
                        assert!(n.timers.is_empty(), "{sid} decided with a timer armed");
                    }
                    self.log.push(Record::Decided {
                        at: now,
                        node: sid,
                        vote,
                        state,
                    });
                }
            }
        }
    }
}
