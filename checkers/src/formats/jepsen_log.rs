//! Jepsen log lines as in Horn & Kroening's etcd histories (Porcupine's `test_data/jepsen`):
//! `INFO  jepsen.util - <process>\t:<type>\t:<f>\t<value>`; lines are in real-time order.

use super::edn::{read_all, Edn};
use super::raw::{pair, Dialect, EventType, RawEvent, RawHistory};
use crate::history::HistoryError;

/// The marker that identifies the format.
pub const MARKER: &str = "jepsen.util - ";

/// Reads a Jepsen log.
pub fn read(text: &str) -> Result<RawHistory, HistoryError> {
    let mut events = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((_, rest)) = line.split_once(MARKER) else {
            return Err(HistoryError::new(
                number,
                "record",
                "not a `jepsen.util -` line",
            ));
        };
        events.push(parse_fields(number, rest)?);
    }
    pair(events, Dialect::JepsenLog)
}

fn parse_fields(line: usize, rest: &str) -> Result<RawEvent, HistoryError> {
    let (process, rest) = next_field(rest);
    let (kind, rest) = next_field(rest);
    let (f, value_text) = next_field(rest);
    let process: i64 = process.parse().map_err(|_| {
        HistoryError::new(
            line,
            "process",
            format!("`{process}` is not a process number"),
        )
    })?;
    let kind = kind
        .strip_prefix(':')
        .and_then(EventType::from_name)
        .ok_or_else(|| HistoryError::new(line, "type", format!("`{kind}` is not a type")))?;
    let Some(f) = f.strip_prefix(':').filter(|f| !f.is_empty()) else {
        return Err(HistoryError::new(
            line,
            "f",
            format!("`{f}` is not a keyword"),
        ));
    };
    let forms = read_all(value_text).map_err(|e| HistoryError::new(line, "value", e.message))?;
    let value = match forms.len() {
        0 => Edn::Nil,
        1 => forms.into_iter().next().map_or(Edn::Nil, |(_, v)| v),
        _ => return Err(HistoryError::new(line, "value", "more than one value")),
    };
    Ok(RawEvent {
        line,
        process,
        kind,
        f: f.to_string(),
        key: None,
        value,
    })
}

/// Splits off the first whitespace-separated field (the logs mix tabs and spaces).
fn next_field(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], &text[end..]),
        None => (text, ""),
    }
}
