//! ACL rules as far as this model can decide them: `world:anyone` entries exactly; any decision
//! that depends on authenticated identities (digest, ip, sasl, x509, `auth`) is left undecided
//! rather than guessed.

use super::{Fail, Judged};
use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;

/// Whether an ACL entry is `world:anyone`.
fn is_world_anyone(acl: &Acl) -> bool {
    acl.id.scheme == "world" && acl.id.id == "anyone"
}

/// `ZooKeeperServer.checkACL` for a request needing `perm` on a node with `acl`.
pub fn check(acl: &[Acl], perm: i32) -> Judged<()> {
    if acl.is_empty()
        || acl
            .iter()
            .any(|a| is_world_anyone(a) && a.perms & perm != 0)
    {
        return Ok(());
    }
    if acl
        .iter()
        .any(|a| !is_world_anyone(a) && a.perms & perm != 0)
    {
        return Err(Fail::Undecided(
            "an ACL entry with an authenticated identity".into(),
        ));
    }
    Err(Fail::Code(ErrorCode::NOAUTH))
}

/// `PrepRequestProcessor.fixupACL`: de-duplicate, reject an empty list, keep `world:anyone`.
pub fn fixup(acl: &[Acl]) -> Judged<Vec<Acl>> {
    let mut unique: Vec<Acl> = Vec::new();
    for a in acl {
        if !unique.contains(a) {
            unique.push(a.clone());
        }
    }
    if unique.is_empty() {
        return Err(Fail::Code(ErrorCode::INVALIDACL));
    }
    for a in &unique {
        if is_world_anyone(a) {
            continue;
        }
        return match a.id.scheme.as_str() {
            "digest" | "ip" | "sasl" | "x509" | "auth" => Err(Fail::Undecided(format!(
                "an ACL with scheme {}",
                a.id.scheme
            ))),
            _ => Err(Fail::Code(ErrorCode::INVALIDACL)),
        };
    }
    Ok(unique)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zabsim_protocol::acl::perms;

    #[test]
    fn world_acls_are_decided_exactly() {
        assert_eq!(check(&Acl::open_unsafe(), perms::WRITE), Ok(()));
        assert_eq!(
            check(&Acl::read_unsafe(), perms::WRITE),
            Err(Fail::Code(ErrorCode::NOAUTH))
        );
        assert!(matches!(
            check(&Acl::creator_all(), perms::WRITE),
            Err(Fail::Undecided(_))
        ));
        assert_eq!(fixup(&[]), Err(Fail::Code(ErrorCode::INVALIDACL)));
        let twice = [Acl::world(perms::ALL), Acl::world(perms::ALL)];
        assert_eq!(fixup(&twice), Ok(vec![Acl::world(perms::ALL)]));
    }
}
