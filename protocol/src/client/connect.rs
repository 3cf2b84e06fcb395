//! Connection management (`ClientCnxn.SendThread`): choosing a server, the handshake, timeouts,
//! pings, connection loss and reconnect back-off, session expiry.

use super::{
    ClientAction, ClientConn, ClientTimer, Link, OpResult, Outgoing, Pending, States,
    StaticHostProvider, ZooKeeper, MAX_SEND_PING_INTERVAL_MS, MS, RECONNECT_JITTER_MS,
    SPIN_DELAY_MS,
};
use crate::error_code::ErrorCode;
use crate::request::KeeperState;
use crate::session_wire::{ClientMessage, ConnectRequest, ConnectResponse};
use crate::types::LocalTime;

impl ZooKeeper {
    /// `ClientCnxn.readTimeout`: two thirds of the (negotiated) session timeout, ms.
    pub fn read_timeout_ms(&self) -> u64 {
        u64::from(self.negotiated_timeout_ms) * 2 / 3
    }

    /// `ClientCnxn.connectTimeout`: the session timeout over the number of servers, ms.
    pub fn connect_timeout_ms(&self) -> u64 {
        u64::from(self.negotiated_timeout_ms) / self.config.servers.len() as u64
    }

    /// Idle-send interval after which a ping goes out, ms: ClientCnxn pings once
    /// `readTimeout/2 - idleSend - (idleSend > 1s ? 1s : 0) <= 0`, at most every 10 s.
    pub fn ping_interval_ms(&self) -> u64 {
        let half = self.read_timeout_ms() / 2;
        let interval = if half <= 1_000 {
            half
        } else {
            (half - 1_000).max(1_001)
        };
        interval.clamp(1, MAX_SEND_PING_INTERVAL_MS)
    }

    pub(super) fn start(&mut self, now: LocalTime, entropy: u64) {
        assert!(self.hosts.is_none(), "Start arrives once");
        self.rng_state = entropy;
        let servers = self.config.servers.clone();
        let mut shuffle_rng = {
            let mut state = entropy ^ 0x5bd1_e995;
            move || {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            }
        };
        self.hosts = Some(StaticHostProvider::new(servers, &mut shuffle_rng));
        self.start_connect(now);
    }

    /// `startConnect`: ask the driver for a connection to the next server.
    fn start_connect(&mut self, now: LocalTime) {
        assert_eq!(self.link, Link::Idle, "one connection attempt at a time");
        assert!(self.is_alive(), "a finished session does not reconnect");
        let hosts = self.hosts.as_mut().expect("started");
        let (server, _spin) = hosts.next(0);
        let request = self.next_connect_request;
        self.next_connect_request += 1;
        self.link = Link::Connecting { request, server };
        self.last_recv = now;
        self.emit(ClientAction::Connect { server, request });
        let at = now.plus_millis(self.connect_timeout_ms());
        self.emit(ClientAction::SetTimer {
            timer: ClientTimer::ConnectTimeout,
            at,
        });
    }

