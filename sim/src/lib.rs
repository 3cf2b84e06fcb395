//! # zabsim-sim
//!
//! The deterministic simulator: the kernel (event queue, virtual time, per-node clocks, network,
//! disks, faults, one seeded RNG), the cluster glue that drives the sans-IO ZooKeeper servers and
//! clients of `zabsim-protocol`, the scenario schema, the runner and the `zabsim` binary.

pub mod cli;
pub mod cluster;
pub mod kernel;
pub mod runner;
pub mod scenario;
pub mod workload;
