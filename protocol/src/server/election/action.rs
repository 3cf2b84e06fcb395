//! What FLE asks its driver (`QuorumPeer`) to do: send a vote, arm or disarm one of its two
//! timers, or take the decided role.

use super::vote::Vote;
use crate::observe::ServerState;
use crate::server::io::{ServerAction, ServerTimer};
use crate::server::notification::Notification;
use crate::types::{LocalTime, ServerId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// FLE's two timers. Both are the timeout of `lookForLeader`'s `recvqueue.poll`: every
/// notification taken off the queue restarts the wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ElectionTimer {
    /// `notTimeout`: no notification for that long; resend our vote and double the wait (up to
    /// `maxNotificationInterval`). Maps to [`ServerTimer::ElectionNotificationTimeout`].
    NotificationTimeout,
    /// `finalizeWait`: a quorum agrees with our proposal and no better vote came for that long;
    /// decide. Maps to [`ServerTimer::ElectionFinalize`].
    Finalize,
}

impl ElectionTimer {
    /// The server timer this is armed as.
    pub fn server_timer(self) -> ServerTimer {
        match self {
            ElectionTimer::NotificationTimeout => ServerTimer::ElectionNotificationTimeout,
            ElectionTimer::Finalize => ServerTimer::ElectionFinalize,
        }
    }

    /// The election timer a server timer stands for, if it is one.
    pub fn from_server_timer(timer: ServerTimer) -> Option<ElectionTimer> {
        match timer {
            ServerTimer::ElectionNotificationTimeout => Some(ElectionTimer::NotificationTimeout),
            ServerTimer::ElectionFinalize => Some(ElectionTimer::Finalize),
            _ => None,
        }
    }
}

/// An effect FLE asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElectionAction {
    /// Send a vote over the election channel. Votes to ourselves never appear: FLE loops them
    /// back internally, as `QuorumCnxManager.toSend` does.
    Send {
        /// The recipient.
        to: ServerId,
        /// The vote.
        notification: Notification,
    },
    /// Arm (or re-arm, replacing) a timer at a local deadline.
    SetTimer {
        /// The timer.
        timer: ElectionTimer,
        /// The local deadline.
        at: LocalTime,
    },
    /// Disarm a timer.
    CancelTimer {
        /// The timer.
        timer: ElectionTimer,
    },
    /// The election is over (`lookForLeader` returned): become `state` (LEADING, FOLLOWING or
    /// OBSERVING) behind `vote`'s leader. FLE has already recorded `vote` as its current vote.
    Decided {
        /// The decided vote.
        vote: Vote,
        /// The role to take.
        state: ServerState,
    },
}

impl ElectionAction {
    /// The server action carrying this out, or `None` for [`ElectionAction::Decided`], which
    /// `QuorumPeer` handles itself.
    pub fn to_server_action(&self) -> Option<ServerAction> {
        match *self {
            ElectionAction::Send { to, notification } => {
                Some(ServerAction::SendNotification { to, notification })
            }
            ElectionAction::SetTimer { timer, at } => Some(ServerAction::SetTimer {
                timer: timer.server_timer(),
                at,
            }),
            ElectionAction::CancelTimer { timer } => Some(ServerAction::CancelTimer {
                timer: timer.server_timer(),
            }),
            ElectionAction::Decided { .. } => None,
        }
    }
}

/// Splits one step's actions into the server actions to carry out (in order) and the decision,
/// if the step made one (`Decided` is always a step's last action).
pub fn split_actions(
    actions: Vec<ElectionAction>,
) -> (Vec<ServerAction>, Option<(Vote, ServerState)>) {
    let mut decision = None;
    let mut server_actions = Vec::with_capacity(actions.len());
    for action in actions {
        assert!(decision.is_none(), "nothing follows a decision in a step");
        match action {
            ElectionAction::Decided { vote, state } => decision = Some((vote, state)),
            other => server_actions.extend(other.to_server_action()),
        }
    }
    (server_actions, decision)
}

/// The effects of one step, with the votes still to be taken in it.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    actions: Vec<ElectionAction>,
    /// Votes already through the receiver, queued for the round (`recvqueue`), taken first.
    pub(super) queued: VecDeque<(ServerId, Notification)>,
    /// Votes sent to ourselves, received after the step that sent them.
    pub(super) loopback: VecDeque<Notification>,
}

impl Outbox {
    /// Queues a vote for `to` (looped back when it is ourselves).
    pub(super) fn send(&mut self, myid: ServerId, to: ServerId, notification: Notification) {
        if to == myid {
            self.loopback.push_back(notification);
        } else {
            self.actions.push(ElectionAction::Send { to, notification });
        }
    }

    /// Queues any other action.
    pub(super) fn push(&mut self, action: ElectionAction) {
        assert!(
            !matches!(action, ElectionAction::Send { .. }),
            "votes go through Outbox::send"
        );
        self.actions.push(action);
    }

    /// The actions, with each timer's superseded arm/disarm actions removed: only the last one
    /// per timer in a step matters, as the driver replaces an armed timer.
    pub(super) fn into_actions(self) -> Vec<ElectionAction> {
        assert!(
            self.loopback.is_empty(),
            "looped-back votes are received first"
        );
        let mut seen = BTreeSet::new();
        let mut kept: Vec<ElectionAction> = Vec::with_capacity(self.actions.len());
        for action in self.actions.into_iter().rev() {
            let timer = match action {
                ElectionAction::SetTimer { timer, .. } | ElectionAction::CancelTimer { timer } => {
                    Some(timer)
                }
                _ => None,
            };
            if let Some(timer) = timer {
                if !seen.insert(timer) {
                    continue;
                }
            }
            kept.push(action);
        }
        kept.reverse();
        let decided = kept
            .iter()
            .position(|a| matches!(a, ElectionAction::Decided { .. }));
        assert!(
            decided.is_none_or(|at| at + 1 == kept.len()),
            "a decision ends the step: {kept:?}"
        );
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the last arm/disarm of each timer in a step survives; sends keep their order.
    #[test]
    fn superseded_timer_actions_are_dropped() {
        let mut out = Outbox::default();
        let at = |ms| LocalTime(0).plus_millis(ms);
        out.push(ElectionAction::SetTimer {
            timer: ElectionTimer::NotificationTimeout,
            at: at(200),
        });
        out.push(ElectionAction::CancelTimer {
            timer: ElectionTimer::Finalize,
        });
        out.push(ElectionAction::SetTimer {
            timer: ElectionTimer::NotificationTimeout,
            at: at(400),
        });
        let actions = out.into_actions();
        assert_eq!(
            actions,
            vec![
                ElectionAction::CancelTimer {
                    timer: ElectionTimer::Finalize
                },
                ElectionAction::SetTimer {
                    timer: ElectionTimer::NotificationTimeout,
                    at: at(400)
                },
            ]
        );
    }

    /// Timers map one-to-one onto the server's named timers.
    #[test]
    fn timers_map_onto_server_timers() {
        for timer in [ElectionTimer::NotificationTimeout, ElectionTimer::Finalize] {
            assert_eq!(
                ElectionTimer::from_server_timer(timer.server_timer()),
                Some(timer)
            );
        }
        assert_eq!(ElectionTimer::from_server_timer(ServerTimer::Tick), None);
    }
}
