//! Applying a resolved [`FaultKind`] to the world through the primitives of `inject.rs`.
//!
//! Contract: `apply_fault` expects a fault whose targets are all `Target::Nodes` (see
//! [`resolve`](super::resolve::resolve)); it never draws targets itself, only the bytes and files
//! of disk corruption and the shape of a bridge or swizzle, from the faults stream.

use super::disk::Region;
use super::fault::{ms, FaultError, FaultKind, FileSel, OutOfModelFault, RegionSel, Target};
use super::process::{NodeId, Process};
use super::rng::Ratio;
use super::time::SimTime;
use super::world::{Ev, NodeStatus, World};

fn nodes<R>(t: &Target<R>) -> Result<&[NodeId], FaultError> {
    match t {
        Target::Nodes(ns) => Ok(ns),
        _ => Err(FaultError(
            "fault applied before its targets were resolved".into(),
        )),
    }
}

impl<P: Process> World<P> {
    /// Applies a resolved fault now.
    pub fn apply_fault<R: Clone>(&mut self, fault: &FaultKind<R>) -> Result<(), FaultError> {
        if let Some(n) = fault.unknown_node(self.nodes().len()) {
            return Err(FaultError(format!(
                "no node {n} (the world has {})",
                self.nodes().len()
            )));
        }
        match fault {
            FaultKind::Crash { target, disk } => {
                nodes(target)?.iter().for_each(|&n| self.crash(n, *disk))
            }
            FaultKind::CrashAfterDiskOps { target, ops, disk } => {
                if *ops == 0 {
                    return Err(FaultError(
                        "CrashAfterDiskOps.ops must be at least 1".into(),
                    ));
                }
                nodes(target)?
                    .iter()
                    .for_each(|&n| self.crash_after_disk_ops(n, *ops, *disk));
            }
            FaultKind::Kill { target } => nodes(target)?.iter().for_each(|&n| self.kill(n)),
            FaultKind::Restart { target } => nodes(target)?.iter().for_each(|&n| self.restart(n)),
            FaultKind::Pause { target } => nodes(target)?.iter().for_each(|&n| self.pause(n)),
            FaultKind::Resume { target } => nodes(target)?.iter().for_each(|&n| self.resume(n)),
            FaultKind::Isolate { target } => self.isolate(nodes(target)?),
            FaultKind::PartitionGroups { groups } => {
                let groups: Vec<Vec<NodeId>> = groups
                    .iter()
                    .map(|g| nodes(g).map(<[NodeId]>::to_vec))
                    .collect::<Result<_, _>>()?;
                self.partition_groups(&groups);
            }
            FaultKind::Bridge { bridge } => self.bridge(nodes(bridge)?),
            FaultKind::OneWay { from, to } => self.partition_one_way(nodes(from)?, nodes(to)?),
            FaultKind::HealNetwork => self.heal_network(),
            FaultKind::Clog {
                from,
                to,
                duration_ms,
                symmetric,
            } => {
                let (f, t) = (nodes(from)?, nodes(to)?);
                self.clog(f, t, ms(*duration_ms));
                if *symmetric {
                    self.clog(t, f, ms(*duration_ms));
                }
            }
            FaultKind::SwizzleClog {
                nodes: ns,
                step_ms,
                hold_ms,
            } => {
                self.swizzle_clog(nodes(ns)?, ms(*step_ms), ms(*hold_ms));
            }
            FaultKind::SlowLink { from, to, extra_ms } => {
                self.slow_link(nodes(from)?, nodes(to)?, ms(*extra_ms));
            }
            FaultKind::BreakConnections { a, b } => self.break_connections(nodes(a)?, nodes(b)?),
            FaultKind::ClockJump { .. }
            | FaultKind::ClockDrift { .. }
            | FaultKind::SlowFsync { .. }
            | FaultKind::DiskFull { .. }
            | FaultKind::DiskErrors { .. } => self.apply_clock_or_disk(fault)?,
            FaultKind::HealAll => self.heal_all(),
            FaultKind::OutOfModel(o) => self.apply_out_of_model(o)?,
        }
        Ok(())
    }

