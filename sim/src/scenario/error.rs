//! Scenario errors: what is wrong, where (file, line, column) and which field.

use std::fmt;
use std::path::Path;

/// A scenario that cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field path (`cluster.servers`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ScenarioError {
    /// The file could not be read.
    pub fn io(path: &Path, error: &std::io::Error) -> ScenarioError {
        ScenarioError {
            file: path.display().to_string(),
            line: None,
            column: None,
            field: None,
            message: format!("cannot read: {error}"),
        }
    }

    /// The RON parser refused the text (syntax, unknown or missing field, wrong type).
    pub fn syntax(path: &Path, error: &ron::error::SpannedError) -> ScenarioError {
        let message = error.code.to_string();
        ScenarioError {
            file: path.display().to_string(),
            line: Some(error.position.line),
            column: Some(error.position.col),
            field: field_in_message(&message),
            message,
        }
    }

    /// The text parsed but describes an impossible run. The position is that of the field's
    /// first occurrence in the text, when it can be found.
    pub fn invalid(path: &Path, text: &str, field: &str, message: &str) -> ScenarioError {
        let leaf = field.rsplit('.').next().unwrap_or(field);
        let position = find_field(text, leaf);
        ScenarioError {
            file: path.display().to_string(),
            line: position.map(|p| p.0),
            column: position.map(|p| p.1),
            field: Some(field.to_string()),
            message: message.to_string(),
        }
    }
}

/// The field named in a serde message (`unknown field `foo`` / `missing field `bar``).
fn field_in_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

/// Line and column (1-based) of `name:` in the text.
fn find_field(text: &str, name: &str) -> Option<(usize, usize)> {
    for (i, line) in text.lines().enumerate() {
        if let Some(col) = line.find(&format!("{name}:")) {
            let before = line[..col].chars().last();
            if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
                return Some((i + 1, col + 1));
            }
        }
    }
    None
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}
