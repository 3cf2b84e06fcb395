//! The scenario schema (RON) and its validation.
//!
//! A scenario names the cluster, the protocol settings (zoo.cfg and variant switches), the
//! network/disk/clock models, the faults (a timeline, a random nemesis, or a swarm that draws a
//! nemesis per seed), the workload, the phases, the seeds `cargo test` runs and what a run must
//! produce. Every struct denies unknown fields. [`load`] turns any problem into a
//! [`ScenarioError`] naming the file, the line and column when the parser knows them, and the
//! field — the CLI exits with code 2 on it.

pub mod data_dir;
mod error;
mod schema;

pub use error::ScenarioError;
pub use schema::{ClusterSpec, Expect, Phases, ProtocolSpec, Scenario};

use std::path::Path;

/// Parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, &e))?;
    parse(path, &text)
}

/// Parses and validates scenario text (`path` names it in errors).
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    // `implicit_some`: optional sections are written plainly (`swarm: (…)`, not `Some((…))`).
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let scenario: Scenario = options
        .from_str(text)
        .map_err(|e| ScenarioError::syntax(path, &e))?;
    let mut scenario = scenario;
    scenario
        .validate()
        .map_err(|(field, message)| ScenarioError::invalid(path, text, &field, &message))?;
    if let Some(dir) = &scenario.cluster.data_dir {
        let base = path.parent().unwrap_or(Path::new("."));
        scenario.initial_files = data_dir::read(&base.join(dir))
            .map_err(|message| ScenarioError::invalid(path, text, "cluster.data_dir", &message))?;
    }
    Ok(scenario)
}
