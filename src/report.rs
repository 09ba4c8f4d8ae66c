//! The report: run metadata, the flat findings, skipped checks and collection errors. Every
//! renderer and sink works from this one value.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checks::{Evaluation, Readiness, SkippedCheck};
use crate::finding::{Finding, Remediation, counted};
use crate::snapshot::{ClusterSource, CollectionError, Snapshot};
use crate::version::{KubeVersion, Support, SupportCalendar, hops};

/// Bumped when a report field is renamed or changes meaning; new fields are additive.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: u32,
    pub metadata: RunMetadata,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub skipped_checks: Vec<SkippedCheck>,
    pub collection_errors: Vec<CollectionError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMetadata {
    /// Unique and time-ordered (UUIDv7).
    pub run_id: Uuid,
    pub generated_at: DateTime<Utc>,
    /// When the cluster was read (earlier than `generated_at` for a saved snapshot).
    pub collected_at: DateTime<Utc>,
    pub tool_version: String,
    pub cluster_name: String,
    pub cluster_source: ClusterSource,
    pub cluster_arn: Option<String>,
    pub region: Option<String>,
    pub account_id: Option<String>,
    pub platform_version: Option<String>,
    /// `gitVersion` of the API server.
    pub server_version: Option<String>,
    pub current_version: KubeVersion,
    pub target_version: KubeVersion,
    /// Every minor the upgrade passes through, ending with the target.
    pub upgrade_path: Vec<KubeVersion>,
    /// Support status and dates of the current version; `null` for a version the calendar
    /// does not know.
    pub support: Option<Support>,
    /// Support status and dates of the target version; `null` when EKS has not published its
    /// dates yet (1.37 without the EKS API): unknown, never guessed. Absent in older reports.
    #[serde(default)]
    pub target_support: Option<Support>,
    /// `cloud`, `outposts-local` (control plane on an Outpost) or `outposts-extended`
    /// (control plane in the Region, nodes on an Outpost); `null` without AWS data.
    pub deployment: Option<Deployment>,
    /// `blocked` (a required finding), `unknown` (none, but a check that could report one was
    /// skipped for lack of data) or `ready`; absent in older reports, read as `unknown`.
    #[serde(default)]
    pub readiness: Readiness,
    /// Checks that ran, and checks that were skipped (`skipped_checks` says why).
    #[serde(default)]
    pub checks_run: usize,
    #[serde(default)]
    pub checks_skipped: usize,
    /// The window to roll the control plane back to the previous minor, from the latest
    /// successful version update; `null` when none is on record (or the history was not read).
    #[serde(default)]
    pub rollback: Option<crate::rollback::Rollback>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployment {
    Cloud,
    OutpostsLocal,
    OutpostsExtended,
}

impl Deployment {
    pub fn of(snapshot: &Snapshot) -> Option<Self> {
        let aws = snapshot.aws.as_ref()?;
        Some(if aws.outpost.is_some() {
            Self::OutpostsLocal
        } else if aws.subnets.iter().any(|s| s.outpost_arn.is_some()) {
            Self::OutpostsExtended
        } else {
            Self::Cloud
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub required: usize,
    pub recommended: usize,
    /// Codes of the checks that reported at least one finding.
    pub checks_with_findings: Vec<String>,
    /// `ok` when every source was read, `partial` otherwise.
    pub status: CollectionStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectionStatus {
    Ok,
    Partial,
}

impl Report {
    /// Assembles the report; with `ignore_recommended`, recommended findings are dropped.
    pub fn new(
        snapshot: &Snapshot,
        target: KubeVersion,
        evaluation: Evaluation,
        ignore_recommended: bool,
        calendar: &SupportCalendar,
        today: chrono::NaiveDate,
    ) -> Self {
        let findings: Vec<Finding> = evaluation
            .findings
            .into_iter()
            .filter(|f| !(ignore_recommended && f.remediation == Remediation::Recommended))
            .collect();
        let count = |level| findings.iter().filter(|f| f.remediation == level).count();
        let mut codes: Vec<String> = findings.iter().map(|f| f.code.clone()).collect();
        codes.sort();
        codes.dedup();
        let cluster = &snapshot.cluster;
        Self {
            schema_version: REPORT_SCHEMA_VERSION,
            metadata: RunMetadata {
                run_id: Uuid::now_v7(),
                generated_at: Utc::now(),
                collected_at: snapshot.collected_at,
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                cluster_name: cluster.name.clone(),
                cluster_source: cluster.source,
                cluster_arn: cluster.arn.clone(),
                region: cluster.region.clone(),
                account_id: cluster.account_id.clone(),
                platform_version: cluster.platform_version.clone(),
                server_version: snapshot.kubernetes.server_version.clone(),
                current_version: cluster.version,
                target_version: target,
                upgrade_path: hops(cluster.version, target),
                support: calendar.support(cluster.version, today),
                target_support: calendar.support(target, today),
                deployment: Deployment::of(snapshot),
                readiness: evaluation.readiness,
                checks_run: evaluation.checks_run,
                checks_skipped: evaluation.checks_skipped,
                rollback: crate::rollback::window(snapshot, calendar, today),
            },
            summary: Summary {
                required: count(Remediation::Required),
                recommended: count(Remediation::Recommended),
                checks_with_findings: codes,
                status: if snapshot.collection_errors.is_empty() {
                    CollectionStatus::Ok
                } else {
                    CollectionStatus::Partial
                },
            },
            findings,
            skipped_checks: evaluation.skipped,
            collection_errors: snapshot.collection_errors.clone(),
        }
    }

    /// One line for people: the verdict for the target, why, and how much was checked.
    pub fn verdict_line(&self) -> String {
        let m = &self.metadata;
        format!(
            "Readiness for {}: {} · {}",
            m.target_version,
            m.readiness.as_str().to_uppercase(),
            self.verdict_reason()
        )
    }

    /// Why the verdict is what it is, and the counts of checks run and skipped.
    pub fn verdict_reason(&self) -> String {
        let m = &self.metadata;
        let why = match m.readiness {
            Readiness::Blocked => {
                format!(
                    "{} to fix first",
                    counted(
                        self.summary.required,
                        "required finding",
                        "required findings"
                    )
                )
            }
            Readiness::Unknown => {
                let mut blind: Vec<&str> = self
                    .skipped_checks
                    .iter()
                    .filter(|s| s.cause == crate::checks::SkipCause::NotCollected)
                    .map(|s| s.code.as_str())
                    .collect();
                blind.dedup();
                format!(
                    "no required finding, but {} could not run for lack of data",
                    blind.join(", ")
                )
            }
            Readiness::Ready => "no required finding, and every check that can block ran".into(),
        };
        format!(
            "{why} · {} run, {} skipped",
            counted(m.checks_run, "check", "checks"),
            m.checks_skipped
        )
    }

    /// Whether a finding at or above `level` exists (for `--fail-on`).
    pub fn has_findings_at(&self, level: Remediation) -> bool {
        self.findings.iter().any(|f| f.remediation <= level)
    }

    /// Whether this report meets the `--fail-on` gate (exit code 1).
    pub fn fails(&self, gate: FailOn) -> bool {
        match gate {
            FailOn::Required => self.has_findings_at(Remediation::Required),
            FailOn::Recommended => self.has_findings_at(Remediation::Recommended),
            FailOn::Unknown => self.metadata.readiness != Readiness::Ready,
        }
    }
}

/// What makes `analyze` exit with code 1 (for CI gates).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// A required finding exists.
    Required,
    /// A required or recommended finding exists.
    Recommended,
    /// The verdict is not `ready`: blocked, or a check that can block could not run.
    Unknown,
}
