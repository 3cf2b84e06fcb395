//! Kernel configuration: the seed, the network, disk and clock models, run limits and the trace
//! mode. Deserialised from the scenario's RON (every struct denies unknown fields).

use serde::{Deserialize, Serialize};

use super::clock::ClockConfig;
use super::disk::DiskConfig;
use super::net::NetworkConfig;
use super::trace::TraceMode;

/// Guard rails: a run stops when it reaches either limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Virtual-time limit in milliseconds (`None`: unlimited).
    #[serde(default)]
    pub max_time_ms: Option<u64>,
    /// Event-count limit (`None`: unlimited).
    #[serde(default)]
    pub max_events: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_time_ms: Some(600_000),
            max_events: Some(100_000_000),
        }
    }
}

/// Everything the kernel needs besides the processes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelConfig {
    /// The master seed of every random stream.
    #[serde(default)]
    pub seed: u64,
    /// The network model.
    #[serde(default)]
    pub network: NetworkConfig,
    /// The disk model (every node).
    #[serde(default)]
    pub disk: DiskConfig,
    /// How node clocks are drawn.
    #[serde(default)]
    pub clocks: ClockConfig,
    /// Run limits.
    #[serde(default)]
    pub limits: Limits,
    /// Full records or hash only.
    #[serde(default)]
    pub trace: TraceMode,
}

impl KernelConfig {
    /// The default configuration with `seed`.
    pub fn with_seed(seed: u64) -> KernelConfig {
        KernelConfig {
            seed,
            ..KernelConfig::default()
        }
    }

    /// Checks every distribution and bound; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let dists = [
            ("network.latency", &self.network.latency),
            ("network.detection_delay", &self.network.detection_delay),
            ("disk.write_latency", &self.disk.write_latency),
            ("disk.fsync_latency", &self.disk.fsync_latency),
        ];
        for (name, d) in dists {
            d.validate().map_err(|e| format!("{name}: {e}"))?;
        }
        if self.clocks.max_drift_ppm > super::clock::MAX_DRIFT_PPM as u32 {
            return Err(format!(
                "clocks.max_drift_ppm: {} is beyond {}",
                self.clocks.max_drift_ppm,
                super::clock::MAX_DRIFT_PPM
            ));
        }
        Ok(())
    }
}
