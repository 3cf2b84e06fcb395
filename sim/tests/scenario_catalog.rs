//! Every file in `scenarios/` parses, validates and says what it exercises; malformed scenarios
//! are refused with the file, line, column and field.

use std::path::{Path, PathBuf};
use zabsim_sim::scenario::{self, Expect};

fn catalog() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files = Vec::new();
    for dir in [
        root.clone(),
        root.join("negative"),
        root.join("regressions"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "ron") {
                files.push(e.path());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_catalog_scenario_loads_and_is_documented() {
    let files = catalog();
    for name in [
        "steady-3.ron",
        "steady-5.ron",
        "leader-crash.ron",
        "swarm.ron",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(name)),
            "the catalog has {name}"
        );
    }
    for file in &files {
        let s = scenario::load(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            s.description.len() > 40,
            "{}: a real description",
            file.display()
        );
        assert!(
            !s.seeds.is_empty(),
            "{}: lists the seeds cargo test runs",
            file.display()
        );
        let negative = file.parent().is_some_and(|p| p.ends_with("negative"));
        assert_eq!(
            negative,
            matches!(s.expect, Expect::Violation(_)),
            "{}: negative scenarios (and only they) expect a violation",
            file.display()
        );
    }
}

fn error_of(text: &str) -> scenario::ScenarioError {
    scenario::parse(Path::new("bad.ron"), text).expect_err("the scenario is refused")
}

#[test]
fn an_unknown_field_is_named_with_its_line_and_column() {
    let e = error_of("(\n  description: \"x is a test scenario of forty characters or more\",\n  cluster: (servers: 3, clientz: 2),\n)");
    assert_eq!(e.file, "bad.ron");
    assert_eq!(e.line, Some(3));
    assert!(e.column.is_some());
    assert_eq!(e.field.as_deref(), Some("clientz"));
    assert!(e.to_string().starts_with("bad.ron:3:"), "{e}");
}

#[test]
fn zero_servers_is_refused_with_the_field() {
    let e = error_of("(\n  description: \"no servers\",\n  cluster: (servers: 0),\n)");
    assert_eq!(e.field.as_deref(), Some("cluster.servers"));
    assert_eq!(e.line, Some(3));
}

#[test]
fn a_negative_number_where_a_count_belongs_is_refused() {
    let e = error_of(
        "(description: \"d\", cluster: (servers: 3), workload: (rate: (think_time_ms_min: -5)))",
    );
    assert!(e.line.is_some(), "{e}");
}

#[test]
fn impossible_settings_are_refused() {
    let cases = [
        ("(description: \"d\", cluster: (servers: 3), protocol: (tick_time_ms: 0))", "protocol.tick_time_ms"),
        ("(description: \"d\", cluster: (servers: 3), protocol: (variants: [\"zk-9999\"]))", "protocol.variants"),
        ("(description: \"d\", cluster: (servers: 3), workload: (keys: (fan_out: 0)))", "workload.keys.fan_out"),
        ("(description: \"d\", cluster: (servers: 3), checkers: [\"vibes\"])", "checkers"),
        ("(description: \"d\", cluster: (servers: 3), phases: (chaos_ms: 1000), faults: [(at_ms: 2000, fault: HealAll)])", "faults[0].at_ms"),
        ("(description: \"d\", cluster: (servers: 3), faults: [(at_ms: 1, fault: Kill(target: Node(9)))])", "faults[0]"),
        ("(description: \"d\", cluster: (servers: 3), kernel: (limits: (max_time_ms: Some(10))))", "kernel.limits.max_time_ms"),
    ];
    for (text, field) in cases {
        let e = error_of(text);
        assert_eq!(e.field.as_deref(), Some(field), "{text}: {e}");
    }
}

#[test]
fn a_syntax_error_names_the_position() {
    let e = error_of("(description: \"d\", cluster: (servers: 3)");
    assert!(e.line.is_some() && e.column.is_some(), "{e}");
}
