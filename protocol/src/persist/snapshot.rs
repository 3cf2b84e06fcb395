//! Snapshot files (`FileSnap`): `snapshot.<hex zxid>` holding, through an Adler32-checked stream,
//! `FileHeader{"ZKSN"; 2; dbid -1}`, the sessions (`int count`, `{long id; int timeout}`), the ACL
//! cache (`int count`, `{long ref; vector<ACL>}`), the nodes in pre-order (`ustring path` — `""`
//! for the root — then `DataNode{buffer data; long acl; StatPersisted stat}`) ended by the path
//! `"/"`, a seal (`long` checksum of every byte before it, then the string `"/"`), and, when
//! digests are on, `ZxidDigest{long zxid; int version; long digest}` with a second seal, and
//! optionally `long lastProcessedZxid` with a third (ZooKeeper 3.9).

use super::adler32::adler32;
use super::error::{JuteError, PersistError};
use super::jute::{Reader, Writer};
use super::txn_log::{FileHeader, VERSION};
use crate::snapshot_image::{SnapshotImage, SnapshotNode, ZxidDigest};
use crate::stat::StatPersisted;
use crate::types::{SessionId, Zxid};
use std::collections::{BTreeMap, BTreeSet};

pub use super::names::snapshot_file_name;

/// `FileSnap.SNAP_MAGIC`: `"ZKSN"`.
pub const SNAP_MAGIC: i32 = i32::from_be_bytes(*b"ZKSN");
/// The dbid `FileSnap` writes.
pub const SNAP_DBID: i64 = -1;

/// Writes an image as `FileSnap.serialize` does (sessions, ACL cache and nodes in the image's
/// order; the digest and `lastProcessedZxid` sections when present, each sealed).
pub fn encode_snapshot(image: &SnapshotImage) -> Vec<u8> {
    let mut w = Writer::new();
    w.int(SNAP_MAGIC);
    w.int(VERSION);
    w.long(SNAP_DBID);
    w.int(count(image.sessions.len()));
    for (id, timeout) in &image.sessions {
        w.long(id.0);
        w.int(*timeout);
    }
    w.int(count(image.acl_cache.len()));
    for (reference, acls) in &image.acl_cache {
        w.long(*reference);
        w.acls(acls);
    }
    for node in &image.nodes {
        w.string(&node.path);
        w.buffer(node.data.as_deref());
        w.long(node.acl_ref);
        write_stat(&mut w, &node.stat);
    }
    w.string("/");
    seal(&mut w);
    if let Some(d) = image.digest {
        w.long(d.zxid.as_i64());
        w.int(d.digest_version);
        if d.digest_version < 2 {
            w.string(&format!("{:x}", d.digest));
        } else {
            w.long(d.digest);
        }
        seal(&mut w);
    }
    if let Some(z) = image.last_processed_zxid {
        assert!(
            image.digest.is_some(),
            "lastProcessedZxid follows the digest section"
        );
        w.long(z.as_i64());
        seal(&mut w);
    }
    w.bytes
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or_else(|_| panic!("snapshot count {n} does not fit an int"))
}

fn seal(w: &mut Writer) {
    let sum = adler32(&w.bytes);
    w.long(sum as i64);
    w.string("/");
}

fn write_stat(w: &mut Writer, s: &StatPersisted) {
    w.long(s.czxid.as_i64());
    w.long(s.mzxid.as_i64());
    w.long(s.ctime);
    w.long(s.mtime);
    w.int(s.version);
    w.int(s.cversion);
    w.int(s.aversion);
    w.long(s.ephemeral_owner);
    w.long(s.pzxid.as_i64());
}

fn read_stat(r: &mut Reader<'_>) -> Result<StatPersisted, JuteError> {
    Ok(StatPersisted {
        czxid: Zxid::from_i64(r.long("czxid")?),
        mzxid: Zxid::from_i64(r.long("mzxid")?),
        ctime: r.long("ctime")?,
        mtime: r.long("mtime")?,
        version: r.int("version")?,
        cversion: r.int("cversion")?,
        aversion: r.int("aversion")?,
        ephemeral_owner: r.long("ephemeralOwner")?,
        pzxid: Zxid::from_i64(r.long("pzxid")?),
    })
}

/// `SnapStream.isValidSnapshot` for an uncompressed file: at least 10 bytes, ending with the
/// int 1 and `'/'` (the end of a seal). Used to *select* snapshots; full checks happen on decode.
pub fn looks_complete(bytes: &[u8]) -> bool {
    bytes.len() >= 10 && bytes.ends_with(&[0, 0, 0, 1, b'/'])
}

/// A decoded snapshot file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotFile {
    /// The file header.
    pub header: FileHeader,
    /// The content.
    pub image: SnapshotImage,
}

/// Decodes a snapshot (`name` is used in errors and to refuse compressed files).
pub fn decode_snapshot(name: &str, bytes: &[u8]) -> Result<SnapshotImage, PersistError> {
    decode_snapshot_file(name, bytes).map(|f| f.image)
}

