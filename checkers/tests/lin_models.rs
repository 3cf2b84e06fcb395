//! Goal: each model accepts a legal concurrent history and rejects an illegal one (every
//! model has a negative test); unknown outcomes may take effect or not; a budget that runs
//! out gives `Undecided`, never a pass; malformed files name their line and field.
//! Method: small hand-made histories in each input format, checked end to end.

use zabsim_checkers::formats::{parse, Loaded};
use zabsim_checkers::history::{ClientId, Completion, History, Invocation, OpId, Outcome, Record};
use zabsim_checkers::lin::run::{check_loaded, Initial, ModelName};
use zabsim_checkers::lin::{Budget, CheckOptions, Verdict};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{Request, Response};
use zabsim_protocol::stat::Stat;
use zabsim_protocol::types::{SessionId, Xid, Zxid};

fn verdict_of(text: &str, model: ModelName) -> Verdict {
    let loaded = parse(text).unwrap_or_else(|e| panic!("{e}"));
    check_loaded(
        &loaded,
        model,
        Initial::default(),
        CheckOptions::default(),
        "t",
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .verdict
}

#[test]
fn lin_cas_register_jepsen_log_stale_read_fails_and_timed_out_write_may_apply() {
    let ok = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
              INFO  jepsen.util - 1\t:invoke\t:write\t2\n\
              INFO  jepsen.util - 1\t:info\t:write\t:timed-out\n\
              INFO  jepsen.util - 0\t:ok\t:write\t1\n\
              INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
              INFO  jepsen.util - 2\t:ok\t:read\t2\n";
    assert_eq!(
        verdict_of(ok, ModelName::CasRegister),
        Verdict::Linearizable
    );
    let stale = "INFO  jepsen.util - 0 :invoke :write 1\n\
                 INFO  jepsen.util - 0 :ok :write 1\n\
                 INFO  jepsen.util - 0 :invoke :write 2\n\
                 INFO  jepsen.util - 0 :ok :write 2\n\
                 INFO  jepsen.util - 1 :invoke :read nil\n\
                 INFO  jepsen.util - 1 :ok :read 1\n";
    assert_eq!(
        verdict_of(stale, ModelName::CasRegister),
        Verdict::NotLinearizable
    );
}

#[test]
fn lin_cas_register_failed_cas_must_not_match() {
    // Porcupine's etcd convention: `:fail :cas [0 5]` on a register holding 0 is impossible.
    let bad = "INFO  jepsen.util - 0 :invoke :write 0\nINFO  jepsen.util - 0 :ok :write 0\n\
               INFO  jepsen.util - 1 :invoke :cas [0 5]\nINFO  jepsen.util - 1 :fail :cas [0 5]\n";
    assert_eq!(
        verdict_of(bad, ModelName::CasRegister),
        Verdict::NotLinearizable
    );
    // Knossos's convention: `:fail` did not happen at all.
    let edn = "[{:process 0 :type :invoke :f :cas :value [0 5]} {:process 0 :type :fail :f :cas :value [0 5]}\n\
               {:process 1 :type :invoke :f :read} {:process 1 :type :ok :f :read :value 0}]";
    assert_eq!(
        verdict_of(edn, ModelName::CasRegister),
        Verdict::Linearizable
    );
}

#[test]
fn lin_kv_lost_append_fails() {
    let ok = "{:process 0, :type :invoke, :f :append, :key \"a\", :value \"x\"}\n\
              {:process 1, :type :invoke, :f :get, :key \"a\", :value nil}\n\
              {:process 0, :type :ok, :f :append, :key \"a\", :value \"x\"}\n\
              {:process 1, :type :ok, :f :get, :key \"a\", :value \"\"}\n";
    assert_eq!(verdict_of(ok, ModelName::Kv), Verdict::Linearizable);
    let lost = "{:process 0, :type :invoke, :f :append, :key \"a\", :value \"x\"}\n\
                {:process 0, :type :ok, :f :append, :key \"a\", :value \"x\"}\n\
                {:process 2, :type :invoke, :f :put, :key \"b\", :value \"y\"}\n\
                {:process 2, :type :ok, :f :put, :key \"b\", :value \"y\"}\n\
                {:process 1, :type :invoke, :f :get, :key \"a\", :value nil}\n\
                {:process 1, :type :ok, :f :get, :key \"a\", :value \"\"}\n";
    assert_eq!(verdict_of(lost, ModelName::Kv), Verdict::NotLinearizable);
}

#[test]
fn lin_multi_register_torn_transaction_fails() {
    let ok = "[{:process 0 :type :invoke :f :txn :value [[:write :x 1] [:write :y 1]]}\n\
               {:process 0 :type :ok :f :txn :value [[:write :x 1] [:write :y 1]]}\n\
               {:process 1 :type :invoke :f :txn :value [[:read :x nil] [:read :y nil]]}\n\
               {:process 1 :type :ok :f :txn :value [[:read :x 1] [:read :y 1]]}]";
    assert_eq!(
        verdict_of(ok, ModelName::MultiRegister),
        Verdict::Linearizable
    );
    let torn = ok.replace("[[:read :x 1] [:read :y 1]]", "[[:read :x 1] [:read :y 0]]");
    assert_eq!(
        verdict_of(&torn, ModelName::MultiRegister),
        Verdict::NotLinearizable
    );
}

#[test]
fn lin_mutex_double_acquire_fails() {
    let ok = "[{:process 0 :type :invoke :f :acquire} {:process 0 :type :ok :f :acquire}\n\
               {:process 1 :type :invoke :f :acquire} {:process 0 :type :invoke :f :release}\n\
               {:process 0 :type :ok :f :release} {:process 1 :type :ok :f :acquire}]";
    assert_eq!(verdict_of(ok, ModelName::Mutex), Verdict::Linearizable);
    let double = "[{:process 0 :type :invoke :f :acquire} {:process 0 :type :ok :f :acquire}\n\
                   {:process 1 :type :invoke :f :acquire} {:process 1 :type :ok :f :acquire}]";
    assert_eq!(
        verdict_of(double, ModelName::Mutex),
        Verdict::NotLinearizable
    );
}

fn zk_history(ops: &[(u64, u64, Request, Option<Outcome>)]) -> Loaded {
    let mut records = Vec::new();
    for (i, (call, ret, request, outcome)) in ops.iter().enumerate() {
        records.push((
            *call,
            0,
            Record::Invoke(Invocation {
                id: OpId(i as u64),
                time_ns: *call,
                client: ClientId(i as u32),
                session: SessionId(i as i64 + 1),
                server: None,
                xid: Xid(1),
                request: request.clone(),
            }),
        ));
        if let Some(outcome) = outcome {
            records.push((
                *ret,
                1,
                Record::Complete(Completion {
                    id: OpId(i as u64),
                    time_ns: *ret,
                    outcome: outcome.clone(),
                }),
            ));
        }
    }
    records.sort_by_key(|(t, kind, _)| (*t, *kind));
    let history = History::from_records(records.into_iter().map(|(_, _, r)| r).collect())
        .unwrap_or_else(|e| panic!("{e}"));
    Loaded::Zabsim(history)
}

fn ok(response: Response) -> Option<Outcome> {
    Some(Outcome::Ok {
        zxid: Zxid(1),
        response,
    })
}

fn stat(version: i32) -> Stat {
    Stat {
        version,
        ..Stat::default()
    }
}

#[test]
fn lin_znode_tree_stale_get_data_fails_and_concurrent_one_passes() {
    let create = Request::Create {
        path: "/a".into(),
        data: Some(b"0".to_vec()),
        acl: vec![],
        flags: 0,
        ttl: -1,
        with_stat: false,
    };
    let set = Request::SetData {
        path: "/a".into(),
        data: Some(b"1".to_vec()),
        version: 0,
    };
    let get = Request::GetData {
        path: "/a".into(),
        watch: false,
    };
    let history = |get_call: u64, data: &[u8], version: i32| {
        zk_history(&[
            (
                0,
                10,
                create.clone(),
                ok(Response::Create {
                    path: "/a".into(),
                    stat: None,
                }),
            ),
            (20, 30, set.clone(), ok(Response::SetData { stat: stat(1) })),
            (
                get_call,
                50,
                get.clone(),
                ok(Response::GetData {
                    data: Some(data.to_vec()),
                    stat: stat(version),
                }),
            ),
            (
                60,
                70,
                Request::Delete {
                    path: "/a".into(),
                    version: 5,
                },
                Some(Outcome::Error {
                    zxid: Zxid(2),
                    err: ErrorCode::BADVERSION,
                }),
            ),
        ])
    };
    let verdict = |loaded: &Loaded| {
        check_loaded(
            loaded,
            ModelName::Zookeeper,
            Initial::default(),
            CheckOptions::default(),
            "t",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .verdict
    };
    assert_eq!(
        verdict(&history(25, b"0", 0)),
        Verdict::Linearizable,
        "concurrent with the set: old value allowed"
    );
    assert_eq!(verdict(&history(35, b"1", 1)), Verdict::Linearizable);
    assert_eq!(
        verdict(&history(35, b"0", 0)),
        Verdict::NotLinearizable,
        "after the set returned: stale"
    );
}

#[test]
fn lin_znode_tree_sequential_names_and_unknown_create() {
    let seq = |call, ret, name: Option<&str>| {
        let request = Request::Create {
            path: "/q-".into(),
            data: None,
            acl: vec![],
            flags: 2,
            ttl: -1,
            with_stat: false,
        };
        let outcome = match name {
            Some(n) => ok(Response::Create {
                path: n.into(),
                stat: None,
            }),
            None => Some(Outcome::Unknown {
                err: ErrorCode::CONNECTIONLOSS,
            }),
        };
        (call, ret, request, outcome)
    };
    let children = |names: &[&str]| {
        (
            100,
            110,
            Request::GetChildren {
                path: "/".into(),
                watch: false,
                with_stat: false,
            },
            ok(Response::GetChildren {
                children: names.iter().map(|s| s.to_string()).collect(),
                stat: None,
            }),
        )
    };
    let verdict = |ops: &[(u64, u64, Request, Option<Outcome>)]| {
        check_loaded(
            &zk_history(ops),
            ModelName::Zookeeper,
            Initial::default(),
            CheckOptions::default(),
            "t",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .verdict
    };
    // A lost create (unknown outcome) that did take effect explains the second name.
    let ops = [
        seq(0, 10, None),
        seq(20, 30, Some("/q-0000000001")),
        children(&["q-0000000000", "q-0000000001"]),
    ];
    assert_eq!(verdict(&ops), Verdict::Linearizable);
    // Two creates cannot both get the first name.
    let ops = [
        seq(0, 10, Some("/q-0000000000")),
        seq(20, 30, Some("/q-0000000000")),
    ];
    assert_eq!(verdict(&ops), Verdict::NotLinearizable);
}

#[test]
fn lin_budget_exhausted_is_undecided_never_a_pass() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpora/porcupine-histories/jepsen/etcd_002.log"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let loaded = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let options = CheckOptions {
        budget: Budget {
            max_steps: 50,
            max_configs: 1_000_000,
        },
        ..CheckOptions::default()
    };
    let result = check_loaded(
        &loaded,
        ModelName::CasRegister,
        Initial::default(),
        options,
        "t",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(result.verdict, Verdict::Undecided);
    assert!(
        result.timeline.is_some(),
        "an undecided check still draws its window"
    );
}

#[test]
fn lin_malformed_inputs_name_line_and_field() {
    let cases: [(&str, usize, &str); 5] = [
        (
            "INFO  jepsen.util - 0 :invoke :write 1\nINFO  jepsen.util - x :ok :write 1\n",
            2,
            "process",
        ),
        (
            "INFO  jepsen.util - 0 :invoke :write 1\nINFO  jepsen.util - 0 :maybe :write 1\n",
            2,
            "type",
        ),
        (
            "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :ok :f :write}]",
            2,
            "f",
        ),
        (
            "[{:process 0 :type :invoke :f :read}\n {:process 1 :type :ok :f :read}]",
            2,
            "process",
        ),
        (
            "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :ok :f :read :value [1",
            2,
            "edn",
        ),
    ];
    for (text, line, field) in cases {
        let err = parse(text)
            .err()
            .unwrap_or_else(|| panic!("{text:?} parsed"));
        assert_eq!(
            (err.line, err.field.as_str()),
            (line, field),
            "{text:?}: {err}"
        );
    }
    let loaded = parse(
        "{:process 0 :type :invoke :f :cas :value 3}\n{:process 0 :type :ok :f :cas :value 3}",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let err = check_loaded(
        &loaded,
        ModelName::CasRegister,
        Initial::default(),
        CheckOptions::default(),
        "t",
    )
    .err();
    assert_eq!(
        err.map(|e| (e.line, e.field)),
        Some((1, "value".to_string()))
    );
}
