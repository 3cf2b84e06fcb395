//! Sessions: timeout negotiation, ids and passwords as ZooKeeper makes them, and the leader's
//! `SessionTrackerImpl` with its `ExpiryQueue` (buckets `tickTime` wide: a touch moves a session
//! to the bucket `roundToNextInterval(now + timeout)`; a bucket expires once `now` reaches it).

use std::collections::{BTreeMap, BTreeSet};

use crate::error_code::ErrorCode;
use crate::store::path::CONTAINER_EPHEMERAL_OWNER;
use crate::types::SessionId;

/// Negotiated timeout: the requested one clamped to `[min, max]` (ZooKeeper's defaults are
/// 2×tickTime and 20×tickTime).
pub fn negotiate_timeout(requested_ms: i32, min_ms: i32, max_ms: i32) -> i32 {
    assert!(
        min_ms <= max_ms,
        "minSessionTimeout above maxSessionTimeout"
    );
    requested_ms.clamp(min_ms, max_ms)
}

/// `ExpiryQueue.roundToNextInterval`: `(time / interval + 1) * interval`.
pub fn round_to_interval(time_ms: i64, expiration_interval_ms: i64) -> i64 {
    assert!(
        expiration_interval_ms > 0,
        "expiration interval must be positive"
    );
    (time_ms / expiration_interval_ms + 1) * expiration_interval_ms
}

/// `SessionTrackerImpl.initializeNextSessionId(sid)`: time in the middle bits, the server id in
/// the top byte.
pub fn initialize_next_session_id(server_id: u64, now_ms: i64) -> i64 {
    let mut next = (((now_ms as u64) << 24) >> 8) as i64;
    next |= (server_id as i64) << 56;
    if next == CONTAINER_EPHEMERAL_OWNER {
        next += 1;
    }
    next
}

/// `ZooKeeperServer.generatePasswd(id)`: 16 bytes of `new java.util.Random(id ^ 0xB3415C00L)`.
pub fn generate_passwd(session: SessionId) -> Vec<u8> {
    let mut rnd = JavaRandom::new(session.0 ^ 0xB341_5C00);
    rnd.next_bytes(16)
}

/// `java.util.Random` (the 48-bit LCG), enough for `nextBytes`.
struct JavaRandom {
    seed: i64,
}

impl JavaRandom {
    fn new(seed: i64) -> JavaRandom {
        JavaRandom {
            seed: (seed ^ 0x5_DEEC_E66D) & ((1 << 48) - 1),
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & ((1 << 48) - 1);
        (self.seed >> (48 - bits)) as i32
    }

    fn next_bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let mut rnd = self.next(32);
            for _ in 0..4.min(len - out.len()) {
                out.push(rnd as u8);
                rnd >>= 8;
            }
        }
        out
    }
}

/// One tracked session (`SessionImpl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackedSession {
    /// Negotiated timeout, ms.
    pub timeout_ms: i32,
    /// Marked closing (expired or closeSession prepared): new requests get SESSIONEXPIRED.
    pub closing: bool,
    /// The expiry bucket it sits in.
    pub expiry_ms: i64,
}

/// `SessionTrackerImpl` (the leader's, or a standalone server's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTracker {
    sessions: BTreeMap<SessionId, TrackedSession>,
    buckets: BTreeMap<i64, BTreeSet<SessionId>>,
    next_expiration_ms: i64,
    expiration_interval_ms: i64,
    next_session_id: i64,
}

impl SessionTracker {
    /// A tracker started at `now_ms` on server `server_id`, buckets `tick_time_ms` wide.
    pub fn new(server_id: u64, tick_time_ms: i32, now_ms: i64) -> SessionTracker {
        let interval = i64::from(tick_time_ms);
        SessionTracker {
            sessions: BTreeMap::new(),
            buckets: BTreeMap::new(),
            next_expiration_ms: round_to_interval(now_ms, interval),
            expiration_interval_ms: interval,
            next_session_id: initialize_next_session_id(server_id, now_ms),
        }
    }

    /// `createSession(timeout)`: a fresh id, tracked from `now_ms`.
    pub fn create_session(&mut self, timeout_ms: i32, now_ms: i64) -> SessionId {
        let id = SessionId(self.next_session_id);
        self.next_session_id += 1;
        self.track_session(id, timeout_ms, now_ms);
        id
    }

    /// `trackSession`: adds the session if unknown, then touches it. True when added.
    pub fn track_session(&mut self, session: SessionId, timeout_ms: i32, now_ms: i64) -> bool {
        let added = !self.sessions.contains_key(&session);
        if added {
            self.sessions.insert(
                session,
                TrackedSession {
                    timeout_ms,
                    closing: false,
                    expiry_ms: 0,
                },
            );
        }
        self.update_expiry(session, timeout_ms, now_ms);
        added
    }

