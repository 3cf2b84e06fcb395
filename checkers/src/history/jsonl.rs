//! JSON Lines: one [`Record`] per line, serde_json's externally tagged form
//! (`{"invoke":{...}}`). Blank lines are skipped; anything else that does not parse is a
//! [`HistoryError`] naming the line and field.

use super::{HistoryError, Record};
use std::io::{BufRead, Write};

/// Writes one record as one line.
pub fn write_record(out: &mut impl Write, record: &Record) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}

/// Writes every record, one per line.
pub fn write_records<'a>(
    out: &mut impl Write,
    records: impl IntoIterator<Item = &'a Record>,
) -> std::io::Result<()> {
    for record in records {
        write_record(out, record)?;
    }
    Ok(())
}

/// Reads every record; the first bad line is an error naming it.
pub fn read_records(input: impl BufRead) -> Result<Vec<Record>, HistoryError> {
    let mut records = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| HistoryError::new(number, "record", e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record =
            serde_json::from_str(&line).map_err(|e| HistoryError::from_json(number, &e))?;
        records.push(record);
    }
    Ok(records)
}
