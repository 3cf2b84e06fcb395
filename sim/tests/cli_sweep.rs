//! `zabsim sweep`: shards cover a range exactly once, `--out` records each seed once, `--resume`
//! runs only what is missing, and the summary's JSON last line has the contract's fields.

use std::path::Path;
use std::process::Command;

fn zabsim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zabsim"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(args)
        .output()
        .expect("zabsim runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn seeds_in(dir: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(dir.join("results.jsonl")).unwrap_or_default();
    let mut seeds: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("a JSON line")["seed"]
                .as_u64()
                .expect("a seed")
        })
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn shards_then_resume_cover_the_range_exactly_once() {
    let dir = std::env::temp_dir().join(format!("zabsim-sweep-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_str().expect("utf-8 temp dir");
    let (code, stdout) = zabsim(&[
        "sweep",
        "scenarios/steady-3.ron",
        "--seeds",
        "10..15",
        "--shard",
        "1/2",
        "--out",
        out,
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(seeds_in(&dir), vec![11, 13]);
    let last: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("a last line")).expect("JSON");
    for field in [
        "seeds",
        "passed",
        "failed",
        "undecided",
        "events",
        "wall_ms",
    ] {
        assert!(last.get(field).is_some(), "summary has {field}: {last}");
    }
    assert_eq!(last["seeds"], 2);
    let (code, _) = zabsim(&[
        "sweep",
        "scenarios/steady-3.ron",
        "--seeds",
        "10..15",
        "--out",
        out,
    ]);
    assert_eq!(
        code, 2,
        "a second sweep into the same --out without --resume is refused"
    );
    let (code, stdout) = zabsim(&[
        "sweep",
        "scenarios/steady-3.ron",
        "--seeds",
        "10..15",
        "--out",
        out,
        "--resume",
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        seeds_in(&dir),
        vec![10, 11, 12, 13, 14],
        "each seed recorded once"
    );
    assert!(dir.join("summary.json").exists() && dir.join("summary.md").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_ranges_and_shards_are_bad_input() {
    assert_eq!(
        zabsim(&["sweep", "scenarios/steady-3.ron", "--seeds", "5..5"]).0,
        2
    );
    assert_eq!(
        zabsim(&["sweep", "scenarios/steady-3.ron", "--shard", "3/3"]).0,
        2
    );
    assert_eq!(zabsim(&["sweep", "scenarios/nope.ron"]).0, 2);
}