    fn update_expiry(&mut self, session: SessionId, timeout_ms: i32, now_ms: i64) {
        let expiry = round_to_interval(now_ms + i64::from(timeout_ms), self.expiration_interval_ms);
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let old = s.expiry_ms;
        if old == expiry {
            return;
        }
        s.expiry_ms = expiry;
        self.buckets.entry(expiry).or_default().insert(session);
        if let Some(set) = self.buckets.get_mut(&old) {
            set.remove(&session);
        }
    }

    /// `touchSession`: false for an unknown or closing session.
    pub fn touch_session(&mut self, session: SessionId, timeout_ms: i32, now_ms: i64) -> bool {
        match self.sessions.get(&session) {
            Some(s) if !s.closing => {
                self.update_expiry(session, timeout_ms, now_ms);
                true
            }
            _ => false,
        }
    }

    /// `checkSession`: UNKNOWNSESSION, or SESSIONEXPIRED for a closing session.
    pub fn check_session(&self, session: SessionId) -> Result<(), ErrorCode> {
        match self.sessions.get(&session) {
            None => Err(ErrorCode::UNKNOWNSESSION),
            Some(s) if s.closing => Err(ErrorCode::SESSIONEXPIRED),
            Some(_) => Ok(()),
        }
    }

    /// `checkGlobalSession` (ephemeral creates): an unknown session is SESSIONEXPIRED.
    pub fn check_global_session(&self, session: SessionId) -> Result<(), ErrorCode> {
        self.check_session(session).map_err(|e| match e {
            ErrorCode::UNKNOWNSESSION => ErrorCode::SESSIONEXPIRED,
            other => other,
        })
    }

    /// `setSessionClosing`.
    pub fn set_session_closing(&mut self, session: SessionId) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.closing = true;
        }
    }

    /// `removeSession`.
    pub fn remove_session(&mut self, session: SessionId) {
        if let Some(s) = self.sessions.remove(&session) {
            if let Some(set) = self.buckets.get_mut(&s.expiry_ms) {
                set.remove(&session);
            }
        }
    }

    /// Whether the session is tracked.
    pub fn is_tracking(&self, session: SessionId) -> bool {
        self.sessions.contains_key(&session)
    }

    /// The tracked session.
    pub fn session(&self, session: SessionId) -> Option<&TrackedSession> {
        self.sessions.get(&session)
    }

    /// When the next bucket expires (`getWaitTime` from now).
    pub fn next_expiration_ms(&self) -> i64 {
        self.next_expiration_ms
    }

    /// The expiry thread's loop body: every bucket due at `now_ms` is polled; its sessions are
    /// marked closing and returned (the caller submits a closeSession for each, in order).
    pub fn expire(&mut self, now_ms: i64) -> Vec<SessionId> {
        let mut out = Vec::new();
        while now_ms >= self.next_expiration_ms {
            let due = self.next_expiration_ms;
            self.next_expiration_ms += self.expiration_interval_ms;
            if let Some(set) = self.buckets.remove(&due) {
                for s in set {
                    self.set_session_closing(s);
                    out.push(s);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_clamps_to_two_and_twenty_ticks() {
        assert_eq!(negotiate_timeout(10_000, 4000, 40_000), 10_000);
        assert_eq!(negotiate_timeout(100, 4000, 40_000), 4000);
        assert_eq!(negotiate_timeout(1_000_000, 4000, 40_000), 40_000);
    }

    #[test]
    fn rounding_goes_to_the_next_bucket() {
        assert_eq!(round_to_interval(0, 2000), 2000);
        assert_eq!(round_to_interval(1999, 2000), 2000);
        assert_eq!(round_to_interval(2000, 2000), 4000);
    }

    #[test]
    fn session_expires_in_its_bucket_unless_touched() {
        let mut t = SessionTracker::new(1, 2000, 0);
        let s = t.create_session(4000, 0); // bucket 6000
        assert_eq!(t.session(s).map(|x| x.expiry_ms), Some(6000));
        assert!(t.expire(5999).is_empty());
        assert!(t.touch_session(s, 4000, 3000)); // bucket 8000
        assert!(t.expire(6000).is_empty());
        assert_eq!(t.expire(8000), vec![s]);
        assert_eq!(t.check_session(s), Err(ErrorCode::SESSIONEXPIRED));
        assert!(!t.touch_session(s, 4000, 8000));
    }

    #[test]
    fn ids_and_passwords() {
        let id = initialize_next_session_id(1, 0x1234);
        assert_eq!(id >> 56, 1);
        assert_eq!(generate_passwd(SessionId(id)).len(), 16);
        assert_eq!(
            generate_passwd(SessionId(id)),
            generate_passwd(SessionId(id))
        );
        // java.util.Random(0).nextInt() is -1155484576 (first 4 bytes, little end first).
        let mut r = JavaRandom::new(0);
        assert_eq!(r.next(32), -1_155_484_576);
    }
}
