//! The store against a real ZooKeeper 3.8.0 ensemble: replay every txn of the corpus logs
//! (`../shared/corpora/zk-datadir/version-2`, recorded from a real 3-server ensemble with
//! extended types on) through `ZkDatabase::apply`, check our tree digest against the
//! `TxnDigest` ZooKeeper logged after every txn (DigestCalculator v2), and check the final tree
//! against `expected_tree.json` (what clients saw: data, children, every Stat field but times).
//!
//! The minimal jute log reader below exists only for this test (the persistence module owns the
//! real codec); it fails loudly on anything it does not understand.

use std::collections::BTreeMap;

use serde_json::Value;
use zabsim_protocol::acl::{Acl, Id};
use zabsim_protocol::op_code::OpCode;
use zabsim_protocol::store::{StoreConfig, ZkDatabase};
use zabsim_protocol::txn::{Txn, TxnDigest, TxnEntry, TxnHeader};
use zabsim_protocol::types::{SessionId, Xid, Zxid};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpora/zk-datadir"
);

struct Reader<'a> {
    b: &'a [u8],
    o: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let s = &self.b[self.o..self.o + n];
        self.o += n;
        s
    }
    fn int(&mut self) -> i32 {
        i32::from_be_bytes(self.take(4).try_into().expect("4 bytes"))
    }
    fn long(&mut self) -> i64 {
        i64::from_be_bytes(self.take(8).try_into().expect("8 bytes"))
    }
    fn boolean(&mut self) -> bool {
        self.take(1)[0] != 0
    }
    fn buffer(&mut self) -> Option<Vec<u8>> {
        let n = self.int();
        (n >= 0).then(|| self.take(n as usize).to_vec())
    }
    fn string(&mut self) -> String {
        String::from_utf8(self.buffer().unwrap_or_default()).expect("utf8")
    }
    fn acls(&mut self) -> Vec<Acl> {
        let n = self.int();
        (0..n.max(0))
            .map(|_| {
                let perms = self.int();
                let scheme = self.string();
                let id = self.string();
                Acl {
                    perms,
                    id: Id { scheme, id },
                }
            })
            .collect()
    }
    fn txn(&mut self, t: OpCode) -> Txn {
        match t {
            OpCode::Create | OpCode::Create2 => Txn::Create {
                path: self.string(),
                data: self.buffer(),
                acl: self.acls(),
                ephemeral: self.boolean(),
                parent_cversion: self.int(),
            },
            OpCode::CreateContainer => Txn::CreateContainer {
                path: self.string(),
                data: self.buffer(),
                acl: self.acls(),
                parent_cversion: self.int(),
            },
            OpCode::CreateTtl => Txn::CreateTtl {
                path: self.string(),
                data: self.buffer(),
                acl: self.acls(),
                parent_cversion: self.int(),
                ttl: self.long(),
            },
            OpCode::Delete | OpCode::DeleteContainer => Txn::Delete {
                path: self.string(),
            },
            OpCode::SetData => Txn::SetData {
                path: self.string(),
                data: self.buffer(),
                version: self.int(),
            },
            OpCode::SetAcl => Txn::SetAcl {
                path: self.string(),
                acl: self.acls(),
                version: self.int(),
            },
            OpCode::Check => Txn::CheckVersion {
                path: self.string(),
                version: self.int(),
            },
            OpCode::CreateSession => Txn::CreateSession {
                timeout_ms: self.int(),
            },
            OpCode::CloseSession => {
                let n = self.int();
                Txn::CloseSession {
                    paths_to_delete: (0..n.max(0)).map(|_| self.string()).collect(),
                }
            }
            OpCode::Error => Txn::Error { err: self.int() },
            OpCode::Multi => {
                let n = self.int();
                let txns = (0..n)
                    .map(|_| {
                        let t = OpCode::from_code(self.int()).expect("sub-txn type");
                        let data = self.buffer().expect("sub-txn body");
                        (t, Reader { b: &data, o: 0 }.txn(t))
                    })
                    .collect();
                Txn::Multi { txns }
            }
            other => panic!("unexpected txn type {other:?}"),
        }
    }
}

