//! History files: JSON Lines round trips, and malformed files are `HistoryError`s naming the line
//! and field (a harness bug is never judged as a protocol bug).

use zabsim_checkers::history::{
    read_records, write_records, ClientId, Completion, History, Invocation, OpId, Outcome, Record,
};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{Request, Response};
use zabsim_protocol::stat::Stat;
use zabsim_protocol::types::{ServerId, SessionId, Xid, Zxid};

fn invoke(id: u64, time_ns: u64, request: Request) -> Record {
    Record::Invoke(Invocation {
        id: OpId(id),
        time_ns,
        client: ClientId(1),
        session: SessionId(0x100),
        server: Some(ServerId(1)),
        xid: Xid(id as i32),
        request,
    })
}

fn complete(id: u64, time_ns: u64, outcome: Outcome) -> Record {
    Record::Complete(Completion {
        id: OpId(id),
        time_ns,
        outcome,
    })
}

fn get(path: &str) -> Request {
    Request::GetData {
        path: path.into(),
        watch: false,
    }
}

fn sample() -> Vec<Record> {
    vec![
        invoke(1, 10, get("/a")),
        complete(
            1,
            20,
            Outcome::Ok {
                zxid: Zxid(3),
                response: Response::GetData {
                    data: Some(b"x".to_vec()),
                    stat: Stat::default(),
                },
            },
        ),
        invoke(2, 30, get("/b")),
        complete(
            2,
            40,
            Outcome::Unknown {
                err: ErrorCode::CONNECTIONLOSS,
            },
        ),
    ]
}

#[test]
fn records_round_trip_through_json_lines() {
    let records = sample();
    let mut text = Vec::new();
    write_records(&mut text, &records).unwrap();
    let back = read_records(text.as_slice()).unwrap();
    assert_eq!(back, records);
    let history = History::from_records(back).unwrap();
    assert_eq!(history.ops.len(), 2);
    assert!(history.op(OpId(1)).unwrap().is_determinate());
    assert!(!history.op(OpId(2)).unwrap().is_determinate());
}

#[test]
fn a_missing_field_names_line_and_field() {
    let mut text = Vec::new();
    write_records(&mut text, &sample()).unwrap();
    let mut lines: Vec<String> = String::from_utf8(text)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines[2] = lines[2].replace("\"time_ns\":30,", "");
    let err = read_records(lines.join("\n").as_bytes()).unwrap_err();
    assert_eq!(err.line, 3);
    assert_eq!(err.field, "time_ns");
}

#[test]
fn time_going_back_is_a_history_error() {
    let mut records = sample();
    records.swap(1, 2);
    let err = History::from_records(records).unwrap_err();
    assert_eq!((err.line, err.field.as_str()), (3, "time_ns"));
}

#[test]
fn orphan_and_double_completions_are_history_errors() {
    let mut records = sample();
    records.push(complete(
        9,
        50,
        Outcome::Unknown {
            err: ErrorCode::CONNECTIONLOSS,
        },
    ));
    let err = History::from_records(records).unwrap_err();
    assert_eq!((err.line, err.field.as_str()), (5, "id"));

    let mut records = sample();
    records.push(complete(
        1,
        50,
        Outcome::Unknown {
            err: ErrorCode::CONNECTIONLOSS,
        },
    ));
    let err = History::from_records(records).unwrap_err();
    assert_eq!((err.line, err.field.as_str()), (5, "id"));
}

#[test]
fn a_reply_of_the_wrong_kind_is_a_history_error() {
    let records = vec![
        invoke(1, 10, get("/a")),
        complete(
            1,
            20,
            Outcome::Ok {
                zxid: Zxid(3),
                response: Response::Delete,
            },
        ),
    ];
    let err = History::from_records(records).unwrap_err();
    assert_eq!((err.line, err.field.as_str()), (2, "outcome.response"));
}
