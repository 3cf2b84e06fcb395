//! jute's binary archive (`BinaryOutputArchive` / `BinaryInputArchive`): big-endian `int` and
//! `long`, one-byte `boolean`, length-prefixed `buffer` and `ustring` (length `-1` for null) and
//! vectors (count, `-1` for null, then the items). Records are their fields in order.

use super::error::{JuteError, JuteErrorKind};
use crate::acl::{Acl, Id};

/// `jute.maxbuffer` (default `0xfffff`) plus `zookeeper.jute.maxbuffer.extrasize` (1024): longer
/// length prefixes are "Unreasonable length" errors, as in `BinaryInputArchive.checkLength`.
pub const MAX_LENGTH: i32 = 0xfffff + 1024;

/// Appends jute values to a byte vector.
#[derive(Debug, Default)]
pub struct Writer {
    /// The bytes written so far.
    pub bytes: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// `writeInt`.
    pub fn int(&mut self, v: i32) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    /// `writeLong`.
    pub fn long(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    /// `writeBool`.
    pub fn boolean(&mut self, v: bool) {
        self.bytes.push(u8::from(v));
    }

    /// `writeByte`.
    pub fn byte(&mut self, v: u8) {
        self.bytes.push(v);
    }

    /// `writeBuffer`: `-1` for null.
    pub fn buffer(&mut self, v: Option<&[u8]>) {
        match v {
            None => self.int(-1),
            Some(b) => {
                self.int(length(b.len()));
                self.bytes.extend_from_slice(b);
            }
        }
    }

    /// `writeString` (UTF-8).
    pub fn string(&mut self, v: &str) {
        self.buffer(Some(v.as_bytes()));
    }

    /// `vector<ACL>`.
    pub fn acls(&mut self, acls: &[Acl]) {
        self.int(length(acls.len()));
        for acl in acls {
            self.int(acl.perms);
            self.string(&acl.id.scheme);
            self.string(&acl.id.id);
        }
    }

    /// `vector<ustring>`.
    pub fn strings(&mut self, v: &[String]) {
        self.int(length(v.len()));
        for s in v {
            self.string(s);
        }
    }
}

fn length(n: usize) -> i32 {
    i32::try_from(n).unwrap_or_else(|_| panic!("jute length {n} does not fit an int"))
}

/// Reads jute values from a byte slice, tracking the offset for error messages.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at offset 0.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    /// The current offset.
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The bytes read so far.
    pub fn consumed(&self) -> &'a [u8] {
        &self.bytes[..self.pos]
    }

    /// An error at the current offset.
    pub fn error(&self, field: &'static str, kind: JuteErrorKind) -> JuteError {
        JuteError {
            offset: self.offset(),
            field,
            kind,
        }
    }

    /// An `Invalid` error at `offset`.
    pub fn invalid_at(offset: u64, field: &'static str, text: String) -> JuteError {
        JuteError {
            offset,
            field,
            kind: JuteErrorKind::Invalid(text),
        }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], JuteError> {
        if self.remaining() < n {
            return Err(self.error(field, JuteErrorKind::Eof));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        assert!(self.pos <= self.bytes.len());
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], JuteError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    /// `readInt`.
    pub fn int(&mut self, field: &'static str) -> Result<i32, JuteError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    /// `readLong`.
    pub fn long(&mut self, field: &'static str) -> Result<i64, JuteError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// `readByte`.
    pub fn byte(&mut self, field: &'static str) -> Result<u8, JuteError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// `readBool` (any non-zero byte is true, as `DataInput.readBoolean`).
    pub fn boolean(&mut self, field: &'static str) -> Result<bool, JuteError> {
        Ok(self.byte(field)? != 0)
    }

    /// `readBuffer`: `None` for length `-1`.
    pub fn buffer(&mut self, field: &'static str) -> Result<Option<Vec<u8>>, JuteError> {
        let start = self.pos;
        let len = self.int(field)?;
        if len == -1 {
            return Ok(None);
        }
        if !(0..=MAX_LENGTH).contains(&len) {
            self.pos = start;
            return Err(self.error(field, JuteErrorKind::UnreasonableLength(len)));
        }
        Ok(Some(self.take(len as usize, field)?.to_vec()))
    }

    /// `readString`: `None` for null; invalid UTF-8 is an error.
    pub fn opt_string(&mut self, field: &'static str) -> Result<Option<String>, JuteError> {
        let start = self.offset();
        match self.buffer(field)? {
            None => Ok(None),
            Some(b) => String::from_utf8(b)
                .map(Some)
                .map_err(|e| Reader::invalid_at(start, field, format!("not UTF-8: {e}"))),
        }
    }

    /// A string that must not be null.
    pub fn string(&mut self, field: &'static str) -> Result<String, JuteError> {
        let start = self.offset();
        self.opt_string(field)?
            .ok_or_else(|| Reader::invalid_at(start, field, "null string".to_string()))
    }

    /// A vector count: `-1` (null) reads as an empty vector.
    pub fn count(&mut self, field: &'static str) -> Result<usize, JuteError> {
        let start = self.pos;
        let n = self.int(field)?;
        if n == -1 {
            return Ok(0);
        }
        // Each element takes at least one byte: a larger count cannot be honest.
        if n < 0 || n as usize > self.remaining() {
            self.pos = start;
            let kind = if n < 0 {
                JuteErrorKind::UnreasonableLength(n)
            } else {
                JuteErrorKind::Eof
            };
            return Err(self.error(field, kind));
        }
        Ok(n as usize)
    }

    /// `vector<ACL>`.
    pub fn acls(&mut self, field: &'static str) -> Result<Vec<Acl>, JuteError> {
        let n = self.count(field)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let perms = self.int("perms")?;
            let scheme = self.string("scheme")?;
            let id = self.string("id")?;
            out.push(Acl {
                perms,
                id: Id { scheme, id },
            });
        }
        Ok(out)
    }

    /// `vector<ustring>`.
    pub fn strings(&mut self, field: &'static str) -> Result<Vec<String>, JuteError> {
        let n = self.count(field)?;
        (0..n).map(|_| self.string(field)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_big_endian() {
        let mut w = Writer::new();
        w.int(-2);
        w.long(0x0102_0304_0506_0708);
        w.boolean(true);
        w.buffer(None);
        w.string("zk");
        assert_eq!(&w.bytes[..4], &[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(&w.bytes[4..12], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut r = Reader::new(&w.bytes);
        assert_eq!(r.int("a").unwrap(), -2);
        assert_eq!(r.long("b").unwrap(), 0x0102_0304_0506_0708);
        assert!(r.boolean("c").unwrap());
        assert_eq!(r.buffer("d").unwrap(), None);
        assert_eq!(r.string("e").unwrap(), "zk");
        assert_eq!(r.remaining(), 0);
        assert!(r.int("f").unwrap_err().is_eof());
    }

    #[test]
    fn unreasonable_lengths_are_not_eof() {
        let mut w = Writer::new();
        w.int(-5);
        let err = Reader::new(&w.bytes).buffer("data").unwrap_err();
        assert_eq!(err.kind, JuteErrorKind::UnreasonableLength(-5));
    }
}
