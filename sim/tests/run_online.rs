//! Judges run as the simulation goes (issue 5: "checked as the run goes, so a run stops at the
//! first bad step"). Method: run the ZOOKEEPER-1154 negative scenario (its first listed seed, one
//! that must fail) twice, stopping at the first
//! proven violation and with `--keep-going`, and compare: the stopped run ends at the step where
//! the keep-going run's judge first proved that violation, and the two histories agree on every
//! line up to it (judging online does not perturb the simulation).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "run",
        "scenarios/negative/zk-1154.ron",
        "--json",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let output = Command::new(env!("CARGO_BIN_EXE_zabsim"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(&args)
        .output()
        .expect("zabsim runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the bug variant fails: {stdout}"
    );
    serde_json::from_str(stdout.lines().last().expect("a line")).expect("JSON last line")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zabsim-online-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The history line a violation message cites (`… (history line N)`).
fn cited_line(message: &str) -> Option<usize> {
    let tail = message.rsplit("(history line ").next()?;
    tail.trim_end_matches(')').parse().ok()
}

#[test]
fn a_run_stops_at_the_first_proven_violation_and_keep_going_runs_on() {
    let stopped_dir = scratch("stopped");
    let full_dir = scratch("full");
    let stopped = run(&stopped_dir, &[]);
    let full = run(&full_dir, &["--keep-going"]);

    let stop = &stopped["stopped_at"];
    let judge = stop["judge"]
        .as_str()
        .expect("the stopped run names its judge");
    let line = stop["line"].as_u64().expect("and the history line") as usize;
    assert!(full["stopped_at"].is_null(), "--keep-going never stops");
    assert!(
        full["reproduce"]
            .as_str()
            .is_some_and(|r| r.ends_with("--keep-going")),
        "the reproduce line keeps the flag"
    );

    // The keep-going run's first violation from the same judge is on the stop line.
    let first_full = full["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter(|v| v["judge"] == judge)
        .filter_map(|v| v["message"].as_str().and_then(cited_line))
        .min();
    assert_eq!(
        first_full,
        Some(line),
        "{judge} first proved it on line {line}"
    );

    // The stopped run ended early, and both histories agree up to the stop.
    let sim_ms = |v: &Value| v["sim_time_ms"].as_f64().expect("sim_time_ms");
    assert!(
        sim_ms(&stopped) < sim_ms(&full),
        "stopping ends the run early"
    );
    let read = |dir: &Path| std::fs::read_to_string(dir.join("history.jsonl")).expect("history");
    let (a, b) = (read(&stopped_dir), read(&full_dir));
    let prefix = |text: &str| text.lines().take(line).collect::<Vec<_>>().join("\n");
    assert!(a.lines().count() >= line, "the stop line is in the history");
    assert_eq!(prefix(&a), prefix(&b), "the same run up to the stop");
    assert!(
        b.lines().count() > a.lines().count(),
        "the keep-going run goes on past the stop"
    );
    let _ = std::fs::remove_dir_all(&stopped_dir);
    let _ = std::fs::remove_dir_all(&full_dir);
}
