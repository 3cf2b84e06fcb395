//! The reference model against a real ZooKeeper 3.8.0 ensemble (`shared/corpora/zk-datadir`):
//! the workload's txn log (as `TxnLogToolkit -d` printed it) is turned back into client
//! *requests* and fed through the model's request semantics in zxid order; every sequential
//! name, new data version and parent cversion the real leader logged must come out of the
//! model, and the final tree must equal, Stat field by Stat field, the tree a client read from
//! the real server (`expected_tree.json`).
//!
//! The two failed writes and the failed multi are replayed as the error txns they are (the log
//! does not say what was asked); the TTL node and the digest ACL go through the txn records,
//! since the model does not decide TTL creates or authenticated ACLs.

use serde_json::Value;
use std::path::PathBuf;
use zabsim_checkers::reference::{ReferenceConfig, ReferenceTree};
use zabsim_protocol::acl::{Acl, Id};
use zabsim_protocol::op_code::OpCode;
use zabsim_protocol::request::{MultiOp, Request, Response};
use zabsim_protocol::txn::{Txn, TxnEntry, TxnHeader};
use zabsim_protocol::types::{SessionId, Xid, Zxid};

/// `shared/corpora/zk-datadir`, found beside an ancestor of this crate (CI clones the repo with
/// `shared/` beside it; worktrees sit one level deeper).
fn corpus() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared/corpora/zk-datadir"))
        .find(|p| p.join("expected_tree.json").exists())
        .expect("shared/corpora/zk-datadir must sit beside the repository (see .ci/run)")
}

/// One record of a `TxnLogToolkit -d` dump.
struct Logged {
    session: i64,
    cxid: i32,
    zxid: Zxid,
    kind: String,
    body: String,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).expect("hex number in the dump")
}

fn after<'a>(text: &'a str, marker: &str) -> &'a str {
    let i = text.find(marker).expect("marker present") + marker.len();
    &text[i..]
}

fn word(text: &str) -> &str {
    text.split(' ').next().unwrap_or("")
}

/// Splits a dump into records: a record starts with a line `MM/DD/YY, time session 0x..`.
fn read_dump(text: &str) -> Vec<Logged> {
    let mut chunks: Vec<String> = Vec::new();
    for line in text.split('\n') {
        if line.starts_with("EOF reached after") {
            continue; // the toolkit's trailer
        }
        let starts = line.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && line.contains(" session 0x")
            && line.contains(" zxid 0x");
        match chunks.last_mut() {
            Some(last) if !starts => {
                last.push('\n');
                last.push_str(line);
            }
            _ if starts => chunks.push(line.to_string()),
            _ => {} // the file header line
        }
    }
    chunks
        .iter()
        .map(|c| {
            let session = hex(word(after(c, " session 0x"))) as i64;
            let cxid = hex(word(after(c, " cxid 0x"))) as i32;
            let rest = after(c, " zxid 0x");
            let zxid = Zxid(hex(word(rest)));
            let rest = &rest[word(rest).len() + 1..];
            let kind = word(rest).to_string();
            let body = rest[kind.len()..].trim_start_matches(' ').to_string();
            Logged {
                session,
                cxid,
                zxid,
                kind,
                body,
            }
        })
        .collect()
}

fn open_acl() -> Vec<Acl> {
    Acl::open_unsafe()
}

/// `path,data,[acl\n],tail...` → (path, data, tail fields).
fn create_fields(body: &str) -> (String, Vec<u8>, Vec<String>) {
    let (path, rest) = body.split_once(',').expect("path,");
    let (data, rest) = rest.split_once(",[").expect("data,[acl");
    let tail = rest.split_once("\n],").expect("acl\\n],").1;
    let tail = tail.trim_end().split(',').map(String::from).collect();
    (path.to_string(), data.as_bytes().to_vec(), tail)
}

/// Reads jute fields of a multi sub-record: ints are 4 bytes big-endian, strings and buffers an
/// int length then bytes.
struct Jute<'a> {
    bytes: &'a [u8],
}