    fn apply_clock_or_disk<R: Clone>(&mut self, fault: &FaultKind<R>) -> Result<(), FaultError> {
        match fault {
            FaultKind::ClockJump {
                target,
                clock,
                delta_ms,
            } => {
                for &n in nodes(target)? {
                    let delta = delta_ms.saturating_mul(1_000_000);
                    self.clock_jump(n, *clock, delta)
                        .map_err(|e| FaultError(format!("{n}: {e}")))?;
                }
            }
            FaultKind::ClockDrift { target, drift_ppm } => {
                for &n in nodes(target)? {
                    self.set_drift(n, *drift_ppm)
                        .map_err(|e| FaultError(format!("{n}: {e}")))?;
                }
            }
            FaultKind::SlowFsync { target, extra_ms } => {
                nodes(target)?
                    .iter()
                    .for_each(|&n| self.slow_fsync(n, ms(*extra_ms)));
            }
            FaultKind::DiskFull { target, free_bytes } => {
                nodes(target)?
                    .iter()
                    .for_each(|&n| self.disk_free(n, *free_bytes));
            }
            FaultKind::DiskErrors { target, chance } => {
                if !chance.is_valid() {
                    return Err(FaultError(format!("invalid chance {chance}")));
                }
                nodes(target)?
                    .iter()
                    .for_each(|&n| self.disk_errors(n, *chance));
            }
            _ => unreachable!("apply_clock_or_disk called with another kind of fault"),
        }
        Ok(())
    }

    fn apply_out_of_model<R: Clone>(&mut self, o: &OutOfModelFault<R>) -> Result<(), FaultError> {
        match o {
            OutOfModelFault::BitFlip {
                target,
                file,
                region,
            } => {
                for &n in nodes(target)? {
                    let (name, reg) = self.pick_region(n, file, *region)?;
                    self.bit_flip(n, &name, reg)
                        .map_err(|e| FaultError(format!("{n}: {e}")))?;
                }
            }
            OutOfModelFault::LatentReadError {
                target,
                file,
                region,
            } => {
                for &n in nodes(target)? {
                    let (name, reg) = self.pick_region(n, file, *region)?;
                    self.latent_read_error(n, &name, reg)
                        .map_err(|e| FaultError(format!("{n}: {e}")))?;
                }
            }
            OutOfModelFault::FsyncLies { target, lies } => {
                nodes(target)?
                    .iter()
                    .for_each(|&n| self.fsync_lies(n, *lies));
            }
            OutOfModelFault::Wipe { target } => nodes(target)?.iter().for_each(|&n| self.wipe(n)),
            OutOfModelFault::Messages {
                kind,
                from,
                to,
                chance,
                duration_ms,
            } => {
                if !chance.is_valid() {
                    return Err(FaultError(format!("invalid chance {chance}")));
                }
                self.message_fault(*kind, nodes(from)?, nodes(to)?, *chance, ms(*duration_ms));
            }
        }
        Ok(())
    }

    fn pick_region(
        &mut self,
        node: NodeId,
        file: &FileSel,
        region: RegionSel,
    ) -> Result<(String, Region), FaultError> {
        let files = self.disk(node).list();
        let candidates: Vec<String> = match file {
            FileSel::Name(n) => files.into_iter().filter(|f| f == n).collect(),
            FileSel::Prefix(p) => files
                .into_iter()
                .filter(|f| f.starts_with(p.as_str()))
                .collect(),
            FileSel::Any => files,
        };
        let Some(name) = self.faults_rng().choose(&candidates).cloned() else {
            return Err(FaultError(format!("{node}: no file matches {file:?}")));
        };
        let len = self.disk(node).len(&name).unwrap_or(0);
        let reg = match region {
            RegionSel::At(r) => r,
            RegionSel::Tail { len: l } => Region {
                offset: len.saturating_sub(l),
                len: l.min(len),
            },
            RegionSel::Random { len: l } => {
                let l = l.min(len);
                let offset = self.faults_rng().range_inclusive(0, len - l);
                Region { offset, len: l }
            }
        };
        Ok((name, reg))
    }

