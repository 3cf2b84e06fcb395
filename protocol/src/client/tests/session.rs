//! Sessions and operations: expiry, xid order, connection loss, close, error replies.

use super::super::*;
use super::*;

/// Goal: a server that answers the resume with timeout 0 expires the session: Expired, queued
/// ops fail SESSIONEXPIRED (never sent), and every later op fails the same way.
#[test]
fn timeout_zero_expires_the_session() {
    let mut f = Fake::new(2);
    let (_, conn) = f.connected(0x10);
    f.input(ClientInput::Closed { conn });
    let queued = f.submit(1, get_data("/a", false));
    assert!(completions(&queued).is_empty(), "queued while disconnected");
    let actions = f
        .at(ms(2_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (_, request) = Fake::connect_of(&actions);
    let (conn2, _) = f.accept(request);
    let actions = f.answer(conn2, 0, 0);
    assert!(has_state(&actions, KeeperState::Expired));
    assert!(actions.contains(&ClientAction::Close { conn: conn2 }));
    assert_eq!(
        completions(&actions),
        vec![(1, OpResult::SessionExpired { sent: false })]
    );
    assert_eq!(f.zk.state(), States::Expired);
    let later = f.submit(2, get_data("/b", false));
    assert_eq!(
        completions(&later),
        vec![(2, OpResult::SessionExpired { sent: false })]
    );
    assert!(!f.zk.work_outstanding());
}

/// Goal: replies must answer the oldest pending xid; one out of order closes the connection and
/// every pending op completes CONNECTIONLOSS (ClientCnxn "Xid out of order").
#[test]
fn a_reply_out_of_xid_order_closes_the_connection() {
    let mut f = Fake::new(3);
    let (_, conn) = f.connected(1);
    let a = xids(&f.submit(1, get_data("/a", false)));
    let b = xids(&f.submit(2, get_data("/b", false)));
    assert!(a[0] < b[0], "xids increase");
    let actions = f.message(conn, data_reply(b[0], 3));
    assert!(actions.contains(&ClientAction::Close { conn }));
    let loss = OpResult::Unknown {
        err: ErrorCode::CONNECTIONLOSS,
    };
    assert_eq!(completions(&actions), vec![(1, loss.clone()), (2, loss)]);
    assert_eq!(
        f.zk.last_zxid_seen(),
        Zxid::ZERO,
        "the bad reply taught nothing"
    );
}

/// Goal: on connection loss written ops are unknown (CONNECTIONLOSS) while ops submitted during
/// the outage are queued and written, in order, after the reconnect.
#[test]
fn connection_loss_fails_sent_ops_and_queues_new_ones() {
    let mut f = Fake::new(3);
    let (_, conn) = f.connected(1);
    f.submit(1, get_data("/a", false));
    let actions = f.input(ClientInput::Closed { conn });
    assert_eq!(
        completions(&actions),
        vec![(
            1,
            OpResult::Unknown {
                err: ErrorCode::CONNECTIONLOSS
            }
        )]
    );
    assert!(
        !actions.contains(&ClientAction::Close { conn }),
        "the peer closed it"
    );
    assert!(f.submit(2, get_data("/b", false)).is_empty());
    assert!(f.submit(3, get_data("/c", false)).is_empty());
    assert!(f.zk.work_outstanding());
    let actions = f
        .at(ms(2_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (server, request) = Fake::connect_of(&actions);
    let (conn2, _) = f.accept(request);
    let actions = f.answer(conn2, 1, 3_000);
    let paths: Vec<String> = sends(&actions, conn2)
        .into_iter()
        .filter_map(|m| match m {
            ClientMessage::Request {
                request: Request::GetData { path, .. },
                ..
            } => Some(path),
            _ => None,
        })
        .collect();
    assert_eq!(paths, vec!["/b".to_string(), "/c".to_string()]);
    assert!(actions.contains(&ClientAction::Sent {
        op: OpToken(2),
        server,
        xid: Xid(2),
        session: SessionId(1),
    }));
}

/// Goal: close() sends closeSession; its reply completes the close, reports Closed and drops the
/// connection; ops submitted afterwards fail SESSIONEXPIRED.
#[test]
fn close_session_ends_the_session() {
    let mut f = Fake::new(3);
    let (_, conn) = f.connected(1);
    let actions = f.input(ClientInput::CloseSession { op: OpToken(9) });
    let xid = match sends(&actions, conn).as_slice() {
        [ClientMessage::CloseSession { xid }] => *xid,
        other => panic!("{other:?}"),
    };
    let refused = f.submit(10, get_data("/a", false));
    assert_eq!(
        completions(&refused),
        vec![(
            10,
            OpResult::Unknown {
                err: ErrorCode::CONNECTIONLOSS
            }
        )]
    );
    let actions = f.message(
        conn,
        ServerMessage::Reply {
            xid,
            zxid: Zxid(12),
            err: ErrorCode::OK,
            response: None,
        },
    );
    assert_eq!(
        completions(&actions),
        vec![(
            9,
            OpResult::Ok {
                response: Response::Empty,
                zxid: Zxid(12)
            }
        )]
    );
    assert!(has_state(&actions, KeeperState::Closed));
    assert!(actions.contains(&ClientAction::Close { conn }));
    assert_eq!(f.zk.state(), States::Closed);
    let later = f.submit(11, get_data("/a", false));
    assert_eq!(
        completions(&later),
        vec![(11, OpResult::SessionExpired { sent: false })]
    );
}

/// Goal: definite errors carry the reply zxid; SESSIONEXPIRED in a reply header is reported as
/// such.
#[test]
fn error_replies_carry_their_zxid() {
    let mut f = Fake::new(1);
    let (_, conn) = f.connected(1);
    let x = xids(&f.submit(
        1,
        Request::Delete {
            path: "/a".into(),
            version: 3,
        },
    ))[0];
    let actions = f.message(
        conn,
        ServerMessage::Reply {
            xid: x,
            zxid: Zxid(21),
            err: ErrorCode::BADVERSION,
            response: None,
        },
    );
    assert_eq!(
        completions(&actions),
        vec![(
            1,
            OpResult::Error {
                err: ErrorCode::BADVERSION,
                zxid: Zxid(21)
            }
        )]
    );
    let x = xids(&f.submit(2, get_data("/a", false)))[0];
    let actions = f.message(
        conn,
        ServerMessage::Reply {
            xid: x,
            zxid: Zxid(22),
            err: ErrorCode::SESSIONEXPIRED,
            response: None,
        },
    );
    assert_eq!(
        completions(&actions),
        vec![(2, OpResult::SessionExpired { sent: true })]
    );
}

/// Goal: close() while disconnected queues closeSession; when the next connection attempt
/// fails the close gives up with CONNECTIONLOSS and the session is Closed (ClientCnxn.close
/// returns at the first connection loss).
#[test]
fn close_while_disconnected_gives_up_at_the_next_loss() {
    let mut f = Fake::new(2);
    let (_, conn) = f.connected(6);
    f.input(ClientInput::Closed { conn });
    assert!(f
        .input(ClientInput::CloseSession { op: OpToken(1) })
        .is_empty());
    let actions = f
        .at(ms(2_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (_, request) = Fake::connect_of(&actions);
    let actions = f.input(ClientInput::ConnectFailed { request });
    assert_eq!(
        completions(&actions),
        vec![(
            1,
            OpResult::Unknown {
                err: ErrorCode::CONNECTIONLOSS
            }
        )]
    );
    assert!(has_state(&actions, KeeperState::Closed));
    assert!(f.zk.is_terminal());
}