impl Jute<'_> {
    fn int(&mut self) -> i32 {
        let (head, rest) = self.bytes.split_at(4);
        self.bytes = rest;
        i32::from_be_bytes([head[0], head[1], head[2], head[3]])
    }
    fn buffer(&mut self) -> Vec<u8> {
        let n = self.int() as usize;
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        head.to_vec()
    }
    fn string(&mut self) -> String {
        String::from_utf8(self.buffer()).expect("utf8 jute string")
    }
}

/// The successful multi: `create:<CreateTxn>;create:..;setData:<SetDataTxn>;check:..;delete:..`.
fn multi_request(raw: &[u8]) -> (Vec<MultiOp>, Vec<(String, i32)>) {
    let mut ops = Vec::new();
    let mut cversions = Vec::new();
    for part in raw.split(|b| *b == b';').filter(|p| !p.is_empty()) {
        let colon = part.iter().position(|b| *b == b':').expect("type:");
        let kind = std::str::from_utf8(&part[..colon]).expect("ascii type");
        let mut j = Jute {
            bytes: &part[colon + 1..],
        };
        let path = j.string();
        match kind {
            "create" => {
                let data = j.buffer();
                for _ in 0..j.int() {
                    let _perms = j.int();
                    let _scheme = j.string();
                    let _id = j.string();
                }
                let _ephemeral = j.bytes[0];
                j.bytes = &j.bytes[1..];
                cversions.push((path.clone(), j.int()));
                ops.push(MultiOp::Create {
                    path,
                    data: Some(data),
                    acl: open_acl(),
                    flags: 0,
                });
            }
            "setData" => ops.push(MultiOp::SetData {
                path,
                data: Some(j.buffer()),
                version: -1,
            }),
            "check" => ops.push(MultiOp::Check { path, version: -1 }),
            "delete" => ops.push(MultiOp::Delete { path, version: -1 }),
            other => panic!("unexpected multi sub-record {other}"),
        }
    }
    (ops, cversions)
}

fn header(r: &Logged, txn_type: OpCode) -> TxnHeader {
    TxnHeader {
        client_id: SessionId(r.session),
        cxid: Xid(r.cxid),
        zxid: r.zxid,
        time: 0,
        txn_type,
    }
}

fn apply_record(tree: &mut ReferenceTree, r: &Logged, txn: Txn, txn_type: OpCode) {
    let entry = TxnEntry {
        header: header(r, txn_type),
        txn,
        digest: None,
    };
    tree.apply_txn(&entry).expect("the logged txn applies");
}

/// A create as a client sent it: names ending in ten digits were sequential creates.
fn create_request(path: &str, data: Vec<u8>, ephemeral: bool, container: bool) -> (Request, bool) {
    let digits = path.len() >= 10 && path[path.len() - 10..].bytes().all(|b| b.is_ascii_digit());
    let sequential = digits && !container;
    let base = if sequential {
        &path[..path.len() - 10]
    } else {
        path
    };
    let flags = match (container, ephemeral, sequential) {
        (true, _, _) => 4,
        (false, false, false) => 0,
        (false, true, false) => 1,
        (false, false, true) => 2,
        (false, true, true) => 3,
    };
    let request = Request::Create {
        path: base.to_string(),
        data: Some(data),
        acl: open_acl(),
        flags,
        ttl: -1,
        with_stat: true,
    };
    (request, sequential)
}

fn parent_cversion(tree: &ReferenceTree, path: &str) -> i32 {
    let parent = zabsim_checkers::reference::parent_of(path).expect("a parent");
    tree.node(parent).expect("parent exists").stored_cversion
}