/// Every record of one log file (header, then crc/len/payload/0x42 until a zero length).
fn read_log(bytes: &[u8]) -> Vec<TxnEntry> {
    assert_eq!(&bytes[..4], b"ZKLG");
    let mut r = Reader { b: bytes, o: 16 };
    let mut out = Vec::new();
    while r.o + 12 <= bytes.len() {
        let _crc = r.long();
        let len = r.int();
        if len <= 0 || r.o + len as usize + 1 > bytes.len() {
            break;
        }
        let payload = r.take(len as usize).to_vec();
        assert_eq!(r.take(1), [0x42]);
        let mut p = Reader { b: &payload, o: 0 };
        let header = TxnHeader {
            client_id: SessionId(p.long()),
            cxid: Xid(p.int()),
            zxid: Zxid::from_i64(p.long()),
            time: p.long(),
            txn_type: OpCode::from_code(p.int()).expect("txn type"),
        };
        let txn = p.txn(header.txn_type);
        let digest = (p.o + 12 <= payload.len()).then(|| TxnDigest {
            version: p.int(),
            tree_digest: p.long(),
        });
        out.push(TxnEntry {
            header,
            txn,
            digest,
        });
    }
    out
}

/// A snapshot file's sessions, ACL map and nodes (path → ACL ref, StatPersisted fields) and
/// its digest section.
struct RealSnapshot {
    sessions: Vec<(i64, i32)>,
    acls: BTreeMap<i64, Vec<Acl>>,
    nodes: BTreeMap<String, (i64, Vec<i64>)>,
    digest: (i64, i32, i64),
}

fn read_snapshot(bytes: &[u8]) -> RealSnapshot {
    assert_eq!(&bytes[..4], b"ZKSN");
    let mut r = Reader { b: bytes, o: 16 };
    let n = r.int();
    let sessions = (0..n).map(|_| (r.long(), r.int())).collect();
    let m = r.int();
    let acls = (0..m).map(|_| (r.long(), r.acls())).collect();
    let mut nodes = BTreeMap::new();
    loop {
        let path = r.string();
        if path == "/" {
            break;
        }
        let _data = r.buffer();
        let acl_ref = r.long();
        let stat = vec![
            r.long(),
            r.long(),
            r.long(),
            r.long(),
            i64::from(r.int()),
            i64::from(r.int()),
            i64::from(r.int()),
            r.long(),
            r.long(),
        ];
        nodes.insert(path, (acl_ref, stat));
    }
    let _checksum = r.long();
    assert_eq!(r.string(), "/");
    let digest = (r.long(), r.int(), r.long());
    RealSnapshot {
        sessions,
        acls,
        nodes,
        digest,
    }
}

/// Replays the logs up to the last snapshot's zxid and compares our snapshot image with the
/// real snapshot file: sessions, the ACL cache (references 1, 2, 3 in first-use order, the
/// system nodes on -1), every node's ACL reference and persisted Stat, and the zxid digest.
#[test]
fn snapshot_image_matches_real_snapshot() {
    let snap_zxid = Zxid(0x1_0000_017d);
    let real = read_snapshot(
        &std::fs::read(format!("{DIR}/version-2/snapshot.10000017d")).expect("snapshot"),
    );
    let mut config = StoreConfig::new(2, 2000);
    config.extended_types_enabled = true;
    let mut db = ZkDatabase::new(config, 0);
    let mut names: Vec<String> = std::fs::read_dir(format!("{DIR}/version-2"))
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .filter(|n| n.starts_with("log."))
        .collect();
    names.sort_by_key(|n| u64::from_str_radix(&n[4..], 16).expect("hex zxid"));
    for name in &names {
        let bytes = std::fs::read(format!("{DIR}/version-2/{name}")).expect("log");
        for e in read_log(&bytes) {
            if e.header.zxid > db.last_processed_zxid() && e.header.zxid <= snap_zxid {
                let _ = db.apply(&e);
            }
        }
    }
    assert_eq!(db.last_processed_zxid(), snap_zxid);
    let image = db.to_snapshot_image();
    let sessions: Vec<(i64, i32)> = image.sessions.iter().map(|(s, t)| (s.0, *t)).collect();
    assert_eq!(sessions, real.sessions);
    assert_eq!(image.acl_cache, real.acls);
    assert_eq!(image.nodes.len(), real.nodes.len());
    for n in &image.nodes {
        let (acl_ref, stat) = real
            .nodes
            .get(&n.path)
            .unwrap_or_else(|| panic!("{}", n.path));
        if n.path == "/zookeeper/config" {
            continue; // written outside the log (the ensemble's config)
        }
        assert_eq!(n.acl_ref, *acl_ref, "acl ref of {}", n.path);
        let s = &n.stat;
        let ours = vec![
            s.czxid.as_i64(),
            s.mzxid.as_i64(),
            s.ctime,
            s.mtime,
            i64::from(s.version),
            i64::from(s.cversion),
            i64::from(s.aversion),
            s.ephemeral_owner,
            s.pzxid.as_i64(),
        ];
        assert_eq!(&ours, stat, "stat of {}", n.path);
    }
    let d = image.digest.expect("digest");
    assert_eq!((d.zxid.as_i64(), d.digest_version, d.digest), real.digest);
}

