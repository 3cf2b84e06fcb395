//! A small reader for the EDN subset Jepsen and Knossos histories use: `nil`, booleans,
//! integers, floats, strings, characters are not needed; keywords (`:ok`), symbols, vectors,
//! lists, maps and sets; `,` is whitespace, `;` starts a comment, `#_` discards a form.
//! Every top-level form remembers the 1-based line it starts on.

use crate::history::HistoryError;
use std::fmt;

/// An EDN value.
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (kept as written).
    Float(f64),
    /// A string.
    Str(String),
    /// A keyword, without its colon.
    Keyword(String),
    /// A symbol.
    Symbol(String),
    /// `[...]` or `(...)`.
    List(Vec<Edn>),
    /// `{k v ...}` in file order.
    Map(Vec<(Edn, Edn)>),
    /// `#{...}`.
    Set(Vec<Edn>),
}

impl Edn {
    /// The value under keyword `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(name) if name == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

impl fmt::Display for Edn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Edn::Nil => write!(f, "nil"),
            Edn::Bool(b) => write!(f, "{b}"),
            Edn::Int(i) => write!(f, "{i}"),
            Edn::Float(x) => write!(f, "{x}"),
            Edn::Str(s) => write!(f, "{s:?}"),
            Edn::Keyword(k) => write!(f, ":{k}"),
            Edn::Symbol(s) => write!(f, "{s}"),
            Edn::List(items) | Edn::Set(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            Edn::Map(entries) => {
                write!(f, "{{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

/// A reader over one text.
#[derive(Debug)]
pub struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Reader {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    /// The current 1-based line.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Skips whitespace, commas and comments; `true` if input remains.
    pub fn skip_blank(&mut self) -> bool {
        while let Some(&c) = self.text.get(self.pos) {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b',' => self.pos += 1,
                b';' => {
                    while self.text.get(self.pos).is_some_and(|&c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => return true,
            }
        }
        false
    }

    /// Peeks at the next non-blank byte.
    pub fn peek(&mut self) -> Option<u8> {
        if self.skip_blank() {
            self.text.get(self.pos).copied()
        } else {
            None
        }
    }

    /// Consumes one byte (after blanks).
    pub fn bump(&mut self) {
        if self.skip_blank() {
            self.pos += 1;
        }
    }

    fn err(&self, message: impl Into<String>) -> HistoryError {
        HistoryError::new(self.line, "edn", message)
    }

    /// Reads one form.
    pub fn read(&mut self) -> Result<Edn, HistoryError> {
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected end of input"));
        };
        match c {
            b'[' | b'(' => {
                self.pos += 1;
                Ok(Edn::List(self.read_seq(if c == b'[' {
                    b']'
                } else {
                    b')'
                })?))
            }
            b'{' => {
                self.pos += 1;
                let items = self.read_seq(b'}')?;
                if items.len() % 2 != 0 {
                    return Err(self.err("a map with an odd number of forms"));
                }
                let mut entries = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    entries.push((k, v));
                }
                Ok(Edn::Map(entries))
            }
            b'#' => self.read_dispatch(),
            b'"' => self.read_string(),
            b']' | b')' | b'}' => Err(self.err(format!("unexpected `{}`", c as char))),
            _ => self.read_atom(),
        }
    }

    fn read_dispatch(&mut self) -> Result<Edn, HistoryError> {
        self.pos += 1;
        match self.text.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                Ok(Edn::Set(self.read_seq(b'}')?))
            }
            Some(b'_') => {
                self.pos += 1;
                self.read()?;
                self.read()
            }
            _ => {
                // A tagged literal (#inst "...", #jepsen.history.Op{...}): keep the value.
                let _tag = self.read_atom()?;
                self.read()
            }
        }
    }

    fn read_seq(&mut self, close: u8) -> Result<Vec<Edn>, HistoryError> {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None => {
                    return Err(self.err(format!("missing closing `{}`", close as char)));
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => items.push(self.read()?),
            }
        }
    }

    fn read_string(&mut self) -> Result<Edn, HistoryError> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.text.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.text.get(self.pos) else {
                        return Err(self.err("unterminated string escape"));
                    };
                    self.pos += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        other => other,
                    });
                }
                b'\n' => {
                    self.line += 1;
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out)
            .map(Edn::Str)
            .map_err(|_| self.err("a string that is not UTF-8"))
    }

    fn read_atom(&mut self) -> Result<Edn, HistoryError> {
        let start = self.pos;
        while let Some(&c) = self.text.get(self.pos) {
            if c.is_ascii_whitespace() || b",;()[]{}\"".contains(&c) {
                break;
            }
            self.pos += 1;
        }
        let token = std::str::from_utf8(&self.text[start..self.pos])
            .map_err(|_| self.err("a token that is not UTF-8"))?;
        if token.is_empty() {
            return Err(self.err("empty token"));
        }
        Ok(atom(token))
    }
}

/// Parses one atom token.
pub fn atom(token: &str) -> Edn {
    match token {
        "nil" => return Edn::Nil,
        "true" => return Edn::Bool(true),
        "false" => return Edn::Bool(false),
        _ => {}
    }
    if let Some(name) = token.strip_prefix(':') {
        return Edn::Keyword(name.to_string());
    }
    let digits = token.trim_end_matches('N');
    if let Ok(i) = digits.parse::<i64>() {
        return Edn::Int(i);
    }
    if let Ok(x) = token.trim_end_matches('M').parse::<f64>() {
        if token.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
            return Edn::Float(x);
        }
    }
    Edn::Symbol(token.to_string())
}

/// Parses a whole text into its top-level forms with their start lines.
pub fn read_all(text: &str) -> Result<Vec<(usize, Edn)>, HistoryError> {
    let mut reader = Reader::new(text);
    let mut forms = Vec::new();
    while reader.skip_blank() {
        let line = reader.line();
        forms.push((line, reader.read()?));
    }
    Ok(forms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_maps_vectors_comments() {
        let forms = read_all("; c\n[{:a 1, :b [2 nil]}\n {:c \"x y\" :d -3}]").unwrap();
        assert_eq!(forms.len(), 1);
        let Edn::List(items) = &forms[0].1 else {
            panic!()
        };
        assert_eq!(
            items[0].get("b"),
            Some(&Edn::List(vec![Edn::Int(2), Edn::Nil]))
        );
        assert_eq!(items[1].get("c"), Some(&Edn::Str("x y".into())));
        assert_eq!(items[1].get("d"), Some(&Edn::Int(-3)));
        assert_eq!(forms[0].0, 2);
    }

    #[test]
    fn errors_name_the_line() {
        let err = read_all("{:a 1}\n{:b 2\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("closing"));
        assert!(read_all("{:a}").is_err());
    }
}
