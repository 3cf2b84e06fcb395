//! Tidy: the house rules that are cheaper to check as a test than to review (TigerBeetle's
//! `tidy.zig`). Layering of the kernel, banned nondeterministic APIs in simulation paths, and
//! file length.

use std::fs;
use std::path::{Path, PathBuf};

/// The workspace root (this file lives in `sim/tests/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sim/ has a parent")
        .to_path_buf()
}

/// Every `.rs` file below `dir`, sorted so failures print in a stable order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Lines of code outside `#[cfg(test)]` tails: everything before the first `#[cfg(test)]`.
fn non_test_part(text: &str) -> &str {
    match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

#[test]
fn kernel_knows_nothing_of_zookeeper() {
    // The kernel is generic: the cluster glue adapts the protocol to it, never the reverse.
    let kernel = workspace_root().join("sim/src/kernel");
    let mut offenders = Vec::new();
    for file in rust_files(&kernel) {
        let text = fs::read_to_string(&file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("zabsim_protocol") && !code.contains("types::LocalTime") {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
            if code.contains("crate::cluster") || code.contains("zabsim_checkers") {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "kernel must not name the protocol, checkers or cluster:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn simulation_paths_use_no_wall_clock_threads_or_ambient_randomness() {
    // The CLI may measure wall time (reported as wall_ms) and use rayon for sweeps; the
    // protocol, the checkers, the kernel and the cluster glue may not.
    let root = workspace_root();
    let dirs = ["protocol/src", "sim/src/kernel", "sim/src/cluster"];
    let banned = [
        "std::time::Instant",
        "SystemTime",
        "thread::spawn",
        "thread_rng",
        "rand::random",
        "rand::rng(",
        "std::env::var",
    ];
    let mut offenders = Vec::new();
    for dir in dirs {
        for file in rust_files(&root.join(dir)) {
            let text = fs::read_to_string(&file).expect("readable source");
            for (n, line) in non_test_part(&text).lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for b in banned {
                    if code.contains(b) {
                        offenders.push(format!("{}:{}: {}", file.display(), n + 1, b));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "nondeterministic APIs in simulation paths:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn protocol_has_no_io() {
    // Sans-IO: the protocol never touches files, sockets or the process environment.
    let root = workspace_root();
    let banned = [
        "std::fs",
        "std::net",
        "std::process",
        "std::io::stdin",
        "println!",
    ];
    let mut offenders = Vec::new();
    for file in rust_files(&root.join("protocol/src")) {
        let text = fs::read_to_string(&file).expect("readable source");
        for (n, line) in non_test_part(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for b in banned {
                if code.contains(b) {
                    offenders.push(format!("{}:{}: {}", file.display(), n + 1, b));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "I/O in the sans-IO protocol:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_source_file_is_too_long() {
    // Small files with one job: split a file before it passes the limit.
    const MAX_LINES: usize = 1000;
    let root = workspace_root();
    let mut offenders = Vec::new();
    for dir in ["protocol", "checkers", "sim"] {
        for file in rust_files(&root.join(dir)) {
            let lines = fs::read_to_string(&file).expect("readable").lines().count();
            if lines > MAX_LINES {
                offenders.push(format!("{} has {lines} lines", file.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "files over {MAX_LINES} lines:\n{}",
        offenders.join("\n")
    );
}
