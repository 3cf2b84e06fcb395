//! Path rules: `PathUtils.validatePath`, parent/child splitting, the special system paths and
//! `EphemeralType` (what a StatPersisted `ephemeralOwner` encodes).

/// `/`, the root.
pub const ROOT: &str = "/";
/// `/zookeeper`, ZooKeeper's own subtree (`procZookeeper`).
pub const PROC_ZOOKEEPER: &str = "/zookeeper";
/// `/zookeeper/quota` (`quotaZookeeper`).
pub const QUOTA_ZOOKEEPER: &str = "/zookeeper/quota";
/// `/zookeeper/config` (`configZookeeper`, `ZooDefs.CONFIG_NODE`).
pub const CONFIG_ZOOKEEPER: &str = "/zookeeper/config";

/// `DataTree.isSpecialPath`: paths a client may never delete.
pub fn is_special_path(path: &str) -> bool {
    matches!(
        path,
        ROOT | PROC_ZOOKEEPER | QUOTA_ZOOKEEPER | CONFIG_ZOOKEEPER
    )
}

/// Splits at the last `/` as ZooKeeper does (`substring(0, lastSlash)`): `/a/b` → (`/a`, `b`),
/// `/a` → (`""`, `a`). `None` when there is no `/`. The empty parent is the root.
pub fn split_last_slash(path: &str) -> Option<(&str, &str)> {
    let i = path.rfind('/')?;
    Some((&path[..i], &path[i + 1..]))
}

/// The node-map key of a parent returned by [`split_last_slash`]: `""` is the root `/`.
pub fn parent_key(parent: &str) -> &str {
    if parent.is_empty() {
        ROOT
    } else {
        parent
    }
}

/// `PathUtils.validatePath`: `Err(reason)` when ZooKeeper rejects the path (BADARGUMENTS).
pub fn validate_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("path length must be > 0");
    }
    if !path.starts_with('/') {
        return Err("path must start with / character");
    }
    if path.len() == 1 {
        return Ok(());
    }
    if path.ends_with('/') {
        return Err("path must not end with / character");
    }
    let chars: Vec<char> = path.chars().collect();
    let mut last = '/';
    for i in 1..chars.len() {
        let c = chars[i];
        let next_is_end = i + 1 == chars.len() || chars[i + 1] == '/';
        if c == '\0' {
            return Err("null character not allowed");
        } else if c == '/' && last == '/' {
            return Err("empty node name specified");
        } else if c == '.' && last == '.' {
            if chars[i - 2] == '/' && next_is_end {
                return Err("relative paths not allowed");
            }
        } else if c == '.' {
            if chars[i - 1] == '/' && next_is_end {
                return Err("relative paths not allowed");
            }
        } else if is_invalid_char(c) {
            return Err("invalid character");
        }
        last = c;
    }
    Ok(())
}

/// Characters `PathUtils` rejects (Java UTF-16 units: anything above U+FFFF is a surrogate pair).
fn is_invalid_char(c: char) -> bool {
    let u = c as u32;
    (0x01..=0x1f).contains(&u)
        || (0x7f..=0x9f).contains(&u)
        || (0xd800..=0xf8ff).contains(&u)
        || (0xfff0..=0xffff).contains(&u)
        || u > 0xffff
}

/// `EphemeralType`: what an `ephemeralOwner` value means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EphemeralType {
    /// 0: a persistent node.
    Void,
    /// A session id: an ephemeral node.
    Normal,
    /// `Long.MIN_VALUE`: a container node.
    Container,
    /// Top byte 0xFF (extended types only): a TTL node, the low 40 bits are the TTL in ms.
    Ttl,
}

/// `EphemeralType.CONTAINER_EPHEMERAL_OWNER`.
pub const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;
const EXTENDED_MASK: i64 = 0xff << 56;
const EXTENDED_BIT_MASK: i64 = 0x00ff_ff00_0000_0000;
/// The largest TTL (`EphemeralType.TTL.maxValue()`), 40 bits of milliseconds.
pub const MAX_TTL_MS: i64 = 0x0000_00ff_ffff_ffff;

impl EphemeralType {
    /// `EphemeralType.get(ephemeralOwner)`, with `zookeeper.extendedTypesEnabled` as given.
    pub fn get(owner: i64, extended_types: bool) -> EphemeralType {
        if owner == CONTAINER_EPHEMERAL_OWNER {
            return EphemeralType::Container;
        }
        if extended_types && owner & EXTENDED_MASK == EXTENDED_MASK {
            // Only the TTL extension (extended bits 0x0000) exists.
            if owner & EXTENDED_BIT_MASK == 0 {
                return EphemeralType::Ttl;
            }
        }
        if owner == 0 {
            EphemeralType::Void
        } else {
            EphemeralType::Normal
        }
    }

    /// `EphemeralType.TTL.toEphemeralOwner(ttl)`.
    pub fn ttl_owner(ttl_ms: i64) -> i64 {
        assert!(
            ttl_ms > 0 && ttl_ms <= MAX_TTL_MS,
            "TTL out of range: {ttl_ms}"
        );
        EXTENDED_MASK | ttl_ms
    }

    /// `EphemeralType.TTL.getValue(owner)`: the TTL in ms of a TTL owner.
    pub fn ttl_value(owner: i64) -> i64 {
        owner & MAX_TTL_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_path_follows_path_utils() {
        for ok in [
            "/",
            "/a",
            "/a/b",
            "/a.b",
            "/..a",
            "/a..",
            "/.a/b",
            "/zookeeper",
        ] {
            assert_eq!(validate_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "a", "/a/", "//", "/a//b", "/.", "/..", "/a/./b", "/a/../b", "/a\0",
        ] {
            assert!(validate_path(bad).is_err(), "{bad:?}");
        }
        assert!(validate_path("/a\u{1}").is_err());
        assert!(validate_path("/\u{e000}").is_err());
        assert!(validate_path("/\u{1F600}").is_err());
    }

    #[test]
    fn ephemeral_types() {
        assert_eq!(EphemeralType::get(0, true), EphemeralType::Void);
        assert_eq!(EphemeralType::get(5, true), EphemeralType::Normal);
        assert_eq!(
            EphemeralType::get(i64::MIN, false),
            EphemeralType::Container
        );
        let ttl = EphemeralType::ttl_owner(3_600_000);
        assert_eq!(EphemeralType::get(ttl, true), EphemeralType::Ttl);
        assert_eq!(EphemeralType::get(ttl, false), EphemeralType::Normal);
        assert_eq!(EphemeralType::ttl_value(ttl), 3_600_000);
    }
}
