//! Property test: prep + apply over random create/delete/setData sequences agree with an
//! independent, simple reference model (a map from path to data and version).

use std::collections::BTreeMap;

use proptest::prelude::*;
use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::Request;
use zabsim_protocol::store::{RequestContext, StoreConfig, WriteRequest, ZkDatabase};
use zabsim_protocol::types::{SessionId, Xid, Zxid};

const PATHS: [&str; 5] = ["/a", "/b", "/a/x", "/a/y", "/b/z"];

#[derive(Clone, Debug)]
enum Op {
    Create(usize, u8),
    Delete(usize, i32),
    Set(usize, u8, i32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..PATHS.len(), any::<u8>()).prop_map(|(p, d)| Op::Create(p, d)),
        (0..PATHS.len(), -1..3i32).prop_map(|(p, v)| Op::Delete(p, v)),
        (0..PATHS.len(), any::<u8>(), -1..3i32).prop_map(|(p, d, v)| Op::Set(p, d, v)),
    ]
}

/// The reference: path -> (data byte, version).
fn model_step(m: &mut BTreeMap<String, (u8, i32)>, op: &Op) -> Result<(), ErrorCode> {
    let has_children = |m: &BTreeMap<String, (u8, i32)>, p: &str| {
        m.keys().any(|k| k.starts_with(&format!("{p}/")))
    };
    let parent_exists = |m: &BTreeMap<String, (u8, i32)>, p: &str| {
        let parent = &p[..p.rfind('/').unwrap_or(0)];
        parent.is_empty() || m.contains_key(parent)
    };
    match *op {
        Op::Create(i, d) => {
            let p = PATHS[i];
            if !parent_exists(m, p) {
                return Err(ErrorCode::NONODE);
            }
            if m.contains_key(p) {
                return Err(ErrorCode::NODEEXISTS);
            }
            m.insert(p.to_string(), (d, 0));
        }
        Op::Delete(i, v) => {
            let p = PATHS[i];
            let (_, ver) = *m.get(p).ok_or(ErrorCode::NONODE)?;
            if v != -1 && v != ver {
                return Err(ErrorCode::BADVERSION);
            }
            if has_children(m, p) {
                return Err(ErrorCode::NOTEMPTY);
            }
            m.remove(p);
        }
        Op::Set(i, d, v) => {
            let p = PATHS[i];
            let e = m.get_mut(p).ok_or(ErrorCode::NONODE)?;
            if v != -1 && v != e.1 {
                return Err(ErrorCode::BADVERSION);
            }
            *e = (d, e.1 + 1);
        }
    }
    Ok(())
}

fn request(op: &Op) -> Request {
    match *op {
        Op::Create(i, d) => Request::Create {
            path: PATHS[i].to_string(),
            data: Some(vec![d]),
            acl: Acl::open_unsafe(),
            flags: 0,
            ttl: -1,
            with_stat: false,
        },
        Op::Delete(i, version) => Request::Delete {
            path: PATHS[i].to_string(),
            version,
        },
        Op::Set(i, d, version) => Request::SetData {
            path: PATHS[i].to_string(),
            data: Some(vec![d]),
            version,
        },
    }
}

fn ctx(k: usize) -> RequestContext {
    RequestContext {
        session: SessionId(1),
        xid: Xid(k as i32),
        auth: Vec::new(),
    }
}

proptest! {
    /// Goal: prep + apply (with a pipeline of up to three uncommitted txns, so prep reads the
    /// outstanding changes) agree with the map model on every error and every final value,
    /// and the incremental digest equals a from-scratch recomputation.
    #[test]
    fn tree_agrees_with_reference_model(ops in proptest::collection::vec(op(), 0..40), depth in 1usize..4) {
        let mut db = ZkDatabase::new(StoreConfig::new(1, 2000), 0);
        let session = db.prep(&ctx(0), &WriteRequest::CreateSession { timeout_ms: 10_000 }, Zxid(1), 0);
        let _ = db.apply(&session);
        let mut model = BTreeMap::new();
        let mut pipeline = std::collections::VecDeque::new();
        for (k, op) in ops.iter().enumerate() {
            let zxid = Zxid(k as u64 + 2);
            let entry = db.prep(&ctx(k + 1), &WriteRequest::Client(request(op)), zxid, 0);
            pipeline.push_back((entry, model_step(&mut model, op)));
            while pipeline.len() >= depth {
                let (entry, expected) = pipeline.pop_front().expect("non-empty");
                let got = db.apply(&entry).response.map(|_| ());
                prop_assert_eq!(got, expected);
                prop_assert_eq!(db.last_processed_zxid(), entry.header.zxid);
                if let Some(d) = entry.digest {
                    prop_assert_eq!(d.tree_digest, db.digest());
                }
            }
        }
        while let Some((entry, expected)) = pipeline.pop_front() {
            prop_assert_eq!(db.apply(&entry).response.map(|_| ()), expected);
        }
        prop_assert_eq!(db.outstanding_changes(), 0);
        prop_assert_eq!(db.digest(), db.tree().recompute_digest());
        // The root, /zookeeper, /zookeeper/quota, /zookeeper/config.
        prop_assert_eq!(db.tree().node_count(), model.len() + 4);
        for (p, (d, v)) in &model {
            let r = db.read(&ctx(0), &Request::GetData { path: p.clone(), watch: false });
            match r {
                Ok(zabsim_protocol::request::Response::GetData { data, stat }) => {
                    prop_assert_eq!(data, Some(vec![*d]));
                    prop_assert_eq!(stat.version, *v);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
