//! `HistoryError`: a malformed history (a harness bug), never confused with a `Violation`.

use std::fmt;

/// A history file or record sequence that cannot be judged: names the 1-based line (or record
/// index + 1 for in-memory sequences) and the offending field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryError {
    /// 1-based line number (0 when the problem is not tied to a line, e.g. an I/O error).
    pub line: usize,
    /// The field at fault (`time_ns`, `id`, `outcome.zxid`, ...), or `record` for the whole line.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl HistoryError {
    /// A new error at `line` about `field`.
    pub fn new(line: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        HistoryError {
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    /// From a serde_json error on `line`: the field is the first back-quoted name in the
    /// message (serde names the missing or unknown field or variant that way), else `record`.
    pub fn from_json(line: usize, err: &serde_json::Error) -> Self {
        let text = err.to_string();
        let field = text
            .split('`')
            .nth(1)
            .filter(|name| !name.is_empty())
            .unwrap_or("record")
            .to_string();
        HistoryError {
            line,
            field,
            message: format!("{text} (column {})", err.column()),
        }
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "history line {}: field `{}`: {}",
            self.line, self.field, self.message
        )
    }
}

impl std::error::Error for HistoryError {}