/// Decodes a snapshot with its header: every seal checked, every node's parent before it.
pub fn decode_snapshot_file(name: &str, bytes: &[u8]) -> Result<SnapshotFile, PersistError> {
    if name.ends_with(".gz") || name.ends_with(".snappy") {
        return Err(PersistError::Unsupported {
            file: name.to_string(),
            what: "compressed snapshots (gzip/snappy)".to_string(),
        });
    }
    let mut r = Reader::new(bytes);
    let header = read_file_header(&mut r).map_err(|e| e.in_file(name, 0))?;
    if header.magic != SNAP_MAGIC {
        return Err(PersistError::Malformed {
            file: name.to_string(),
            offset: 0,
            field: "magic",
            problem: format!(
                "mismatching magic header {:#x} (expected ZKSN)",
                header.magic
            ),
        });
    }
    let mut image = read_body(&mut r).map_err(|e| e.in_file(name, 0))?;
    check_seal(name, &mut r)?;
    if r.remaining() > 0 {
        image.digest = Some(read_digest(&mut r).map_err(|e| e.in_file(name, 0))?);
        check_seal(name, &mut r)?;
    }
    if r.remaining() > 0 {
        let z = r.long("lastZxid").map_err(|e| e.in_file(name, 0))?;
        image.last_processed_zxid = Some(Zxid::from_i64(z));
        check_seal(name, &mut r)?;
    }
    if r.remaining() > 0 {
        return Err(PersistError::Malformed {
            file: name.to_string(),
            offset: r.offset(),
            field: "seal",
            problem: format!("{} unexpected bytes after the last seal", r.remaining()),
        });
    }
    Ok(SnapshotFile { header, image })
}

fn read_file_header(r: &mut Reader<'_>) -> Result<FileHeader, JuteError> {
    Ok(FileHeader {
        magic: r.int("magic")?,
        version: r.int("version")?,
        dbid: r.long("dbid")?,
    })
}

fn read_body(r: &mut Reader<'_>) -> Result<SnapshotImage, JuteError> {
    let n = r.count("count")?;
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        sessions.push((SessionId(r.long("id")?), r.int("timeout")?));
    }
    let n = r.count("map")?;
    let mut acl_cache = BTreeMap::new();
    for _ in 0..n {
        let at = r.offset();
        let reference = r.long("long")?;
        if acl_cache.insert(reference, r.acls("acls")?).is_some() {
            let text = format!("ACL reference {reference} appears twice");
            return Err(Reader::invalid_at(at, "long", text));
        }
    }
    Ok(SnapshotImage {
        sessions,
        acl_cache,
        nodes: read_nodes(r)?,
        digest: None,
        last_processed_zxid: None,
    })
}

/// The nodes up to the `"/"` terminator; a node whose parent has not come before it is an error
/// ("Invalid Datatree, unable to find parent").
fn read_nodes(r: &mut Reader<'_>) -> Result<Vec<SnapshotNode>, JuteError> {
    let mut nodes = Vec::new();
    let mut seen = BTreeSet::new();
    loop {
        let at = r.offset();
        let path = r.string("path")?;
        if path == "/" {
            return Ok(nodes);
        }
        match path.rfind('/') {
            None if !seen.is_empty() => {
                return Err(Reader::invalid_at(
                    at,
                    "path",
                    format!("second root {path:?}"),
                ))
            }
            Some(i) if !seen.contains(&path[..i]) => {
                let text = format!("Invalid Datatree, unable to find parent of path {path}");
                return Err(Reader::invalid_at(at, "path", text));
            }
            _ => {}
        }
        seen.insert(path.clone());
        let data = r.buffer("data")?;
        let acl_ref = r.long("acl")?;
        let stat = read_stat(r)?;
        nodes.push(SnapshotNode {
            path,
            data,
            acl_ref,
            stat,
        });
    }
}

fn read_digest(r: &mut Reader<'_>) -> Result<ZxidDigest, JuteError> {
    let zxid = Zxid::from_i64(r.long("zxid")?);
    let digest_version = r.int("digestVersion")?;
    let digest = if digest_version < 2 {
        let at = r.offset();
        let text = r.string("digest")?;
        u64::from_str_radix(&text, 16)
            .map(|v| v as i64)
            .map_err(|_| Reader::invalid_at(at, "digest", format!("not hex: {text:?}")))?
    } else {
        r.long("digest")?
    };
    Ok(ZxidDigest {
        zxid,
        digest_version,
        digest,
    })
}

/// `SnapStream.checkSealIntegrity`: the stored checksum must equal the Adler32 of every byte
/// before it; then the string `"/"`.
fn check_seal(name: &str, r: &mut Reader<'_>) -> Result<(), PersistError> {
    let at = r.offset();
    let computed = adler32(r.consumed());
    let stored = r.long("val").map_err(|e| e.in_file(name, 0))? as u64;
    let slash = r.string("path").map_err(|e| e.in_file(name, 0))?;
    if stored != computed {
        return Err(PersistError::SealMismatch {
            file: name.to_string(),
            offset: at,
            stored,
            computed,
        });
    }
    if slash != "/" {
        return Err(PersistError::Malformed {
            file: name.to_string(),
            offset: at + 8,
            field: "path",
            problem: format!("seal ends with {slash:?} instead of \"/\""),
        });
    }
    Ok(())
}
