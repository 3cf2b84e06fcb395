//! Adler-32 (RFC 1950), the checksum `FileTxnLog` puts before every record and `FileSnap` seals
//! snapshots with (`java.util.zip.Adler32`).

const MOD_ADLER: u32 = 65_521;
/// Bytes that can be summed before the 32-bit sums must be reduced (zlib's NMAX).
const NMAX: usize = 5552;

/// A running Adler-32 checksum, as `java.util.zip.Adler32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adler32 {
    a: u32,
    b: u32,
}

impl Default for Adler32 {
    fn default() -> Self {
        Adler32::new()
    }
}

impl Adler32 {
    /// A fresh checksum (value 1).
    pub fn new() -> Adler32 {
        Adler32 { a: 1, b: 0 }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(NMAX) {
            for &byte in chunk {
                self.a += u32::from(byte);
                self.b += self.a;
            }
            self.a %= MOD_ADLER;
            self.b %= MOD_ADLER;
        }
        assert!(self.a < MOD_ADLER && self.b < MOD_ADLER);
    }

    /// The checksum so far, as `Checksum.getValue()` returns it (a non-negative long).
    pub fn value(&self) -> u64 {
        (u64::from(self.b) << 16) | u64::from(self.a)
    }
}

/// The Adler-32 of `bytes`.
pub fn adler32(bytes: &[u8]) -> u64 {
    let mut sum = Adler32::new();
    sum.update(bytes);
    sum.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let long = vec![0xffu8; 100_000];
        let mut split = Adler32::new();
        split.update(&long[..7]);
        split.update(&long[7..]);
        assert_eq!(split.value(), adler32(&long));
    }
}
