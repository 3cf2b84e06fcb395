//! Jepsen/Knossos EDN histories: one vector or list of operation maps, or a plain sequence of
//! maps (Porcupine's kv files, one per line). Maps need `:process`, `:type`, `:f`; `:value`
//! and `:key` are optional. Events of non-numeric processes (`:nemesis`) are skipped.

use super::edn::{Edn, Reader};
use super::raw::{pair, Dialect, EventType, RawEvent, RawHistory};
use crate::history::HistoryError;

/// Reads an EDN history.
pub fn read(text: &str) -> Result<RawHistory, HistoryError> {
    let maps = top_level_maps(text)?;
    let mut events = Vec::with_capacity(maps.len());
    for (index, (line, map)) in maps.into_iter().enumerate() {
        if let Some(event) = event(line, index, &map)? {
            events.push(event);
        }
    }
    pair(events, Dialect::Knossos)
}

/// The operation maps with the line each starts on: the items of top-level vectors or lists,
/// and top-level maps.
fn top_level_maps(text: &str) -> Result<Vec<(usize, Edn)>, HistoryError> {
    let mut reader = Reader::new(text);
    let mut maps = Vec::new();
    while let Some(c) = reader.peek() {
        if c == b'[' || c == b'(' {
            let close = if c == b'[' { b']' } else { b')' };
            reader.bump();
            loop {
                match reader.peek() {
                    None => {
                        return Err(HistoryError::new(
                            reader.line(),
                            "edn",
                            "missing closing bracket",
                        ))
                    }
                    Some(c) if c == close => {
                        reader.bump();
                        break;
                    }
                    Some(_) => {
                        let line = reader.line();
                        maps.push((line, reader.read()?));
                    }
                }
            }
        } else {
            let line = reader.line();
            maps.push((line, reader.read()?));
        }
    }
    Ok(maps)
}

fn event(line: usize, index: usize, map: &Edn) -> Result<Option<RawEvent>, HistoryError> {
    let at = |field: &str, message: String| {
        HistoryError::new(line, field, format!("{message} (operation #{})", index + 1))
    };
    if !matches!(map, Edn::Map(_)) {
        return Err(at(
            "record",
            format!("expected an operation map, found {map}"),
        ));
    }
    let process = match map.get("process") {
        Some(Edn::Int(p)) => *p,
        Some(Edn::Keyword(_)) => return Ok(None),
        Some(other) => return Err(at("process", format!("`{other}` is not a process"))),
        None => return Err(at("process", "missing".into())),
    };
    let kind = match map.get("type") {
        Some(Edn::Keyword(k)) => EventType::from_name(k)
            .ok_or_else(|| at("type", format!("`:{k}` is not invoke/ok/fail/info")))?,
        Some(other) => return Err(at("type", format!("`{other}` is not a keyword"))),
        None => return Err(at("type", "missing".into())),
    };
    let f = match map.get("f") {
        Some(Edn::Keyword(f)) | Some(Edn::Symbol(f)) | Some(Edn::Str(f)) => f.clone(),
        Some(other) => return Err(at("f", format!("`{other}` is not a function name"))),
        None => return Err(at("f", "missing".into())),
    };
    Ok(Some(RawEvent {
        line,
        process,
        kind,
        f,
        key: map.get("key").cloned(),
        value: map.get("value").cloned().unwrap_or(Edn::Nil),
    }))
}