    /// Splits the other faultable nodes in two random halves that each reach only `bridge`.
    pub fn bridge(&mut self, bridge: &[NodeId]) {
        let mut rest: Vec<NodeId> = self
            .faultable_nodes()
            .into_iter()
            .filter(|n| !bridge.contains(n))
            .collect();
        self.faults_rng().shuffle(&mut rest);
        let right = rest.split_off(rest.len() / 2);
        let left = rest;
        self.set_partition(|s, d| {
            (left.contains(&s) && right.contains(&d)) || (right.contains(&s) && left.contains(&d))
        });
    }

    /// FoundationDB's swizzle-clog over `nodes` (see [`FaultKind::SwizzleClog`]).
    pub fn swizzle_clog(&mut self, nodes: &[NodeId], step_ns: u64, hold_ns: u64) {
        let mut order = nodes.to_vec();
        self.faults_rng().shuffle(&mut order);
        let mut unclog = order.clone();
        self.faults_rng().shuffle(&mut unclog);
        let now = self.now();
        let k = order.len() as u64;
        let everyone = self.nodes();
        for (i, &n) in order.iter().enumerate() {
            let start = now.plus_ns(i as u64 * step_ns);
            let pos = unclog.iter().position(|&m| m == n).unwrap_or(0) as u64;
            let end = now.plus_ns(k * step_ns + hold_ns + pos * step_ns);
            self.clog_window(vec![n], everyone.clone(), start, end);
            self.clog_window(everyone.clone(), vec![n], start, end);
        }
    }

    /// Clogs `from -> to` during `[start, end)`; a future start is scheduled.
    pub fn clog_window(
        &mut self,
        from: Vec<NodeId>,
        to: Vec<NodeId>,
        start: SimTime,
        end: SimTime,
    ) {
        let now = self.now();
        if start <= now {
            self.clog(&from, &to, end.since(now));
        } else {
            let idx = self.core.scheduled_clogs.len();
            self.core.scheduled_clogs.push((from, to, end));
            self.core.queue.push(start, Ev::ClogStart { idx });
        }
    }

    pub(crate) fn on_clog_start(&mut self, idx: usize) {
        let Some((from, to, end)) = self.core.scheduled_clogs.get(idx).cloned() else {
            return;
        };
        let now = self.now();
        self.clog(&from, &to, end.since(now));
    }

    /// Heals everything: the network, every paused node, every down faultable node (restart),
    /// slow fsyncs, lying fsyncs, disk capacity limits and clock drift. Clock offsets stay.
    pub fn heal_all(&mut self) {
        self.heal_network();
        for n in self.faultable_nodes() {
            match self.status(n) {
                NodeStatus::Paused => self.resume(n),
                NodeStatus::Down => self.restart(n),
                NodeStatus::Running => {}
            }
            if self.core.node(n).disk.fsync_extra_ns > 0 {
                self.slow_fsync(n, 0);
            }
            if self.core.node(n).disk.fsync_lies {
                self.fsync_lies(n, false);
            }
            if self.core.node(n).disk.error_chance != Ratio::NEVER {
                self.disk_errors(n, Ratio::NEVER);
            }
            let configured = self.core.config.disk.capacity_bytes;
            if self.core.node(n).disk.capacity_bytes() != configured {
                self.core.node_mut(n).disk.set_capacity(configured);
            }
            let initial = self.core.node(n).initial_drift_ppm;
            if self.core.node(n).clock.drift_ppm() != initial {
                // A drift within the initial bound is always valid.
                if let Err(e) = self.set_drift(n, initial) {
                    unreachable!("initial drift rejected: {e}");
                }
            }
        }
    }
}
