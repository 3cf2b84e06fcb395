//! The runner: one seed of a scenario end to end, sweeps, reports and reproduce lines.
