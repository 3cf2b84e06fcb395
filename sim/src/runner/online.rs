//! The judges, fed as the run goes. Every history record reaches every judge the moment the
//! recorder holds it (in history order, so line numbers are the file's), and the run stops at the
//! first step a judge proves a violation on — the ZAB invariants, durability and agreement checks
//! that judge online — so the trace ends at the bad step, as TigerBeetle's VOPR stops at the first
//! failed assertion. `--keep-going` (`Phases::stop_at_first_violation = false`) runs to the end.
//!
//! The judges see exactly the records they would see after the run, in the same order; only
//! `finish` waits for the end state. Whether the history itself is well formed (times in order,
//! every completion after its invocation) is checked on the whole history at the end: a
//! malformed history is a harness error and no verdict stands.

use super::report::{JudgeReport, ViolationReport};
use super::RunSpec;
use serde::Serialize;
use zabsim_checkers::history::{History, Record};
use zabsim_checkers::reference::ReferenceConfig;
use zabsim_checkers::zk::{all_judges_from, EndState, Event, Judge, JudgeConfig, Verdict};

/// Where the run was stopped: the first proven violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FirstViolation {
    /// The judge that proved it.
    pub judge: &'static str,
    /// The 1-based history line it was proven at.
    pub line: usize,
    /// The virtual time of that record (ns).
    pub time_ns: u64,
}

/// The scenario's judges and how far into the history they have read.
pub struct OnlineJudges {
    judges: Vec<Box<dyn Judge>>,
    fed: usize,
    first: Option<FirstViolation>,
}

impl std::fmt::Debug for OnlineJudges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.judges.iter().map(|j| j.name()).collect();
        f.debug_struct("OnlineJudges")
            .field("judges", &names)
            .field("fed", &self.fed)
            .field("first", &self.first)
            .finish()
    }
}

impl OnlineJudges {
    /// The judges the scenario asks for (all when it names none).
    pub fn new(spec: &RunSpec<'_>) -> OnlineJudges {
        let config = JudgeConfig {
            reference: ReferenceConfig {
                extended_types: false,
                system_nodes: true,
            },
            ..JudgeConfig::default()
        };
        let wanted = &spec.scenario.checkers;
        let initial = crate::scenario::data_dir::initial_data(&spec.scenario.initial_files);
        let judges: Vec<_> = all_judges_from(config, initial)
            .into_iter()
            .filter(|j| wanted.is_empty() || wanted.iter().any(|w| w == j.name()))
            .collect();
        assert!(
            !judges.is_empty() || !wanted.is_empty(),
            "with no judge named, every judge runs"
        );
        OnlineJudges {
            judges,
            fed: 0,
            first: None,
        }
    }

    /// Feeds every record after those already fed. Returns whether a judge has proven a
    /// violation (now or earlier).
    pub fn feed(&mut self, records: &[Record]) -> bool {
        assert!(self.fed <= records.len(), "the history only grows");
        while self.fed < records.len() {
            let record = &records[self.fed];
            let event = Event {
                line: self.fed + 1,
                record,
            };
            self.fed += 1;
            for judge in self.judges.iter_mut() {
                if judge.observe(event).is_some() && self.first.is_none() {
                    self.first = Some(FirstViolation {
                        judge: judge.name(),
                        line: event.line,
                        time_ns: record.time_ns(),
                    });
                }
            }
        }
        self.first.is_some()
    }

    /// The first violation proven while the run went, if any.
    pub fn first_violation(&self) -> Option<&FirstViolation> {
        self.first.as_ref()
    }

    /// Feeds what is left, checks the whole history's form and asks every judge for its verdict.
    /// A malformed history gives no verdicts and the harness error.
    pub fn finish(
        mut self,
        records: &[Record],
        end: &EndState,
    ) -> (Vec<JudgeReport>, Option<String>) {
        self.feed(records);
        assert_eq!(self.fed, records.len(), "every record was judged");
        if let Err(e) = History::from_records(records.to_vec()) {
            return (
                Vec::new(),
                Some(format!("harness error: the history is malformed: {e}")),
            );
        }
        let reports = self
            .judges
            .iter_mut()
            .map(|j| JudgeReport::from_verdict(j.name(), j.finish(end)))
            .collect();
        (reports, None)
    }
}

impl JudgeReport {
    fn from_verdict(name: &str, verdict: Verdict) -> JudgeReport {
        let (verdict_name, detail, violations) = match verdict {
            Verdict::Pass => ("pass", None, Vec::new()),
            Verdict::Undecided(reason) => ("undecided", Some(reason), Vec::new()),
            Verdict::Violation(vs) => (
                "violation",
                None,
                vs.iter()
                    .map(|v| ViolationReport {
                        judge: name.to_string(),
                        kind: format!("{:?}", v.kind),
                        message: v.to_string(),
                    })
                    .collect(),
            ),
        };
        JudgeReport {
            name: name.to_string(),
            verdict: verdict_name.to_string(),
            detail,
            violations,
        }
    }
}