/// Replays one record; returns how many facts were checked against the real leader's log.
fn replay(tree: &mut ReferenceTree, r: &Logged, raw: &[u8]) -> usize {
    let session = SessionId(r.session);
    match r.kind.as_str() {
        "createSession" => {
            tree.create_session(session, r.zxid);
            0
        }
        "closeSession" => {
            let mut deleted = tree.close_session(session, r.zxid);
            deleted.sort();
            assert_eq!(deleted, ["/app/live-0", "/app/live-1", "/app/live-2"]);
            1
        }
        "create2" | "createContainer" => {
            let (path, data, tail) = create_fields(&r.body);
            let container = r.kind == "createContainer";
            let ephemeral = tail.first().is_some_and(|t| t == "true");
            let logged_cversion: i32 = tail.last().expect("cversion").parse().expect("int");
            let (request, _) = create_request(&path, data, ephemeral, container);
            let reply = tree.write(session, &request, r.zxid, 0);
            match reply {
                Ok(Response::Create { path: made, .. }) => assert_eq!(made, path, "at {}", r.zxid),
                other => panic!("create of {path} at {}: {other:?}", r.zxid),
            }
            assert_eq!(
                parent_cversion(tree, &path),
                logged_cversion,
                "parentCVersion at {}",
                r.zxid
            );
            2
        }
        "createTtl" => {
            let (path, data, tail) = create_fields(&r.body);
            let parent_cversion: i32 = tail[0].parse().expect("int");
            let ttl: i64 = tail[1].parse().expect("int");
            let txn = Txn::CreateTtl {
                path,
                data: Some(data),
                acl: open_acl(),
                parent_cversion,
                ttl,
            };
            apply_record(tree, r, txn, OpCode::CreateTtl);
            0
        }
        "setData" => {
            let (rest, version) = r.body.rsplit_once(',').expect("path,data,version");
            let (path, data) = rest.split_once(',').expect("path,data");
            let request = Request::SetData {
                path: path.into(),
                data: Some(data.as_bytes().to_vec()),
                version: -1,
            };
            match tree.write(session, &request, r.zxid, 0) {
                Ok(Response::SetData { stat }) => {
                    assert_eq!(
                        stat.version.to_string(),
                        version.trim(),
                        "version at {}",
                        r.zxid
                    )
                }
                other => panic!("setData {path} at {}: {other:?}", r.zxid),
            }
            1
        }
        "delete" => {
            let path = r.body.trim().trim_start_matches('\'');
            let reply = tree.write(
                session,
                &Request::Delete {
                    path: path.into(),
                    version: -1,
                },
                r.zxid,
                0,
            );
            assert!(
                matches!(reply, Ok(Response::Delete)),
                "delete {path} at {}: {reply:?}",
                r.zxid
            );
            1
        }
        "setACL" => {
            let path = r
                .body
                .trim_start_matches('\'')
                .split(',')
                .next()
                .expect("path")
                .to_string();
            let acl = vec![
                Acl::world(1),
                Acl {
                    perms: 30,
                    id: Id {
                        scheme: "digest".into(),
                        id: "admin:x".into(),
                    },
                },
            ];
            apply_record(
                tree,
                r,
                Txn::SetAcl {
                    path,
                    acl,
                    version: 1,
                },
                OpCode::SetAcl,
            );
            0
        }
        "error" => {
            apply_record(
                tree,
                r,
                Txn::Error {
                    err: r.body.trim().parse().expect("code"),
                },
                OpCode::Error,
            );
            0
        }
        "multi" if r.body.contains("error:") => {
            apply_record(
                tree,
                r,
                Txn::Multi {
                    txns: vec![(OpCode::Error, Txn::Error { err: -101 })],
                },
                OpCode::Multi,
            );
            0
        }
        "multi" => replay_multi(tree, r, raw),
        other => panic!("unexpected txn type {other} at {}", r.zxid),
    }
}

fn replay_multi(tree: &mut ReferenceTree, r: &Logged, raw: &[u8]) -> usize {
    let (ops, cversions) = multi_request(raw);
    let reply = tree.write(SessionId(r.session), &Request::Multi { ops }, r.zxid, 0);
    assert!(
        matches!(&reply, Ok(Response::Multi { results }) if results.len() == 5),
        "multi at {}: {reply:?}",
        r.zxid
    );
    // Each sub-create's parentCVersion is the parent's counter right after it; creates under
    // one parent in one multi count up, so only the last one per parent equals the final value.
    let mut last_per_parent = std::collections::BTreeMap::new();
    for (path, cversion) in &cversions {
        last_per_parent.insert(
            zabsim_checkers::reference::parent_of(path)
                .expect("parent")
                .to_string(),
            (path.clone(), *cversion),
        );
    }
    for (path, cversion) in last_per_parent.values() {
        assert_eq!(
            parent_cversion(tree, path),
            *cversion,
            "multi parentCVersion for {path}"
        );
    }
    1 + last_per_parent.len()
}

