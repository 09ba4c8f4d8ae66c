//! Upgrade-readiness checks: pure functions from a [`Snapshot`] to [`Finding`]s.
//!
//! The [`catalogue()`] is data: each [`Check`] has a stable code, a title, the remediation
//! levels it can report, the targets it applies to, the sources it needs and a function
//! that evaluates it. [`evaluate`] runs every applicable check and says which were skipped
//! and why, so a missing source never reads as "no findings".

pub mod aws;
pub mod catalogue;
pub mod changes;
pub mod compute;
pub mod eks;
pub mod image;
pub mod kubernetes;
pub mod selector;
pub mod settings;

use serde::{Deserialize, Serialize};

pub use catalogue::{Check, Covers, catalogue, lookup, renumbered};
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
    /// Resources the running check could not judge ([`Context::skip_resource`]).
    skipped_resources: std::cell::RefCell<Vec<SkippedCheck>>,
}

impl Context<'_> {
    /// The minors the cluster passes through on the way to the target.
    pub fn hops(&self) -> Vec<KubeVersion> {
        hops(self.current, self.target)
    }

    /// Lists one resource that `check` could not judge as skipped, with the reason, so it
    /// never reads as passed (e.g. a webhook addressed by a URL eksup cannot check).
    pub fn skip_resource(
        &self,
        check: &Check,
        resource: (&str, &str, &str),
        cause: SkipCause,
        reason: String,
    ) {
        let (kind, namespace, name) = resource;
        self.skipped_resources.borrow_mut().push(SkippedCheck {
            code: check.code.to_string(),
            reason,
            cause,
            resource: Some(SkippedResource::new(kind, namespace, name)),
        });
    }
}

/// A check that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkippedCheck {
    pub code: String,
    pub reason: String,
    /// Older reports lack it; reading them as "not collected" never makes them look ready.
    #[serde(default)]
    pub cause: SkipCause,
    /// The one resource the check left out or could not judge (e.g. `Addon coredns`); absent
    /// when the whole check was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<SkippedResource>,
}

/// A resource a check skipped, named as a finding names its resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkippedResource {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl SkippedResource {
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        Self {
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for SkippedResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl SkippedCheck {
    /// The code, with the resource it left out: `EKS005` or `EKS005 (Addon coredns)`.
    pub fn label(&self) -> String {
        match &self.resource {
            Some(r) => format!("{} ({r})", self.code),
            None => self.code.clone(),
        }
    }
}

/// Why a check's precondition is unmet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet {
    /// The check does not apply to this cluster.
    Check(String),
    /// It does not apply to these resources, each listed as skipped with the reason; it
    /// still runs for the rest when `rest` is true.
    Resources {
        names: Vec<SkippedResource>,
        reason: String,
        rest: bool,
    },
}

/// Why a check was skipped: it does not apply, or eksup could not look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipCause {
    /// Disabled, target below the check's range, a local Outposts cluster, or a
    /// precondition (e.g. a component someone else manages).
    NotApplicable,
    /// A source it needs failed, was denied or was not read (e.g. `--no-aws`).
    #[default]
    NotCollected,
}

/// Whether the cluster can be upgraded to the target now, as far as eksup could tell.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Readiness {
    /// At least one required finding.
    Blocked,
    /// No required finding, but a check that can report one could not look.
    #[default]
    Unknown,
    /// No required finding, and every check that can report one ran.
    Ready,
}

impl Readiness {
    pub const ALL: [Readiness; 3] = [Self::Blocked, Self::Unknown, Self::Ready];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Unknown => "unknown",
            Self::Ready => "ready",
        }
    }
}

/// The result of evaluating the catalogue against one snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub skipped: Vec<SkippedCheck>,
    /// Checks that ran (with or without findings).
    pub checks_run: usize,
    /// Checks that did not run; a check that left out some resources but ran counts as run.
    pub checks_skipped: usize,
    pub readiness: Readiness,
}

