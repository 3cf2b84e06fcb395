//! The driver: a [`World`] plus a fault timeline, an optional random nemesis and a role
//! resolver; `step` and `run_until` with guard rails.
//!
//! Contract. Faults are control events in the same queue as everything else, so they
//! interleave deterministically with protocol events. A fault's targets are resolved when it
//! applies (the leader *then*), the resolved form is logged and recorded in the trace, and a
//! timed fault (`heal_after_ms`) is undone by the inverse of its resolved form. A run ends with
//! an [`Outcome`]: the caller's condition, quiescence, a **stall** (no event pending while a
//! process reports outstanding work — never a pass), or a time/event limit.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::fault::{ms, FaultKind, RoleResolver};
use super::nemesis::NemesisConfig;
use super::process::Process;
use super::resolve::{inverse, resolve};
use super::time::SimTime;
use super::world::{Step, World};

/// A fault at a time, optionally undone after a while.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault<R> {
    /// When (virtual milliseconds since the start).
    pub at_ms: u64,
    /// What.
    pub fault: FaultKind<R>,
    /// Undo it (the inverse of its resolved form) this long after.
    #[serde(default)]
    pub heal_after_ms: Option<u64>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The caller's condition became true.
    Reached,
    /// Nothing is scheduled and no process reports outstanding work.
    Quiescent,
    /// Nothing is scheduled but a process reports outstanding work: the run is stuck.
    Stalled {
        /// When it stalled.
        at: SimTime,
    },
    /// The next event lies beyond the virtual-time limit.
    TimeLimit {
        /// The limit.
        at: SimTime,
    },
    /// The event-count limit was reached.
    EventLimit {
        /// Events processed.
        events: u64,
    },
}

impl Outcome {
    /// True for a stall (a failure, never a pass).
    pub fn is_stall(self) -> bool {
        matches!(self, Outcome::Stalled { .. })
    }
}

/// One applied (or refused) fault, for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultLogEntry {
    /// When.
    pub at: SimTime,
    /// The resolved fault.
    pub fault: String,
    /// Why it could not be applied, if it could not.
    pub error: Option<String>,
}

const TAG_SHIFT: u32 = 56;
const TAG_TIMELINE: u64 = 1;
const TAG_HEAL: u64 = 2;
const TAG_NEMESIS_TICK: u64 = 3;
const TAG_NEMESIS_HEAL: u64 = 4;
const TAG_NEMESIS_END: u64 = 5;
const TAG_USER: u64 = 6;

fn token(tag: u64, index: u64) -> u64 {
    assert!(index < 1 << TAG_SHIFT);
    (tag << TAG_SHIFT) | index
}

/// The simulation driver.
pub struct Simulation<P: Process, Rs: RoleResolver<P>> {
    /// The world (public: the glue inspects processes, disks and the trace).
    pub world: World<P>,
    resolver: Rs,
    timeline: Vec<ScheduledFault<Rs::Role>>,
    heals: Vec<FaultKind<Rs::Role>>,
    nemesis: Option<NemesisConfig<Rs::Role>>,
    nemesis_heal: Option<FaultKind<Rs::Role>>,
    log: Vec<FaultLogEntry>,
    user_controls: Vec<u64>,
}

impl<P: Process, Rs: RoleResolver<P>> fmt::Debug for Simulation<P, Rs> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulation")
            .field("world", &self.world)
            .field("faults_applied", &self.log.len())
            .finish()
    }
}

