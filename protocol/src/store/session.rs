//! Session timeout rules (pure), partial: negotiation and `ExpiryQueue` bucket rounding. The
//! session table, expiry queue and ephemeral cleanup are not built yet.

/// Negotiated timeout: the requested one clamped to `[min, max]`, where ZooKeeper defaults
/// `minSessionTimeout` to 2×tickTime and `maxSessionTimeout` to 20×tickTime.
pub fn negotiate_timeout(requested_ms: i32, tick_time_ms: i32) -> i32 {
    let min = tick_time_ms.saturating_mul(2);
    let max = tick_time_ms.saturating_mul(20);
    requested_ms.clamp(min, max)
}

/// `ExpiryQueue.roundToInterval`: the expiry bucket of `time_ms`, the next multiple of
/// `expiration_interval_ms` strictly after `time_ms` (ZooKeeper: `(time / interval + 1) * interval`).
pub fn round_to_interval(time_ms: i64, expiration_interval_ms: i64) -> i64 {
    assert!(
        expiration_interval_ms > 0,
        "expiration interval must be positive"
    );
    (time_ms / expiration_interval_ms + 1) * expiration_interval_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_clamps_to_two_and_twenty_ticks() {
        assert_eq!(negotiate_timeout(10_000, 2000), 10_000);
        assert_eq!(negotiate_timeout(100, 2000), 4000);
        assert_eq!(negotiate_timeout(1_000_000, 2000), 40_000);
    }

    #[test]
    fn rounding_goes_to_the_next_bucket() {
        assert_eq!(round_to_interval(0, 2000), 2000);
        assert_eq!(round_to_interval(1999, 2000), 2000);
        assert_eq!(round_to_interval(2000, 2000), 4000);
    }
}
