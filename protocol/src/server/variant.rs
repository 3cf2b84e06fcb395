//! Protocol variants: typed switches that re-enable historical ZooKeeper bugs
//! (`../shared/research/zk-bug-zoo.md`). The default is ZooKeeper 3.9's correct behaviour.

use serde::{Deserialize, Serialize};

/// One historical bug that can be switched back on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Variant {
    /// ZOOKEEPER-1154: the leader sends DIFF where the learner has txns the leader never
    /// committed and a TRUNC is needed, so the learner keeps phantom txns.
    #[serde(rename = "zk-1154")]
    Zk1154,
    /// ZOOKEEPER-4643: the learner writes `currentEpoch` on NEWLEADER before the txns it synced
    /// are durable, so a crash leaves an epoch that claims data the log lacks.
    #[serde(rename = "zk-4643")]
    Zk4643,
}

impl Variant {
    /// Every variant, in name order.
    pub const ALL: [Variant; 2] = [Variant::Zk1154, Variant::Zk4643];

    /// The name used by `--variant` and in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Zk1154 => "zk-1154",
            Variant::Zk4643 => "zk-4643",
        }
    }

    /// One line on what the switch changes.
    pub fn summary(self) -> &'static str {
        match self {
            Variant::Zk1154 => "DIFF where a TRUNC is needed: a learner keeps uncommitted txns",
            Variant::Zk4643 => "currentEpoch written before the synced txns are durable",
        }
    }

    /// The ZooKeeper JIRA that fixed it.
    pub fn jira(self) -> &'static str {
        match self {
            Variant::Zk1154 => "ZOOKEEPER-1154",
            Variant::Zk4643 => "ZOOKEEPER-4643",
        }
    }

    /// Parses a `--variant` name.
    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// The set of switched-on variants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variants(pub Vec<Variant>);

impl Variants {
    /// Whether `variant` is on.
    pub fn has(&self, variant: Variant) -> bool {
        self.0.contains(&variant)
    }
}