fn corpus_available() -> bool {
    std::path::Path::new(DIR).exists()
}

#[test]
fn replaying_real_logs_matches_zookeeper_digests_and_tree() {
    if !corpus_available() {
        panic!("the corpus {DIR} is missing");
    }
    let mut names: Vec<String> = std::fs::read_dir(format!("{DIR}/version-2"))
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .filter(|n| n.starts_with("log."))
        .collect();
    names.sort_by_key(|n| u64::from_str_radix(&n[4..], 16).expect("hex zxid"));
    let mut config = StoreConfig::new(2, 2000);
    config.extended_types_enabled = true;
    let mut db = ZkDatabase::new(config, 0);
    let mut checked = 0;
    for name in &names {
        let bytes = std::fs::read(format!("{DIR}/version-2/{name}")).expect("log");
        for e in read_log(&bytes) {
            if e.header.zxid <= db.last_processed_zxid() {
                continue;
            }
            let _ = db.apply(&e);
            if let Some(d) = e.digest {
                assert_eq!(d.version, 2);
                assert_eq!(
                    d.tree_digest,
                    db.digest(),
                    "digest after {} ({:?})",
                    e.header.zxid,
                    e.header.txn_type
                );
                checked += 1;
            }
        }
    }
    assert_eq!(db.last_processed_zxid(), Zxid(0x1_0000_018b));
    assert!(checked > 350, "only {checked} digests checked");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DIR}/expected_tree.json")).expect("json"),
    )
    .expect("parse");
    let tree = expected["tree"].as_object().expect("tree");
    let ours: BTreeMap<&str, _> = db.tree().nodes().map(|(p, n)| (p.as_str(), n)).collect();
    assert_eq!(ours.len(), tree.len());
    for (path, want) in tree {
        let node = ours
            .get(path.as_str())
            .unwrap_or_else(|| panic!("missing {path}"));
        let children: Vec<&String> = node.children.iter().collect();
        let want_children: Vec<String> =
            serde_json::from_value(want["children"].clone()).expect("children");
        assert_eq!(
            children,
            want_children.iter().collect::<Vec<_>>(),
            "children of {path}"
        );
        if path == "/zookeeper/config" {
            continue; // its data is the ensemble's config, written outside the txn log
        }
        let stat = &node.stat;
        let s = &want["stat"];
        let visible = db.tree().stat_of(node);
        assert_eq!(
            s["czxid"].as_i64(),
            Some(stat.czxid.as_i64()),
            "czxid of {path}"
        );
        assert_eq!(
            s["mzxid"].as_i64(),
            Some(stat.mzxid.as_i64()),
            "mzxid of {path}"
        );
        assert_eq!(
            s["pzxid"].as_i64(),
            Some(stat.pzxid.as_i64()),
            "pzxid of {path}"
        );
        assert_eq!(
            s["version"].as_i64(),
            Some(i64::from(stat.version)),
            "version of {path}"
        );
        assert_eq!(
            s["cversion"].as_i64(),
            Some(i64::from(visible.cversion)),
            "cversion of {path}"
        );
        assert_eq!(
            s["aversion"].as_i64(),
            Some(i64::from(stat.aversion)),
            "aversion of {path}"
        );
        assert_eq!(
            s["ephemeralOwner"].as_i64(),
            Some(visible.ephemeral_owner),
            "owner of {path}"
        );
        assert_eq!(
            s["dataLength"].as_i64(),
            Some(i64::from(visible.data_length)),
            "dataLength of {path}"
        );
        assert_eq!(
            s["numChildren"].as_i64(),
            Some(i64::from(visible.num_children)),
            "numChildren of {path}"
        );
    }
}
