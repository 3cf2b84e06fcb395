//! The generic deterministic kernel: event queue, virtual time, RNG streams, clocks, network, disks, faults and the trace. It knows nothing of ZooKeeper.
