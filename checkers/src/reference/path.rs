//! Path rules, written from ZooKeeper's `PathUtils.validatePath` and the path handling of
//! `PrepRequestProcessor` (`validatePathForCreate`, `getParentPathAndValidate`).

/// `PathUtils.validatePath`: absolute, no trailing `/` (except the root), no empty, `.` or `..`
/// component, no control, private-use or surrogate characters (Java sees any character beyond
/// the Basic Multilingual Plane as a surrogate pair, which it rejects).
pub fn is_valid(path: &str) -> bool {
    if !path.starts_with('/') {
        return false;
    }
    if path == "/" {
        return true;
    }
    if path.ends_with('/') {
        return false;
    }
    path[1..].split('/').all(is_valid_component)
}

fn is_valid_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && name.chars().all(is_allowed_char)
}

fn is_allowed_char(c: char) -> bool {
    let u = u32::from(c);
    !(u == 0
        || (0x01..=0x1f).contains(&u)
        || (0x7f..=0x9f).contains(&u)
        || (0xd800..=0xf8ff).contains(&u)
        || (0xfff0..=0xffff).contains(&u)
        || u > 0xffff)
}

/// The parent as ZooKeeper computes it (`path.substring(0, lastSlash)`, with the empty string
/// meaning the root), or `None` when the path has no `/` or contains a NUL.
pub fn parent_of(path: &str) -> Option<&str> {
    if path.contains('\0') {
        return None;
    }
    let last_slash = path.rfind('/')?;
    Some(match &path[..last_slash] {
        "" => "/",
        parent => parent,
    })
}

/// The last component (`path.substring(lastSlash + 1)`).
pub fn child_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// The sequential suffix: `String.format("%010d", parentCVersion)`.
pub fn sequential_suffix(parent_cversion: i32) -> String {
    format!("{parent_cversion:010}")
}

/// `ZKDatabase.isSpecialPath`: paths that may never be deleted.
pub fn is_special(path: &str) -> bool {
    matches!(
        path,
        "/" | "/zookeeper" | "/zookeeper/quota" | "/zookeeper/config"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_path_utils() {
        for ok in ["/", "/a", "/a/b", "/a.b", "/..a", "/a/.b."] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "/a/",
            "//a",
            "/a//b",
            "/.",
            "/a/..",
            "/a\u{1}",
            "/\u{e000}",
            "/\u{1f600}",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn parent_follows_last_slash() {
        assert_eq!(parent_of("/a"), Some("/"));
        assert_eq!(parent_of("/a/b"), Some("/a"));
        assert_eq!(parent_of("/x//y"), Some("/x/"));
        assert_eq!(parent_of("a"), None);
        assert_eq!(child_name("/a/b"), "b");
        assert_eq!(sequential_suffix(7), "0000000007");
    }
}