/// The multi records' raw bytes (the dump prints jute bytes verbatim).
fn raw_multi(bytes: &[u8], zxid: Zxid) -> Vec<u8> {
    let marker = format!("zxid 0x{:x} multi ", zxid.0);
    let start = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .map(|i| i + marker.len())
        .expect("multi record");
    let end = bytes[start..]
        .windows(4)
        .position(|w| w == b"\n11/")
        .map_or(bytes.len(), |i| start + i);
    bytes[start..end].to_vec()
}

fn check_tree(tree: &ReferenceTree, expected: &Value) -> usize {
    let nodes = expected["tree"].as_object().expect("tree object");
    let mut checked = 0;
    for (path, want) in nodes {
        if path.starts_with("/zookeeper/") {
            continue; // the ensemble's dynamic config lives there
        }
        let node = tree
            .node(path)
            .unwrap_or_else(|| panic!("{path} missing from the model"));
        let stat = node.stat();
        let s = &want["stat"];
        let field = |name: &str| {
            s[name]
                .as_i64()
                .unwrap_or_else(|| panic!("{path}: stat.{name}"))
        };
        let got = [
            ("czxid", stat.czxid.0 as i64),
            ("mzxid", stat.mzxid.0 as i64),
            ("pzxid", stat.pzxid.0 as i64),
            ("version", i64::from(stat.version)),
            ("cversion", i64::from(stat.cversion)),
            ("aversion", i64::from(stat.aversion)),
            ("ephemeralOwner", stat.ephemeral_owner),
            ("dataLength", i64::from(stat.data_length)),
            ("numChildren", i64::from(stat.num_children)),
        ];
        for (name, value) in got {
            assert_eq!(value, field(name), "{path}: stat.{name}");
        }
        let children: Vec<&str> = node.children.iter().map(String::as_str).collect();
        let want_children: Vec<&str> = want["children"]
            .as_array()
            .expect("children")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(children, want_children, "{path}: children");
        let data = String::from_utf8_lossy(node.data.as_deref().unwrap_or_default()).to_string();
        assert_eq!(Some(data.as_str()), want["data"].as_str(), "{path}: data");
        checked += 1;
    }
    assert_eq!(
        tree.paths()
            .filter(|p| !p.starts_with("/zookeeper/"))
            .count(),
        checked,
        "no extra nodes"
    );
    checked
}

#[test]
fn the_reference_model_reproduces_a_real_zookeeper_tree() {
    let dir = corpus();
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir.join("dumps"))
        .expect("dumps/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("log."))
        })
        .collect();
    logs.sort();
    let mut tree = ReferenceTree::new(ReferenceConfig {
        extended_types: true,
        system_nodes: true,
    });
    let (mut records, mut facts) = (0, 0);
    for log in &logs {
        let bytes = std::fs::read(log).expect("readable dump");
        let text = String::from_utf8_lossy(&bytes).to_string();
        for r in read_dump(&text) {
            let raw = if r.kind == "multi" {
                raw_multi(&bytes, r.zxid)
            } else {
                Vec::new()
            };
            facts += replay(&mut tree, &r, &raw);
            records += 1;
        }
    }
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected_tree.json")).expect("expected_tree.json"),
    )
    .expect("json");
    assert_eq!(
        format!("{}", tree.last_zxid()),
        expected["last_zxid_hex"].as_str().expect("hex")
    );
    let nodes = check_tree(&tree, &expected);
    assert!(
        records > 380 && facts > 380 && nodes > 150,
        "{records} records, {facts} facts, {nodes} nodes"
    );
}
