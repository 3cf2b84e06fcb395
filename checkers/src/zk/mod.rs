//! ZooKeeper-specific judges: consistency model, durability, replica agreement, ZAB invariants, liveness, sessions and watches.
