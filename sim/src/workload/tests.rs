//! Workload generator tests: mix proportions, unique write values, exact script replay,
//! validation errors naming their field, versions learnt from replies.

use super::*;
use crate::kernel::{SimRng, Stream};
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::request::{MultiOp, Response};
use zabsim_protocol::stat::Stat;
use zabsim_protocol::types::Zxid;

fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut r = SimRng::new(seed, Stream::Workload);
    move || r.next_u64()
}

/// The data values a request writes (create, setData, multi sub-ops).
fn written_values(request: &Request) -> Vec<Vec<u8>> {
    match request {
        Request::Create { data, .. } | Request::SetData { data, .. } => {
            data.iter().cloned().collect()
        }
        Request::Multi { ops } => ops
            .iter()
            .filter_map(|op| match op {
                MultiOp::Create2 { data, .. } | MultiOp::SetData { data, .. } => data.clone(),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Goal: each kind is drawn in proportion to its weight. Method: 40,000 draws of the balanced
/// mix; every kind's count is within 15% (relative) + 40 of its expectation (≈ 4 sigma for the
/// rarest kinds at weight 1/116).
#[test]
fn mix_proportions_follow_the_weights() {
    let config = WorkloadConfig::default();
    let weights = config.mix.weights();
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    let mut workload = Workload::new(config).unwrap();
    let mut r = rng(1);
    let n = 40_000u64;
    let mut counts: BTreeMap<OpKind, u64> = BTreeMap::new();
    for i in 0..n {
        let request = workload
            .next(&mut r, (i % 5) as usize, LocalTime(i))
            .unwrap();
        *counts.entry(OpKind::of(&request)).or_default() += 1;
    }
    for (kind, weight) in OpKind::ALL.iter().zip(weights) {
        let expected = n * u64::from(weight) / total;
        let got = counts.get(kind).copied().unwrap_or(0);
        let tolerance = expected * 15 / 100 + 40;
        assert!(
            got.abs_diff(expected) <= tolerance,
            "{kind:?}: got {got}, expected {expected} ± {tolerance}"
        );
        assert!(got > 0, "{kind:?} drawn at least once");
    }
}

/// Goal: a zero weight is never drawn; a single non-zero weight is always drawn.
#[test]
fn zero_weights_are_never_drawn() {
    let config = WorkloadConfig {
        mix: OpMix {
            set_data_versioned: 1,
            ..OpMix::default()
        },
        ..WorkloadConfig::default()
    };
    let mut workload = Workload::new(config).unwrap();
    let mut r = rng(2);
    for _ in 0..1_000 {
        let request = workload.next(&mut r, 0, LocalTime(0)).unwrap();
        assert_eq!(OpKind::of(&request), OpKind::SetDataVersioned);
    }
}

/// Goal: no two writes of a run carry the same value (histories are checkable). Method: 20,000
/// draws over 8 clients of a write-only mix including multi.
#[test]
fn every_written_value_is_unique() {
    let config = WorkloadConfig {
        mix: OpMix {
            create: 1,
            create_sequential: 1,
            create_ephemeral: 1,
            set_data: 3,
            set_data_versioned: 3,
            multi: 2,
            ..OpMix::default()
        },
        ..WorkloadConfig::default()
    };
    let mut workload = Workload::new(config).unwrap();
    let mut r = rng(3);
    let mut values = BTreeSet::new();
    let mut writes = 0;
    for i in 0..20_000usize {
        let request = workload.next(&mut r, i % 8, LocalTime(0)).unwrap();
        for value in written_values(&request) {
            writes += 1;
            assert!(
                values.insert(value.clone()),
                "value {value:?} written twice"
            );
        }
    }
    assert!(
        writes >= 20_000,
        "every op wrote at least one value: {writes}"
    );
}

/// Goal: a scripted workload replays each client's steps exactly and in order, then stops.
#[test]
fn scripted_lists_are_replayed_exactly() {
    let a = Request::Create {
        path: "/a".into(),
        data: Some(b"x".to_vec()),
        acl: Acl::open_unsafe(),
        flags: 0,
        ttl: -1,
        with_stat: false,
    };
    let b = Request::GetData {
        path: "/a".into(),
        watch: true,
    };
    let c = Request::Delete {
        path: "/a".into(),
        version: 3,
    };
    let script = vec![
        ScriptedOp {
            client: 1,
            request: a.clone(),
        },
        ScriptedOp {
            client: 0,
            request: b.clone(),
        },
        ScriptedOp {
            client: 1,
            request: c.clone(),
        },
    ];
    let config = WorkloadConfig {
        script: Some(script),
        ..WorkloadConfig::default()
    };
    let mut workload = Workload::new(config).unwrap();
    assert!(workload.setup().is_empty(), "scripts set themselves up");
    let mut r = rng(4);
    assert_eq!(workload.next(&mut r, 1, LocalTime(0)), Some(a));
    assert_eq!(workload.next(&mut r, 1, LocalTime(0)), Some(c));
    assert_eq!(workload.next(&mut r, 1, LocalTime(0)), None);
    assert_eq!(workload.next(&mut r, 0, LocalTime(0)), Some(b));
    assert_eq!(workload.next(&mut r, 0, LocalTime(0)), None);
    assert_eq!(workload.next(&mut r, 7, LocalTime(0)), None, "no steps");
}

/// Goal: a script round-trips through RON (a scenario can carry one).
#[test]
fn scripts_parse_from_ron() {
    let text = r#"(script: Some([
        (client: 0, request: Create(path: "/a", data: Some([1, 2]), acl: [], flags: 1, ttl: -1, with_stat: true)),
        (client: 0, request: Sync(path: "/a")),
    ]))"#;
    let config: WorkloadConfig = ron::from_str(text).unwrap();
    let mut workload = Workload::new(config).unwrap();
    let mut r = rng(5);
    assert!(matches!(
        workload.next(&mut r, 0, LocalTime(0)),
        Some(Request::Create { flags: 1, .. })
    ));
    assert_eq!(
        workload.next(&mut r, 0, LocalTime(0)),
        Some(Request::Sync { path: "/a".into() })
    );
}

fn field_of(config: WorkloadConfig) -> String {
    Workload::new(config).unwrap_err().field
}

/// Goal: each invalid setting is refused with an error naming its field.
#[test]
fn validation_errors_name_the_field() {
    let d = WorkloadConfig::default;
    assert_eq!(
        field_of(WorkloadConfig {
            concurrency: 0,
            ..d()
        }),
        "workload.concurrency"
    );
    assert_eq!(
        field_of(WorkloadConfig {
            mix: OpMix::default(),
            ..d()
        }),
        "workload.mix"
    );
    let keys = |k: KeySpace| WorkloadConfig { keys: k, ..d() };
    let k = KeySpace::default;
    assert_eq!(
        field_of(keys(KeySpace {
            root: "zabsim".into(),
            ..k()
        })),
        "workload.keys.root"
    );
    assert_eq!(
        field_of(keys(KeySpace {
            root: "/a//b".into(),
            ..k()
        })),
        "workload.keys.root"
    );
    assert_eq!(
        field_of(keys(KeySpace {
            root: "/zookeeper".into(),
            ..k()
        })),
        "workload.keys.root"
    );
    assert_eq!(
        field_of(keys(KeySpace { depth: 0, ..k() })),
        "workload.keys.depth"
    );
    assert_eq!(
        field_of(keys(KeySpace { fan_out: 0, ..k() })),
        "workload.keys.fan_out"
    );
    assert_eq!(
        field_of(keys(KeySpace { ttl_ms: 0, ..k() })),
        "workload.keys.ttl_ms"
    );
    assert_eq!(
        field_of(keys(KeySpace {
            multi_ops_min: 3,
            multi_ops_max: 2,
            ..k()
        })),
        "workload.keys.multi_ops_max"
    );
    let rate = Rate {
        think_time_ms_min: 5,
        think_time_ms_max: 4,
        ..Rate::default()
    };
    assert_eq!(
        field_of(WorkloadConfig { rate, ..d() }),
        "workload.rate.think_time_ms_max"
    );
    let session = SessionBehaviour {
        timeout_ms: 0,
        ..SessionBehaviour::default()
    };
    assert_eq!(
        field_of(WorkloadConfig { session, ..d() }),
        "workload.session.timeout_ms"
    );
    let session = SessionBehaviour {
        reopen_per_mille: 1_001,
        ..SessionBehaviour::default()
    };
    assert_eq!(
        field_of(WorkloadConfig { session, ..d() }),
        "workload.session.reopen_per_mille"
    );
    assert_eq!(
        field_of(WorkloadConfig {
            ops_per_client: Some(0),
            ..d()
        }),
        "workload.ops_per_client"
    );
    assert_eq!(
        field_of(WorkloadConfig {
            script: Some(vec![]),
            ..d()
        }),
        "workload.script"
    );
    let bad = ScriptedOp {
        client: 0,
        request: Request::Sync { path: "a".into() },
    };
    let e = Workload::new(WorkloadConfig {
        script: Some(vec![bad]),
        ..d()
    })
    .unwrap_err();
    assert_eq!(e.field, "workload.script[0].request");
    assert_eq!(
        e.to_string(),
        "workload.script[0].request: \"a\" is not an absolute znode path"
    );
}

/// Goal: a misspelt field in a scenario's workload is a parse error naming it.
#[test]
fn unknown_fields_are_refused() {
    let e = ron::from_str::<WorkloadConfig>("(mix: (craete: 1))").unwrap_err();
    assert!(e.to_string().contains("craete"), "{e}");
    let e = ron::from_str::<WorkloadConfig>("(concurency: 1)").unwrap_err();
    assert!(e.to_string().contains("concurency"), "{e}");
}

fn stat(version: i32, aversion: i32) -> Stat {
    Stat {
        version,
        aversion,
        ..Stat::default()
    }
}

/// Goal: conditional ops use the version this client last saw; another client's view is its
/// own; a NONODE answer forgets the version.
#[test]
fn conditional_versions_come_from_what_the_client_saw() {
    let config = WorkloadConfig {
        mix: OpMix {
            set_data_versioned: 1,
            ..OpMix::default()
        },
        keys: KeySpace {
            depth: 1,
            fan_out: 1,
            ..KeySpace::default()
        },
        ..WorkloadConfig::default()
    };
    let mut workload = Workload::new(config).unwrap();
    let mut r = rng(6);
    let read = Request::GetData {
        path: "/zabsim/k0".into(),
        watch: false,
    };
    let ok = OpResult::Ok {
        response: Response::GetData {
            data: None,
            stat: stat(7, 0),
        },
        zxid: Zxid(9),
    };
    workload.observe(0, &read, &ok);
    let version_of = |req: Option<Request>| match req {
        Some(Request::SetData { version, path, .. }) => {
            assert_eq!(path, "/zabsim/k0");
            version
        }
        other => panic!("expected a setData, got {other:?}"),
    };
    assert_eq!(version_of(workload.next(&mut r, 0, LocalTime(0))), 7);
    assert_eq!(
        version_of(workload.next(&mut r, 1, LocalTime(0))),
        0,
        "client 1 saw nothing"
    );
    let gone = OpResult::Error {
        err: zabsim_protocol::error_code::ErrorCode::NONODE,
        zxid: Zxid(10),
    };
    workload.observe(0, &read, &gone);
    assert_eq!(version_of(workload.next(&mut r, 0, LocalTime(0))), 0);
}

/// Goal: keys stay under the root, within depth and fan-out; setup creates the root chain.
#[test]
fn keys_stay_in_the_key_space() {
    let config = WorkloadConfig {
        keys: KeySpace {
            root: "/a/b".into(),
            depth: 3,
            fan_out: 2,
            ..KeySpace::default()
        },
        mix: OpMix {
            get_data: 1,
            create_sequential: 1,
            ..OpMix::default()
        },
        ..WorkloadConfig::default()
    };
    let mut workload = Workload::new(config).unwrap();
    let setup: Vec<String> = workload
        .setup()
        .into_iter()
        .map(|r| match r {
            Request::Create { path, .. } => path,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(setup, vec!["/a".to_string(), "/a/b".to_string()]);
    let mut r = rng(7);
    let mut depths = BTreeSet::new();
    for _ in 0..2_000 {
        let request = workload.next(&mut r, 0, LocalTime(0)).unwrap();
        let path = ops::paths_of(&request)[0].to_string();
        let rest = path.strip_prefix("/a/b/").expect("under the root");
        let segments: Vec<&str> = rest.split('/').collect();
        depths.insert(segments.len());
        for s in &segments[..segments.len() - 1] {
            assert!(*s == "k0" || *s == "k1", "{path}");
        }
        let last = segments[segments.len() - 1];
        assert!(last == "k0" || last == "k1" || last == "seq-", "{path}");
    }
    assert_eq!(depths, BTreeSet::from([1, 2, 3]));
}

/// Goal: `ops_per_client` bounds each client separately.
#[test]
fn ops_per_client_bounds_each_client() {
    let config = WorkloadConfig {
        ops_per_client: Some(3),
        ..WorkloadConfig::default()
    };
    let mut workload = Workload::new(config).unwrap();
    let mut r = rng(8);
    for client in 0..2 {
        for _ in 0..3 {
            assert!(workload.next(&mut r, client, LocalTime(0)).is_some());
        }
        assert!(workload.next(&mut r, client, LocalTime(0)).is_none());
    }
}

/// Goal: the submission gap has the configured mean: think time in its span plus a uniform gap
/// of mean 1000/ops_per_sec. Method: 20,000 draws, mean within 2%.
#[test]
fn delays_have_the_configured_mean() {
    let config = WorkloadConfig {
        rate: Rate {
            ops_per_sec: 10,
            think_time_ms_min: 20,
            think_time_ms_max: 40,
        },
        ..WorkloadConfig::default()
    };
    let workload = Workload::new(config).unwrap();
    let mut r = rng(9);
    let n = 20_000u64;
    let mut sum = 0;
    for _ in 0..n {
        let d = workload.delay_ms(&mut r);
        assert!((20..=240).contains(&d), "{d}");
        sum += d;
    }
    let mean = sum / n;
    assert!(
        mean.abs_diff(130) <= 3,
        "mean {mean}, expected 130 (30 think + 100 gap)"
    );
}

/// Goal: the same seed gives the same requests (determinism of the generator itself).
#[test]
fn same_seed_same_requests() {
    let draw = |seed| {
        let mut workload = Workload::new(WorkloadConfig::default()).unwrap();
        let mut r = rng(seed);
        (0..200)
            .map(|i| workload.next(&mut r, i % 3, LocalTime(0)))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(11), draw(11));
    assert_ne!(draw(11), draw(12));
}
