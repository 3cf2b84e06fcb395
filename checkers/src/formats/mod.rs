//! Readers for external history formats, recognised from the content:
//!
//! | format | recognised by | example |
//! |---|---|---|
//! | Jepsen log (Horn & Kroening's etcd runs, Porcupine `test_data/jepsen`) | a `jepsen.util - ` line | `INFO  jepsen.util - 3 :invoke :cas [0 3]` |
//! | Jepsen / Knossos EDN, incl. Porcupine's kv files | starts with `[`, `(`, `{:` or `;` | `{:process 0, :type :invoke, :f :read, :value nil}` |
//! | zabsim JSON Lines ([`crate::history`]) | starts with `{"` | `{"invoke":{"id":0,...}}` |
//!
//! A malformed file is a [`FileError`]: the file, the 1-based line and the field.

pub mod edn;
pub mod jepsen_log;
pub mod knossos;
pub mod raw;

use crate::history::{History, HistoryError};
use raw::RawHistory;
use std::fmt;
use std::path::{Path, PathBuf};

/// The formats we read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Jepsen log lines.
    JepsenLog,
    /// Jepsen / Knossos EDN.
    Edn,
    /// zabsim JSON Lines.
    ZabsimJsonl,
}

/// A history as read.
#[derive(Clone, Debug, PartialEq)]
pub enum Loaded {
    /// A Jepsen-style history (log or EDN).
    Jepsen(RawHistory),
    /// A zabsim history.
    Zabsim(History),
}

/// A malformed history file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong, where.
    pub error: HistoryError,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: field `{}`: {}",
            self.file.display(),
            self.error.line,
            self.error.field,
            self.error.message
        )
    }
}

impl std::error::Error for FileError {}

/// Recognises the format from the first meaningful characters.
pub fn detect(text: &str) -> Format {
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first_line.contains(jepsen_log::MARKER) {
        return Format::JepsenLog;
    }
    let start = first_line.trim_start();
    if start.starts_with("{\"") || start.starts_with("{ \"") {
        Format::ZabsimJsonl
    } else {
        Format::Edn
    }
}

/// Parses a history in any supported format.
pub fn parse(text: &str) -> Result<Loaded, HistoryError> {
    match detect(text) {
        Format::JepsenLog => jepsen_log::read(text).map(Loaded::Jepsen),
        Format::Edn => knossos::read(text).map(Loaded::Jepsen),
        Format::ZabsimJsonl => History::read(text.as_bytes()).map(Loaded::Zabsim),
    }
}

/// Reads and parses a history file.
pub fn read_file(path: &Path) -> Result<Loaded, FileError> {
    let wrap = |error| FileError {
        file: path.to_path_buf(),
        error,
    };
    let bytes =
        std::fs::read(path).map_err(|e| wrap(HistoryError::new(0, "file", e.to_string())))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| wrap(HistoryError::new(0, "file", format!("not UTF-8: {e}"))))?;
    parse(&text).map_err(wrap)
}
