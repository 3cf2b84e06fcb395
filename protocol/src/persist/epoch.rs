//! The epoch files `acceptedEpoch` and `currentEpoch`: the epoch as a decimal long with no
//! newline (`QuorumPeer.writeLongToFile`), read back as the first line (`readLongFromFile`).

use super::error::PersistError;
use crate::types::Epoch;

pub use super::names::{ACCEPTED_EPOCH, CURRENT_EPOCH};

/// The bytes of an epoch file.
pub fn encode_epoch(epoch: Epoch) -> Vec<u8> {
    epoch.0.to_string().into_bytes()
}

/// Parses an epoch file (`name` is used in errors): the first line must be a decimal long that
/// fits an epoch (`Long.parseLong` accepts no spaces; a trailing newline is fine).
pub fn decode_epoch(name: &str, bytes: &[u8]) -> Result<Epoch, PersistError> {
    let bad = |problem: String| PersistError::Malformed {
        file: name.to_string(),
        offset: 0,
        field: "epoch",
        problem,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not text: {e}")))?;
    let line = text.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let value: i64 = line
        .parse()
        .map_err(|_| bad(format!("not a decimal long: {line:?}")))?;
    u32::try_from(value)
        .map(Epoch)
        .map_err(|_| bad(format!("epoch {value} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_files_are_decimal_text() {
        assert_eq!(encode_epoch(Epoch(12)), b"12".to_vec());
        assert_eq!(decode_epoch("currentEpoch", b"12"), Ok(Epoch(12)));
        assert_eq!(decode_epoch("currentEpoch", b"12\n"), Ok(Epoch(12)));
        assert!(decode_epoch("currentEpoch", b" 12").is_err());
        assert!(decode_epoch("currentEpoch", b"").is_err());
        assert!(decode_epoch("currentEpoch", b"-1").is_err());
    }
}
