//! Reading from the server (`ClientCnxn.SendThread.readResponse`): the handshake answer, pings,
//! notifications (delivered as they arrive, so before any reply behind them), and replies, which
//! must answer the oldest pending request — anything else is a protocol error that closes the
//! connection.

use super::{ClientAction, Link, OpResult, Pending, States, ZooKeeper};
use crate::error_code::ErrorCode;
use crate::request::{Response, WatchedEvent};
use crate::session_wire::{ServerMessage, XID_NOTIFICATION, XID_PING};
use crate::types::{LocalTime, Xid, Zxid};

impl ZooKeeper {
    pub(super) fn on_message(&mut self, now: LocalTime, message: ServerMessage) {
        match (self.link, message) {
            (Link::Handshaking { .. }, ServerMessage::Connected(response)) => {
                self.on_handshake(now, response)
            }
            (Link::Connected { .. }, ServerMessage::Pong { .. }) => {}
            (Link::Connected { .. }, ServerMessage::Notification { zxid, event }) => {
                self.on_notification(zxid, event)
            }
            (
                Link::Connected { .. },
                ServerMessage::Reply {
                    xid,
                    zxid,
                    err,
                    response,
                },
            ) => self.on_reply(now, xid, zxid, err, response),
            // Anything else (a second handshake answer, a reply before the handshake) breaks
            // the protocol: drop the connection as ClientCnxn does on an IOException.
            _ => self.connection_lost(now, true),
        }
    }

    fn saw_zxid(&mut self, zxid: Zxid) {
        // ClientCnxn: `if (replyHdr.getZxid() > 0) lastZxid = replyHdr.getZxid()`.
        if zxid > Zxid::ZERO {
            self.last_zxid_seen = zxid;
        }
    }

    fn on_notification(&mut self, zxid: Zxid, event: WatchedEvent) {
        if zxid != Zxid::NONE && zxid > self.last_zxid_seen {
            self.saw_zxid(zxid);
        }
        if self.watches.materialize(&event) {
            self.emit(ClientAction::Watch { event, zxid });
        }
    }

    fn on_reply(
        &mut self,
        now: LocalTime,
        xid: Xid,
        zxid: Zxid,
        err: ErrorCode,
        response: Option<Response>,
    ) {
        if xid == XID_PING {
            return;
        }
        if xid == XID_NOTIFICATION {
            // Notifications travel as ServerMessage::Notification; a reply with xid -1 is bogus.
            self.connection_lost(now, true);
            return;
        }
        let Some(front) = self.pending.front() else {
            // "Nothing in the queue, but got <xid>".
            self.connection_lost(now, true);
            return;
        };
        if front.xid() != xid || (err == ErrorCode::OK && response.is_none() && needs_body(front)) {
            // "Xid out of order. Got Xid <xid> with err <err> expected Xid <front>": the oldest
            // pending request is answered CONNECTIONLOSS with all the others.
            self.connection_lost(now, true);
            return;
        }
        let front = self.pending.pop_front().expect("checked above");
        assert_eq!(
            front.xid(),
            xid,
            "replies answer the oldest pending request"
        );
        self.saw_zxid(zxid);
        match front {
            Pending::SetWatches => {}
            Pending::Op { op, request, .. } => {
                self.watches.register(&request, err);
                let result = result_of(zxid, err, response);
                self.complete(op, result);
            }
            Pending::Close { op, .. } => {
                let result = result_of(zxid, err, response.or(Some(Response::Empty)));
                self.complete(op, result);
                self.finish(States::Closed);
            }
        }
    }
}

fn needs_body(pending: &Pending) -> bool {
    matches!(pending, Pending::Op { .. })
}

/// The application's view of a reply.
fn result_of(zxid: Zxid, err: ErrorCode, response: Option<Response>) -> OpResult {
    match (err, response) {
        (ErrorCode::OK, Some(response)) => OpResult::Ok { response, zxid },
        (ErrorCode::OK, None) => unreachable!("checked by on_reply"),
        (ErrorCode::SESSIONEXPIRED, _) => OpResult::SessionExpired { sent: true },
        (
            ErrorCode::CONNECTIONLOSS | ErrorCode::OPERATIONTIMEOUT | ErrorCode::REQUESTTIMEOUT,
            _,
        ) => OpResult::Unknown { err },
        (err, _) => OpResult::Error { err, zxid },
    }
}
