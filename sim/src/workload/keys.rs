//! Path choice over a [`KeySpace`]: `root/k<i>` down to `depth` levels, uniform over levels and
//! names, so parents near the root are touched often enough for deeper creates to succeed.

use super::config::KeySpace;

/// Draws `0..n` from the workload stream (`n > 0`).
pub(crate) fn below(rng: &mut impl FnMut() -> u64, n: u64) -> u64 {
    assert!(n > 0, "below(0)");
    rng() % n
}

/// Joins a parent path and a child name.
pub(crate) fn child_of(parent: &str, name: &str) -> String {
    assert!(!name.contains('/'), "a child name has no slash: {name}");
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// A path of the key space: a level in `1..=depth`, then a name per level.
pub(crate) fn pick_key(keys: &KeySpace, rng: &mut impl FnMut() -> u64) -> String {
    let levels = 1 + below(rng, u64::from(keys.depth));
    let mut path = keys.root.clone();
    for _ in 0..levels {
        let name = format!("k{}", below(rng, u64::from(keys.fan_out)));
        path = child_of(&path, &name);
    }
    assert!(path.len() > keys.root.len(), "a key lies below the root");
    path
}

/// The parent of a key-space path (the root for a first-level key).
pub(crate) fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The paths `setup` creates: every ancestor of the root and the root itself, top down.
pub(crate) fn root_chain(root: &str) -> Vec<String> {
    let mut chain = Vec::new();
    let mut path = String::new();
    for segment in root.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        path.push_str(segment);
        chain.push(path.clone());
    }
    chain
}
