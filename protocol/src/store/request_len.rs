//! The jute-serialised length of a request packet (RequestHeader + record), to apply the
//! server's `jute.maxbuffer` check (`NIOServerCnxn.readLength`: a longer packet closes the
//! connection without a reply). The server compares it with `StoreConfig::jute_max_buffer`.

use crate::acl::Acl;
use crate::op_code::OpCode;
use crate::request::{MultiOp, Request};

fn string(s: &str) -> usize {
    4 + s.len()
}

fn buffer(b: &Option<Vec<u8>>) -> usize {
    4 + b.as_ref().map_or(0, Vec::len)
}

fn acl_vec(acl: &[Acl]) -> usize {
    4 + acl
        .iter()
        .map(|a| 4 + string(&a.id.scheme) + string(&a.id.id))
        .sum::<usize>()
}

/// `MultiHeader{int type; boolean done; int err}`.
const MULTI_HEADER: usize = 9;

fn multi_op(op: &MultiOp) -> usize {
    MULTI_HEADER
        + match op {
            MultiOp::Create {
                path, data, acl, ..
            }
            | MultiOp::Create2 {
                path, data, acl, ..
            } => string(path) + buffer(data) + acl_vec(acl) + 4,
            MultiOp::Delete { path, .. } | MultiOp::Check { path, .. } => string(path) + 4,
            MultiOp::SetData { path, data, .. } => string(path) + buffer(data) + 4,
            MultiOp::GetData { path } | MultiOp::GetChildren { path } => string(path) + 1,
        }
}

/// Bytes after the 4-byte length prefix.
pub fn request_len(r: &Request) -> usize {
    let header = 8;
    header
        + match r {
            Request::Create {
                path, data, acl, ..
            } => {
                let ttl_len = if r.op_code() == OpCode::CreateTtl {
                    8
                } else {
                    0
                };
                string(path) + buffer(data) + acl_vec(acl) + 4 + ttl_len
            }
            Request::SetData { path, data, .. } => string(path) + buffer(data) + 4,
            Request::SetAcl { path, acl, .. } => string(path) + acl_vec(acl) + 4,
            Request::Multi { ops } | Request::MultiRead { ops } => {
                ops.iter().map(multi_op).sum::<usize>() + MULTI_HEADER
            }
            Request::AddAuth { scheme, auth } => 4 + string(scheme) + 4 + auth.len(),
            Request::Delete { path, .. } => string(path) + 4,
            Request::Exists { path, .. }
            | Request::GetData { path, .. }
            | Request::GetChildren { path, .. } => string(path) + 1,
            Request::GetAcl { path }
            | Request::Sync { path }
            | Request::GetAllChildrenNumber { path } => string(path),
            Request::GetEphemerals { prefix_path } => string(prefix_path),
            Request::AddWatch { path, .. }
            | Request::RemoveWatches { path, .. }
            | Request::CheckWatches { path, .. } => string(path) + 4,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_length_counts_every_field() {
        let r = Request::Create {
            path: "/a".into(),
            data: Some(vec![0; 10]),
            acl: Acl::open_unsafe(),
            flags: 0,
            ttl: -1,
            with_stat: false,
        };
        // header 8 + path 4+2 + data 4+10 + acl 4+(4+4+5+4+6) + flags 4
        assert_eq!(request_len(&r), 8 + 6 + 14 + 27 + 4);
    }
}
