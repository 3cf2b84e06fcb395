//! Rendering outcomes exactly in the op-scripts README shape: data as `{utf8}`, `{b64}` or
//! `{len, sha256}`, Stats with zxids relative to the script's base and owners named by session,
//! ACLs as `[perms, scheme, id]`.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use zabsim_protocol::acl::Acl;
use zabsim_protocol::stat::Stat;
use zabsim_protocol::store::auth::base64;
use zabsim_protocol::types::{SessionId, Zxid};

/// What rendering needs: the base zxid and the session names.
#[derive(Debug)]
pub struct Render<'a> {
    /// `base_zxid_abs`.
    pub base: Zxid,
    /// Session id → script name.
    pub names: &'a BTreeMap<SessionId, String>,
}

impl Render<'_> {
    /// A zxid relative to the base.
    pub fn zxid(&self, z: Zxid) -> Value {
        json!(z.as_i64().wrapping_sub(self.base.as_i64()))
    }

    /// A client-visible Stat without times.
    pub fn stat(&self, s: &Stat) -> Value {
        let owner = match s.ephemeral_owner {
            0 => json!(0),
            o => match self.names.get(&SessionId(o)) {
                Some(name) => json!(format!("session:{name}")),
                None => json!(format!("{:016x}", o)),
            },
        };
        json!({
            "czxid": self.zxid(s.czxid),
            "mzxid": self.zxid(s.mzxid),
            "pzxid": self.zxid(s.pzxid),
            "version": s.version,
            "cversion": s.cversion,
            "aversion": s.aversion,
            "dataLength": s.data_length,
            "numChildren": s.num_children,
            "ephemeralOwner": owner,
        })
    }
}

/// Data as the README renders it.
pub fn data(d: &Option<Vec<u8>>) -> Value {
    let Some(bytes) = d else { return Value::Null };
    if bytes.len() > 256 {
        return json!({"len": bytes.len(), "sha256": hex(&sha256(bytes))});
    }
    match std::str::from_utf8(bytes) {
        Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => {
            json!({"utf8": s})
        }
        _ => json!({"b64": base64(bytes)}),
    }
}

/// An ACL list as `[[perms, scheme, id], ...]`.
pub fn acl(list: &[Acl]) -> Value {
    Value::Array(
        list.iter()
            .map(|a| json!([a.perms, a.id.scheme, a.id.id]))
            .collect(),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (FIPS 180-4).
pub fn sha256(message: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&((message.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in padded.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (hv, x) in h.iter_mut().zip(v) {
            *hv = hv.wrapping_add(x);
        }
    }
    let mut out = [0u8; 32];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn data_rendering() {
        assert_eq!(data(&None), Value::Null);
        assert_eq!(data(&Some(b"v1".to_vec())), json!({"utf8": "v1"}));
        assert_eq!(data(&Some(vec![0, 255])), json!({"b64": "AP8="}));
        assert_eq!(data(&Some(vec![b'x'; 300]))["len"], json!(300));
    }
}