    /// The transport is up: send `ConnectRequest` (`primeConnection`).
    pub(super) fn on_transport_up(&mut self, now: LocalTime, request: u64, conn: ClientConn) {
        let server = match self.link {
            Link::Connecting { request: r, server } if r == request => server,
            _ => {
                // A stale attempt (timed out or superseded): drop it.
                self.emit(ClientAction::Close { conn });
                return;
            }
        };
        self.link = Link::Handshaking { conn, server };
        self.last_recv = now;
        let connect = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid_seen,
            timeout_ms: i32::try_from(self.config.session_timeout_ms).unwrap_or(i32::MAX),
            session_id: self.session_id,
            passwd: self.passwd.clone(),
            read_only: false,
        };
        self.send(now, conn, ClientMessage::Connect(connect));
    }

    /// `onConnected`: the handshake answer.
    pub(super) fn on_handshake(&mut self, now: LocalTime, response: ConnectResponse) {
        let Link::Handshaking { conn, server } = self.link else {
            unreachable!("handshake answers arrive while handshaking")
        };
        assert!(
            self.pending.is_empty(),
            "nothing but ConnectRequest is written before the answer"
        );
        if response.timeout_ms <= 0 {
            // The server refused the session: it expired (or was never valid).
            self.finish(States::Expired);
            return;
        }
        self.negotiated_timeout_ms = response.timeout_ms as u32;
        self.session_id = response.session_id;
        self.passwd = response.passwd;
        self.link = Link::Connected { conn, server };
        self.state = States::Connected;
        self.hosts.as_mut().expect("started").on_connected();
        self.emit(ClientAction::CancelTimer {
            timer: ClientTimer::ConnectTimeout,
        });
        self.session_event(KeeperState::SyncConnected);
        if let Some(set_watches) = self.watches.set_watches(self.last_zxid_seen) {
            self.send(now, conn, ClientMessage::SetWatches(set_watches));
            self.pending.push_back(Pending::SetWatches);
        }
        while let Some(item) = self.outgoing.pop_front() {
            self.write(now, conn, server, item);
        }
        self.arm_heartbeat(now);
    }

    fn arm_heartbeat(&mut self, now: LocalTime) {
        let ping_at = self.last_send.plus_millis(self.ping_interval_ms());
        let dead_at = self.last_recv.plus_millis(self.read_timeout_ms());
        let at = ping_at.min(dead_at).max(LocalTime(now.0 + 1));
        self.emit(ClientAction::SetTimer {
            timer: ClientTimer::Heartbeat,
            at,
        });
    }

    pub(super) fn on_timer(&mut self, now: LocalTime, timer: ClientTimer) {
        match (timer, self.link) {
            (ClientTimer::Reconnect, Link::Idle) if self.is_alive() => self.start_connect(now),
            (ClientTimer::ConnectTimeout, Link::Connecting { .. } | Link::Handshaking { .. }) => {
                self.connection_lost(now, true)
            }
            (ClientTimer::Heartbeat, Link::Connected { conn, .. }) => {
                if now.0 >= self.last_recv.0 + self.read_timeout_ms() * MS {
                    // SessionTimeoutException: "Client session timed out, have not heard from
                    // server in ...".
                    self.connection_lost(now, true);
                    return;
                }
                if now.0 >= self.last_send.0 + self.ping_interval_ms() * MS {
                    self.send(now, conn, ClientMessage::Ping);
                }
                self.arm_heartbeat(now);
            }
            _ => {} // a timer that outlived its purpose
        }
    }

    /// `cleanup()` + back-off: the connection (or attempt) is gone. Every written request's
    /// outcome is unknown (CONNECTIONLOSS); unwritten ones stay queued.
    pub(super) fn connection_lost(&mut self, now: LocalTime, close_it: bool) {
        let was_connected = matches!(self.link, Link::Connected { .. });
        if close_it {
            if let Some(conn) = self.current_conn() {
                self.emit(ClientAction::Close { conn });
            }
        }
        self.link = Link::Idle;
        self.emit(ClientAction::CancelTimer {
            timer: ClientTimer::Heartbeat,
        });
        self.emit(ClientAction::CancelTimer {
            timer: ClientTimer::ConnectTimeout,
        });
        let mut closed = false;
        while let Some(pending) = self.pending.pop_front() {
            match pending {
                Pending::Op { op, .. } => self.complete(op, conn_loss()),
                Pending::SetWatches => {}
                Pending::Close { op, .. } => {
                    self.complete(op, conn_loss());
                    closed = true;
                }
            }
        }
        assert!(
            self.pending.is_empty(),
            "every written request was answered or failed"
        );
        assert_eq!(self.link, Link::Idle, "no connection survives a loss");
        if was_connected {
            self.state = States::Connecting;
            self.session_event(KeeperState::Disconnected);
        }
        if closed || self.closing {
            // ClientCnxn's close() gives up at the first connection loss.
            self.fail_queued_close();
            self.finish(States::Closed);
            return;
        }
        self.schedule_reconnect(now);
    }

    /// Completes a closeSession that was never written with CONNECTIONLOSS.
    fn fail_queued_close(&mut self) {
        let mut kept = std::collections::VecDeque::new();
        while let Some(item) = self.outgoing.pop_front() {
            match item {
                Outgoing::Close { op } => self.complete(op, conn_loss()),
                other => kept.push_back(other),
            }
        }
        self.outgoing = kept;
    }

    fn schedule_reconnect(&mut self, now: LocalTime) {
        let jitter = self.draw() % RECONNECT_JITTER_MS;
        let hosts = self.hosts.as_ref().expect("started");
        // Peek whether the next server closes a round (the spin delay of next(1000)).
        let mut peek = hosts.clone();
        let (_, spin) = peek.next(SPIN_DELAY_MS);
        let at = now.plus_millis(jitter + spin);
        self.emit(ClientAction::SetTimer {
            timer: ClientTimer::Reconnect,
            at,
        });
    }
}

fn conn_loss() -> OpResult {
    OpResult::Unknown {
        err: ErrorCode::CONNECTIONLOSS,
    }
}
