//! Logging through `tracing`, stamped with VIRTUAL time and the node being stepped.
//!
//! Contract: the kernel publishes the current virtual instant and node to a thread-local cell at
//! every step (cheap: two stores), and [`VirtualTime`] prints them in place of the wall-clock
//! timestamp, e.g. `12.000345678s n3`. Nothing here affects the simulation: logging is an
//! output only, and a run's trace hash does not depend on whether logging is enabled. Parallel
//! sweeps on several threads each see their own simulation's time (the cell is thread-local).

use std::cell::Cell;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::EnvFilter;

use super::process::NodeId;
use super::time::{SimTime, NS_PER_SEC};

thread_local! {
    static NOW: Cell<(u64, u32)> = const { Cell::new((0, u32::MAX)) };
}

/// Publishes the current virtual time and node (called by the kernel at every step).
pub fn set_now(at: SimTime, node: Option<NodeId>) {
    NOW.with(|c| c.set((at.0, node.map_or(u32::MAX, |n| n.0))));
}

/// The virtual time and node last published on this thread.
pub fn current() -> (SimTime, Option<NodeId>) {
    let (t, n) = NOW.with(Cell::get);
    (SimTime(t), (n != u32::MAX).then_some(NodeId(n)))
}

/// A `tracing-subscriber` timer that prints virtual time and the node, never wall time.
#[derive(Clone, Copy, Debug, Default)]
pub struct VirtualTime;

impl FormatTime for VirtualTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let (t, node) = current();
        write!(w, "{:>5}.{:09}s ", t.0 / NS_PER_SEC, t.0 % NS_PER_SEC)?;
        match node {
            Some(n) => write!(w, "{:<4}", n.to_string()),
            None => write!(w, "{:<4}", "-"),
        }
    }
}

/// Installs the global subscriber for the binary: virtual-time stamps, node ids, and the filter
/// `filter` if given, else `RUST_LOG`, else `warn`. Returns an error (and changes nothing) if a
/// subscriber is already installed or the filter does not parse.
pub fn init(filter: Option<&str>) -> Result<(), String> {
    let filter = match filter {
        Some(f) => EnvFilter::try_new(f).map_err(|e| format!("log filter {f:?}: {e}"))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
    };
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_timer(VirtualTime)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| format!("logging already initialised: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_prints_virtual_time_and_node() {
        set_now(SimTime(12_000_345_678), Some(NodeId(3)));
        let mut s = String::new();
        VirtualTime.format_time(&mut Writer::new(&mut s)).unwrap();
        assert_eq!(s, "   12.000345678s n3  ");
        set_now(SimTime(0), None);
        assert_eq!(current(), (SimTime(0), None));
    }
}
