//! Upgrade-readiness checks: pure functions from a [`Snapshot`] to [`Finding`]s.
//!
//! The [`catalogue()`] is data: each [`Check`] has a stable code, a title, the remediation
//! levels it can report, the targets it applies to, the sources it needs and a function
//! that evaluates it. [`evaluate`] runs every applicable check and says which were skipped
//! and why, so a missing source never reads as "no findings".

pub mod aws;
pub mod catalogue;
pub mod compute;
pub mod eks;
pub mod image;
pub mod kubernetes;
pub mod selector;
pub mod settings;

use serde::{Deserialize, Serialize};

pub use catalogue::{Check, catalogue, lookup};
pub use settings::CheckSettings;

use crate::finding::{Finding, Remediation};
use crate::snapshot::{ClusterSource, Snapshot};
use crate::version::{KubeVersion, SupportCalendar, hops};

/// Everything a check function reads.
pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub current: KubeVersion,
    pub target: KubeVersion,
    pub settings: &'a CheckSettings,
    pub calendar: &'a SupportCalendar,
    /// The day support windows are measured from.
    pub today: chrono::NaiveDate,
}

impl Context<'_> {
    /// The minors the cluster passes through on the way to the target.
    pub fn hops(&self) -> Vec<KubeVersion> {
        hops(self.current, self.target)
    }
}

/// A check that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkippedCheck {
    pub code: String,
    pub reason: String,
}

/// The result of evaluating the catalogue against one snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub skipped: Vec<SkippedCheck>,
}

/// Runs every check that applies to `target` and whose sources were collected.
pub fn evaluate(
    snapshot: &Snapshot,
    target: KubeVersion,
    settings: &CheckSettings,
    calendar: &SupportCalendar,
    today: chrono::NaiveDate,
) -> Evaluation {
    let ctx = Context {
        snapshot,
        current: snapshot.cluster.version,
        target,
        settings,
        calendar,
        today,
    };
    let mut out = Evaluation::default();
    for check in catalogue() {
        match skip_reason(check, &ctx) {
            Some(reason) => out.skipped.push(SkippedCheck {
                code: check.code.to_string(),
                reason,
            }),
            None => out.findings.extend((check.run)(&ctx)),
        }
    }
    // Required first, then by code and resource, so output is stable run to run.
    out.findings.sort_by(|a, b| {
        (
            a.remediation,
            &a.code,
            &a.resource_namespace,
            &a.resource_name,
        )
            .cmp(&(
                b.remediation,
                &b.code,
                &b.resource_namespace,
                &b.resource_name,
            ))
    });
    out
}

fn skip_reason(check: &Check, ctx: &Context) -> Option<String> {
    if ctx.settings.is_disabled(check.code) {
        return Some("disabled in configuration".into());
    }
    if let Some(min) = check.min_target.filter(|min| ctx.target < *min) {
        return Some(format!("applies to targets {min} and later"));
    }
    if check.category != crate::finding::Category::Kubernetes {
        if ctx.snapshot.cluster.source == ClusterSource::KubernetesOnly {
            return Some(
                "needs the EKS and AWS APIs, which this run did not use (--no-aws)".into(),
            );
        }
        let Some(aws) = &ctx.snapshot.aws else {
            return Some("the snapshot holds no AWS data".into());
        };
        if let (Some(reason), Some(_)) = (check.not_on_local_outposts, &aws.outpost) {
            return Some(format!(
                "does not apply to EKS local clusters on AWS Outposts: {reason}"
            ));
        }
    }
    check
        .needs
        .iter()
        .find_map(|source| ctx.snapshot.failure_of(source))
        .map(|e| format!("{} could not be read: {}", e.source, e.message))
        .or_else(|| check.precondition.and_then(|unmet| unmet(ctx)))
}

/// Builds a finding for `check`; checks call this so every row carries catalogue data.
pub fn finding(
    check: &Check,
    remediation: Remediation,
    resource: (&str, &str, &str),
    message: String,
    details: serde_json::Value,
) -> Finding {
    let (kind, namespace, name) = resource;
    Finding {
        code: check.code.to_string(),
        title: check.title.to_string(),
        remediation,
        category: check.category,
        resource_kind: kind.to_string(),
        resource_namespace: namespace.to_string(),
        resource_name: name.to_string(),
        message,
        details,
    }
}