/// Whether `check` can report a required finding for `target`: its catalogue levels say
/// so, and for a behaviour change the data records a release that requires it.
fn can_require(check: &Check, target: KubeVersion) -> bool {
    check.levels.contains(&Remediation::Required)
        && changes::find(check.code).is_none_or(|c| c.level(target) == Some(Remediation::Required))
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
        skipped_resources: Default::default(),
    };
    let mut out = Evaluation::default();
    let mut blind = false;
    for check in catalogue() {
        let (aside, skip) = skip_reason(check, &ctx);
        out.skipped.extend(aside);
        match skip {
            Skip::Check(cause, reason) => {
                blind |= cause == SkipCause::NotCollected && can_require(check, target);
                out.checks_skipped += 1;
                out.skipped.push(SkippedCheck {
                    code: check.code.to_string(),
                    reason,
                    cause,
                    resource: None,
                });
            }
            Skip::Resources => out.checks_skipped += 1,
            Skip::None => {
                out.checks_run += 1;
                out.findings.extend((check.run)(&ctx));
                for skip in ctx.skipped_resources.take() {
                    blind |= skip.cause == SkipCause::NotCollected && can_require(check, target);
                    out.skipped.push(skip);
                }
            }
        }
    }
    // A skipped check never counts as passed.
    out.readiness = if out
        .findings
        .iter()
        .any(|f| f.remediation == Remediation::Required)
    {
        Readiness::Blocked
    } else if blind {
        Readiness::Unknown
    } else {
        Readiness::Ready
    };
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

/// Whether a check runs: not at all, not for any of its resources, or (perhaps leaving some
/// resources out) yes.
enum Skip {
    Check(SkipCause, String),
    Resources,
    None,
}

/// The resources a check leaves out, and whether (and why) it is skipped.
fn skip_reason(check: &Check, ctx: &Context) -> (Vec<SkippedCheck>, Skip) {
    if let Some((cause, reason)) = whole_skip(check, ctx) {
        return (Vec::new(), Skip::Check(cause, reason));
    }
    // A check that does not apply (e.g. Auto Mode runs the component) needs nothing more,
    // so its precondition comes before the data it would go on to need.
    let mut aside = Vec::new();
    match check.precondition.and_then(|unmet| unmet(ctx)) {
        Some(Unmet::Check(reason)) => {
            return (aside, Skip::Check(SkipCause::NotApplicable, reason));
        }
        Some(Unmet::Resources {
            names,
            reason,
            rest,
        }) => {
            aside = names
                .into_iter()
                .map(|name| SkippedCheck {
                    code: check.code.to_string(),
                    resource: Some(name),
                    reason: reason.clone(),
                    cause: SkipCause::NotApplicable,
                })
                .collect();
            if !rest {
                return (aside, Skip::Resources);
            }
        }
        None => {}
    }
    let skip = match check.collected.and_then(|missing| missing(ctx)) {
        Some(reason) => Skip::Check(SkipCause::NotCollected, reason),
        None => Skip::None,
    };
    (aside, skip)
}

