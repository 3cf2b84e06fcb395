//! Authentication and ACL checks: `ZooKeeperServer.checkACL`, `PrepRequestProcessor.fixupACL`,
//! and the `digest` and `ip` providers (`DigestAuthenticationProvider`: the id is
//! `user:base64(sha1("user:password"))`).

use crate::acl::{Acl, Id};
use crate::error_code::ErrorCode;

/// `checkACL`: `Ok` when some entry grants `perm` to one of `auth` (or to `world:anyone`), or
/// when the ACL is empty, or when `auth` holds a `super` id.
pub fn check_acl(acl: &[Acl], perm: i32, auth: &[Id]) -> Result<(), ErrorCode> {
    if acl.is_empty() || auth.iter().any(|a| a.scheme == "super") {
        return Ok(());
    }
    for entry in acl {
        if entry.perms & perm == 0 {
            continue;
        }
        if entry.id.scheme == "world" && entry.id.id == "anyone" {
            return Ok(());
        }
        if !is_known_scheme(&entry.id.scheme) {
            continue;
        }
        if auth
            .iter()
            .any(|a| a.scheme == entry.id.scheme && provider_matches(a, &entry.id))
        {
            return Ok(());
        }
    }
    Err(ErrorCode::NOAUTH)
}

fn is_known_scheme(scheme: &str) -> bool {
    matches!(scheme, "digest" | "ip")
}

fn provider_matches(auth: &Id, acl_id: &Id) -> bool {
    match acl_id.scheme.as_str() {
        "ip" => ip_matches(&auth.id, &acl_id.id),
        _ => auth.id == acl_id.id,
    }
}

/// `fixupACL`: removes duplicates, rejects an empty list and invalid ids, expands `auth:` to
/// the requester's authenticated ids (digest only: `ip` ids are not "authenticated").
pub fn fixup_acl(acl: &[Acl], auth: &[Id]) -> Result<Vec<Acl>, ErrorCode> {
    let mut unique: Vec<Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        if !unique.contains(a) {
            unique.push(a.clone());
        }
    }
    if unique.is_empty() {
        return Err(ErrorCode::INVALIDACL);
    }
    let mut out = Vec::with_capacity(unique.len());
    for a in unique {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            out.push(a);
        } else if a.id.scheme == "auth" {
            let authenticated: Vec<&Id> = auth.iter().filter(|i| i.scheme == "digest").collect();
            if authenticated.is_empty() {
                return Err(ErrorCode::INVALIDACL);
            }
            for id in authenticated {
                out.push(Acl {
                    perms: a.perms,
                    id: id.clone(),
                });
            }
        } else if is_valid_id(&a.id) {
            out.push(a);
        } else {
            return Err(ErrorCode::INVALIDACL);
        }
    }
    Ok(out)
}

/// `ServerAuthenticationProvider.isValid` of the registered providers.
fn is_valid_id(id: &Id) -> bool {
    match id.scheme.as_str() {
        // Java's `split(":")` drops trailing empty strings: "a:" has one part.
        "digest" => {
            let parts: Vec<&str> = id.id.split(':').collect();
            let mut n = parts.len();
            while n > 0 && parts[n - 1].is_empty() {
                n -= 1;
            }
            n == 2
        }
        "ip" => parse_ip_acl(&id.id).is_some(),
        _ => false,
    }
}

fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut out = [0u8; 4];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = p.parse().ok()?;
    }
    Some(out)
}

fn parse_ip_acl(s: &str) -> Option<([u8; 4], u32)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()?),
        None => (s, 32),
    };
    let addr = parse_ipv4(addr)?;
    (bits <= 32).then_some((addr, bits))
}

fn ip_matches(client: &str, acl: &str) -> bool {
    let (Some(c), Some((a, bits))) = (parse_ipv4(client), parse_ip_acl(acl)) else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from_be_bytes(c) & mask == u32::from_be_bytes(a) & mask
}

/// `handleAuthentication` for an `addAuth(scheme, auth)` packet from a client at `client_ip`:
/// the id to add to the connection's auth info, or `AUTHFAILED` for a scheme with no provider.
/// `digest` yields `user:base64(sha1(auth))`; `ip` ignores the credentials and yields the
/// client's address (`IPAuthenticationProvider`).
pub fn authenticate(scheme: &str, auth: &[u8], client_ip: &str) -> Result<Id, ErrorCode> {
    match scheme {
        "digest" => Ok(Id {
            scheme: "digest".into(),
            id: generate_digest(&String::from_utf8_lossy(auth)),
        }),
        "ip" => Ok(Id {
            scheme: "ip".into(),
            id: client_ip.to_string(),
        }),
        _ => Err(ErrorCode::AUTHFAILED),
    }
}

/// `DigestAuthenticationProvider.generateDigest("user:password")` = `user:base64(sha1(...))`.
pub fn generate_digest(id_password: &str) -> String {
    let user = id_password.split(':').next().unwrap_or("");
    format!("{user}:{}", base64(&sha1(id_password.as_bytes())))
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-1 (FIPS 180-4).
pub fn sha1(message: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&((message.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in padded.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (hv, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hv = hv.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::perms;

    #[test]
    fn sha1_and_base64_known_answers() {
        assert_eq!(base64(&sha1(b"abc")), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        // ZooKeeper's documented example: super:test.
        assert_eq!(
            generate_digest("super:test"),
            "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        );
    }

    #[test]
    fn acl_checks() {
        let digest = authenticate("digest", b"u:p", "127.0.0.1").expect("digest scheme");
        let acl = vec![Acl {
            perms: perms::READ,
            id: digest.clone(),
        }];
        assert_eq!(check_acl(&acl, perms::READ, &[]), Err(ErrorCode::NOAUTH));
        assert_eq!(
            check_acl(&acl, perms::READ, std::slice::from_ref(&digest)),
            Ok(())
        );
        assert_eq!(
            check_acl(&acl, perms::WRITE, &[digest]),
            Err(ErrorCode::NOAUTH)
        );
        assert_eq!(
            authenticate("nope", b"x", "127.0.0.1"),
            Err(ErrorCode::AUTHFAILED)
        );
        assert_eq!(
            fixup_acl(&Acl::creator_all(), &[]),
            Err(ErrorCode::INVALIDACL)
        );
        assert_eq!(fixup_acl(&[], &[]), Err(ErrorCode::INVALIDACL));
        let bad = Acl {
            perms: 1,
            id: Id {
                scheme: "world".into(),
                id: "x".into(),
            },
        };
        assert_eq!(fixup_acl(&[bad], &[]), Err(ErrorCode::INVALIDACL));
        let ip = Acl {
            perms: 1,
            id: Id {
                scheme: "ip".into(),
                id: "127.0.0.0/8".into(),
            },
        };
        let client = Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into(),
        };
        assert_eq!(check_acl(&[ip], perms::READ, &[client]), Ok(()));
    }
}
