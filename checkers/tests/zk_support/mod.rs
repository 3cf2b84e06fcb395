//! Shared helpers for the judges' self-tests: ideal runs, running every judge, mutations.

#![allow(dead_code)]

use zabsim_checkers::history::{History, Record};
use zabsim_checkers::reference::ReferenceConfig;
use zabsim_checkers::zk::ideal::IdealCluster;
use zabsim_checkers::zk::{
    all_judges, judge_history, EndState, JudgeConfig, Verdict, Violation, ViolationKind,
};
use zabsim_protocol::acl::Acl;
use zabsim_protocol::request::{MultiOp, Request};

/// Runs every judge over the records; panics on a malformed history (a test bug).
pub fn judge(records: Vec<Record>, end: &EndState) -> Vec<(&'static str, Verdict)> {
    judge_with(records, end, JudgeConfig::default())
}

pub fn judge_with(
    records: Vec<Record>,
    end: &EndState,
    config: JudgeConfig,
) -> Vec<(&'static str, Verdict)> {
    let history = History::from_records(records).expect("generated histories are well formed");
    let mut judges = all_judges(config);
    judge_history(&history, end, &mut judges, false)
}

/// Asserts that every judge passed, printing the verdicts otherwise.
pub fn assert_all_pass(verdicts: &[(&'static str, Verdict)]) {
    for (name, verdict) in verdicts {
        assert!(verdict.is_pass(), "judge {name} did not pass: {verdict:#?}");
    }
}

/// The violations one judge reported.
pub fn violations<'a>(verdicts: &'a [(&'static str, Verdict)], judge: &str) -> &'a [Violation] {
    verdicts
        .iter()
        .find(|(n, _)| *n == judge)
        .map_or(&[], |(_, v)| v.violations())
}

/// Asserts that `judge` reported a violation of `kind`.
pub fn assert_caught(verdicts: &[(&'static str, Verdict)], judge: &str, kind: ViolationKind) {
    let found = violations(verdicts, judge);
    assert!(
        found.iter().any(|v| v.kind == kind),
        "judge {judge} should report {kind:?}, verdicts: {verdicts:#?}"
    );
}

pub fn create(path: &str, data: &str, flags: i32) -> Request {
    Request::Create {
        path: path.into(),
        data: Some(data.as_bytes().to_vec()),
        acl: Acl::open_unsafe(),
        flags,
        ttl: -1,
        with_stat: true,
    }
}

pub fn set(path: &str, data: &str, version: i32) -> Request {
    Request::SetData {
        path: path.into(),
        data: Some(data.as_bytes().to_vec()),
        version,
    }
}

pub fn delete(path: &str, version: i32) -> Request {
    Request::Delete {
        path: path.into(),
        version,
    }
}

pub fn get(path: &str, watch: bool) -> Request {
    Request::GetData {
        path: path.into(),
        watch,
    }
}

pub fn exists(path: &str, watch: bool) -> Request {
    Request::Exists {
        path: path.into(),
        watch,
    }
}

pub fn children(path: &str, watch: bool) -> Request {
    Request::GetChildren {
        path: path.into(),
        watch,
        with_stat: true,
    }
}

pub fn sync(path: &str) -> Request {
    Request::Sync { path: path.into() }
}

pub fn multi(ops: Vec<MultiOp>) -> Request {
    Request::Multi { ops }
}

pub fn m_create(path: &str, flags: i32) -> MultiOp {
    MultiOp::Create2 {
        path: path.into(),
        data: Some(b"m".to_vec()),
        acl: Acl::open_unsafe(),
        flags,
    }
}

pub fn m_check(path: &str, version: i32) -> MultiOp {
    MultiOp::Check {
        path: path.into(),
        version,
    }
}

pub fn m_set(path: &str, version: i32) -> MultiOp {
    MultiOp::SetData {
        path: path.into(),
        data: Some(b"ms".to_vec()),
        version,
    }
}

/// A hand-written run touching every judge: stale follower reads, sequential and ephemeral
/// nodes, a good and a failed multi, sync, a watch that fires, a session close, a follower
/// crash and recovery.
pub fn scripted_run() -> (Vec<Record>, EndState) {
    let mut c = IdealCluster::new(4, 3, ReferenceConfig::default());
    let [a, b, d] = [c.clients()[0], c.clients()[1], c.clients()[2]];
    let (s2, s4) = (c.servers()[1], c.servers()[3]);
    c.request(a, create("/app", "root", 0));
    c.request(b, exists("/app/x", true));
    c.request(b, get("/app", true));
    c.request(a, create("/app/x", "1", 0));
    c.request(a, set("/app", "root2", 0));
    c.request(b, get("/app", false));
    for _ in 0..5 {
        c.advance(s2);
    }
    c.request(b, get("/app", false));
    c.request(a, get("/app", false));
    c.request(a, create("/app/seq-", "s", 2));
    c.request(a, create("/app/seq-", "s", 2));
    c.request(b, create("/app/lock-", "e", 3));
    c.request(
        a,
        multi(vec![
            m_create("/app/m", 0),
            m_check("/app", 1),
            m_set("/app/x", -1),
        ]),
    );
    c.request(a, multi(vec![m_create("/app/n", 0), m_check("/app", 7)]));
    c.request(a, delete("/app/x", 5));
    c.request(b, children("/app", true));
    c.crash(s4);
    c.request(a, create("/app/y", "while s3 is down", 0));
    c.request(b, sync("/app"));
    c.request(b, get("/app/y", false));
    c.close(b);
    c.request(d, children("/app", false));
    c.recover(s4);
    c.request(d, exists("/app/m", false));
    c.finish(10_000_000_000)
}