/// Disabled, out of range, without AWS data, or a source it needs failed.
fn whole_skip(check: &Check, ctx: &Context) -> Option<(SkipCause, String)> {
    use SkipCause::{NotApplicable, NotCollected};
    if ctx.settings.is_disabled(check.code) {
        return Some((NotApplicable, "disabled in configuration".into()));
    }
    if let Some(min) = check.min_target.filter(|min| ctx.target < *min) {
        return Some((NotApplicable, format!("applies to targets {min} and later")));
    }
    if check.category != crate::finding::Category::Kubernetes {
        if ctx.snapshot.cluster.source == ClusterSource::KubernetesOnly {
            return Some((
                NotCollected,
                "needs the EKS and AWS APIs, which this run did not use (--no-aws)".into(),
            ));
        }
        let Some(aws) = &ctx.snapshot.aws else {
            return Some((NotCollected, "the snapshot holds no AWS data".into()));
        };
        if let (Some(reason), Some(_)) = (check.not_on_local_outposts, &aws.outpost) {
            return Some((
                NotApplicable,
                format!("does not apply to EKS local clusters on AWS Outposts: {reason}"),
            ));
        }
    }
    check
        .sources()
        .find_map(|source| ctx.snapshot.failure_of(source))
        .map(|e| {
            (
                NotCollected,
                format!("{} could not be read: {}", e.source, e.message),
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::kubernetes::fixtures::{run, run_with, snapshot, workload};
    use crate::snapshot::{KubeProxy, WorkloadKind, source};

    /// AWS data that trips no AWS or EKS check: two zones of cluster subnets with free IPs.
    fn healthy_aws() -> Option<crate::snapshot::AwsData> {
        let subnet = |id: &str, zone: &str| crate::snapshot::Subnet {
            id: id.into(),
            availability_zone: zone.into(),
            available_ips: 200,
            outpost_arn: None,
        };
        Some(crate::snapshot::AwsData {
            cluster_subnet_ids: vec!["a".into(), "b".into()],
            subnets: vec![subnet("a", "us-east-1a"), subnet("b", "us-east-1b")],
            // EKS005 needs the addon catalogue of each hop, or it could not look.
            addon_versions: vec![crate::snapshot::AddonCatalog {
                kubernetes_version: KubeVersion::new(1, 35),
                addons: Default::default(),
            }],
            // EKS106 needs the certificate authorities read, or it could not look.
            certificate_authorities: Some(Vec::new()),
            // EKS105 needs the update history, or it could not look.
            updates: Some(Default::default()),
            ..Default::default()
        })
    }

    fn skipped<'a>(eval: &'a Evaluation, code: &str) -> Option<&'a SkippedCheck> {
        eval.skipped.iter().find(|s| s.code == code)
    }

    #[test]
    fn a_required_finding_blocks() {
        let mut s = snapshot("1.34");
        let mut w = workload(WorkloadKind::Deployment, "prod", "single");
        w.replicas = Some(1);
        s.kubernetes.workloads = vec![w];
        let eval = run(&s, "1.35");
        assert_eq!(eval.readiness, Readiness::Blocked);
    }

    #[test]
    fn a_denied_budget_list_makes_the_verdict_unknown_not_ready() {
        let mut s = snapshot("1.34");
        s.aws = healthy_aws();
        assert_eq!(run(&s, "1.35").readiness, Readiness::Ready);
        s.record_error(source::PDBS, "HTTP 403 Forbidden");
        let eval = run(&s, "1.35");
        assert_eq!(eval.readiness, Readiness::Unknown);
        for code in ["K8S004", "K8S101", "K8S102"] {
            assert_eq!(
                skipped(&eval, code).unwrap().cause,
                SkipCause::NotCollected,
                "{code}"
            );
        }
        assert_eq!(eval.checks_run + eval.skipped.len(), catalogue().len());
        // Switching the blind checks off is a choice, not a blind spot.
        let settings = CheckSettings {
            disabled: vec!["K8S101".into(), "K8S102".into()],
            ..Default::default()
        };
        let eval = run_with(&s, "1.35", &settings);
        assert_eq!(
            skipped(&eval, "K8S101").unwrap().cause,
            SkipCause::NotApplicable
        );
        assert_eq!(
            eval.readiness,
            Readiness::Ready,
            "K8S004 alone cannot block"
        );
    }

    #[test]
    fn a_failed_workload_list_skips_the_checks_that_cover_that_kind() {
        let mut s = snapshot("1.34");
        s.aws = healthy_aws();
        s.record_error(source::JOBS, "HTTP 500");
        let eval = run(&s, "1.35");
        assert!(skipped(&eval, "K8S008").is_some(), "K8S008 covers Jobs");
        assert!(skipped(&eval, "K8S002").is_none(), "K8S002 does not");
        assert_eq!(eval.readiness, Readiness::Unknown);
    }

    #[test]
    fn skips_that_cannot_hide_a_required_finding_keep_the_verdict() {
        let mut s = snapshot("1.34");
        s.aws = healthy_aws();
        s.kubernetes.kube_proxy = Some(KubeProxy {
            images: vec![],
            mode: None,
        });
        // K8S012 can only recommend until a removal release is recorded.
        s.record_error(source::KUBE_PROXY_CONFIG, "HTTP 403");
        let eval = run(&s, "1.35");
        assert_eq!(
            skipped(&eval, "K8S012").unwrap().cause,
            SkipCause::NotCollected
        );
        assert_eq!(eval.readiness, Readiness::Ready);
        // A target below a check's range is not a blind spot either.
        let eval = run(&s, "1.34");
        assert_eq!(
            skipped(&eval, "K8S103").unwrap().cause,
            SkipCause::NotApplicable
        );
    }

    #[test]
    fn without_aws_data_the_verdict_is_unknown() {
        let s = snapshot("1.34");
        let eval = run(&s, "1.35");
        assert_eq!(
            skipped(&eval, "EKS002").unwrap().cause,
            SkipCause::NotCollected
        );
        assert_eq!(eval.readiness, Readiness::Unknown);
    }

    #[test]
    fn skip_cause_serializes_snake_case() {
        let json = serde_json::to_value(SkipCause::NotCollected).unwrap();
        assert_eq!(json, "not_collected");
        assert_eq!(serde_json::to_value(Readiness::Blocked).unwrap(), "blocked");
    }
}