impl<P: Process, Rs: RoleResolver<P>> Simulation<P, Rs>
where
    Rs::Role: fmt::Debug + Clone,
{
    /// A driver over `world`.
    pub fn new(world: World<P>, resolver: Rs) -> Self {
        Simulation {
            world,
            resolver,
            timeline: Vec::new(),
            heals: Vec::new(),
            nemesis: None,
            nemesis_heal: None,
            log: Vec::new(),
            user_controls: Vec::new(),
        }
    }

    /// Schedules a fault timeline.
    pub fn schedule_faults(&mut self, faults: Vec<ScheduledFault<Rs::Role>>) {
        for f in faults {
            let i = self.timeline.len() as u64;
            self.world
                .schedule_control(SimTime::from_millis(f.at_ms), token(TAG_TIMELINE, i));
            self.timeline.push(f);
        }
    }

    /// Starts the random nemesis (see `nemesis.rs`).
    pub fn start_nemesis(&mut self, config: NemesisConfig<Rs::Role>) {
        self.world.schedule_control(
            SimTime::from_millis(config.start_ms),
            token(TAG_NEMESIS_TICK, 0),
        );
        self.world.schedule_control(
            SimTime::from_millis(config.end_ms),
            token(TAG_NEMESIS_END, 0),
        );
        self.nemesis = Some(config);
    }

    /// Schedules a caller-defined control event; `step` returns `Some(value)` for it.
    pub fn schedule_user(&mut self, at: SimTime, value: u64) {
        let i = self.user_controls.len() as u64;
        self.user_controls.push(value);
        self.world.schedule_control(at, token(TAG_USER, i));
    }

    /// The faults applied so far.
    pub fn fault_log(&self) -> &[FaultLogEntry] {
        &self.log
    }

    /// The resolver.
    pub fn resolver(&self) -> &Rs {
        &self.resolver
    }

    /// Resolves and applies a fault now; returns its resolved form.
    pub fn apply_now(&mut self, fault: &FaultKind<Rs::Role>) -> FaultKind<Rs::Role> {
        let resolved = resolve(fault, &mut self.world, &self.resolver);
        let error = self.world.apply_fault(&resolved).err().map(|e| e.0);
        let text = resolved.to_string();
        self.world.note(None, "fault", u64::from(error.is_some()));
        tracing::info!(fault = %text, error = ?error, "fault");
        self.log.push(FaultLogEntry {
            at: self.world.now(),
            fault: text,
            error,
        });
        resolved
    }

    /// Processes one event. Returns the world's step, with fault controls handled; a user
    /// control returns `Step::Control(value)`.
    pub fn step(&mut self) -> Step {
        match self.world.step() {
            Step::Control(t) => self.on_control(t),
            other => other,
        }
    }

    fn on_control(&mut self, t: u64) -> Step {
        let (tag, i) = (t >> TAG_SHIFT, (t & ((1 << TAG_SHIFT) - 1)) as usize);
        match tag {
            TAG_TIMELINE => {
                let Some(f) = self.timeline.get(i).cloned() else {
                    return Step::Event;
                };
                let resolved = self.apply_now(&f.fault);
                if let (Some(after), Some(inv)) = (f.heal_after_ms, inverse(&resolved)) {
                    let at = self.world.now().plus_ns(ms(after));
                    let j = self.heals.len() as u64;
                    self.heals.push(inv);
                    self.world.schedule_control(at, token(TAG_HEAL, j));
                }
            }
            TAG_HEAL => {
                if let Some(f) = self.heals.get(i).cloned() {
                    self.apply_now(&f);
                }
            }
            TAG_NEMESIS_TICK => self.nemesis_tick(),
            TAG_NEMESIS_HEAL => self.nemesis_heal(),
            TAG_NEMESIS_END => {
                if self.nemesis.take().is_some() {
                    self.apply_now(&FaultKind::HealAll);
                }
            }
            TAG_USER => {
                if let Some(&v) = self.user_controls.get(i) {
                    return Step::Control(v);
                }
            }
            _ => unreachable!("unknown control tag {tag}"),
        }
        Step::Event
    }

    fn nemesis_tick(&mut self) {
        let Some(cfg) = self.nemesis.clone() else {
            return;
        };
        let now = self.world.now();
        let Some((fault, dur)) = cfg.draw_fault(self.world.faults_rng()) else {
            return;
        };
        let end = SimTime::from_millis(cfg.end_ms);
        let resolved = self.apply_now(&fault);
        self.nemesis_heal = inverse(&resolved);
        let heal_at = now.plus_ns(ms(dur)).min(end);
        self.world
            .schedule_control(heal_at, token(TAG_NEMESIS_HEAL, 0));
    }

    fn nemesis_heal(&mut self) {
        let Some(cfg) = self.nemesis.clone() else {
            return;
        };
        if let Some(f) = self.nemesis_heal.take() {
            self.apply_now(&f);
        }
        let gap = self
            .world
            .faults_rng()
            .range_inclusive(cfg.gap_ms.min, cfg.gap_ms.max.max(cfg.gap_ms.min));
        let next = self.world.now().plus_ns(ms(cfg.stability_ms + gap));
        if next < SimTime::from_millis(cfg.end_ms) {
            self.world
                .schedule_control(next, token(TAG_NEMESIS_TICK, 0));
        }
    }

    /// Runs until `done(world)` holds, or a guard rail stops the run.
    pub fn run_until(&mut self, mut done: impl FnMut(&World<P>) -> bool) -> Outcome {
        let limits = self.world.config().limits;
        let max_time = limits
            .max_time_ms
            .map_or(SimTime::MAX, SimTime::from_millis);
        loop {
            if done(&self.world) {
                return Outcome::Reached;
            }
            if let Some(max) = limits.max_events {
                if self.world.events_processed() >= max {
                    return Outcome::EventLimit {
                        events: self.world.events_processed(),
                    };
                }
            }
            match self.world.next_event_time() {
                None => {
                    return if self.world.work_outstanding() {
                        Outcome::Stalled {
                            at: self.world.now(),
                        }
                    } else {
                        Outcome::Quiescent
                    };
                }
                Some(t) if t > max_time => return Outcome::TimeLimit { at: max_time },
                Some(_) => {}
            }
            self.step();
        }
    }

    /// Runs every event up to and including virtual time `until`, then lets time reach `until`
    /// (so that a fault applied next happens at `until`).
    pub fn run_until_time(&mut self, until: SimTime) -> Outcome {
        let outcome = self.run_until(|w| w.next_event_time().is_none_or(|t| t > until));
        if outcome == Outcome::Reached && until > self.world.now() && until != SimTime::MAX {
            self.world.advance_to(until);
        }
        outcome
    }
}
