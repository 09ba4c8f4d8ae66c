//! The data a playbook template renders: plain, serializable values derived from one
//! snapshot and its report. All decisions (which procedure a node group needs, which addon
//! version a hop wants) are made here, so the template only lays them out.

use std::collections::BTreeSet;

use serde::Serialize;

use super::compute;
use crate::checks::SkipCause;
use crate::finding::Finding;
use crate::report::Report;
use crate::snapshot::{AutoScalingGroup, NodeGroup, Snapshot};
use crate::version::KubeVersion;

#[derive(Debug, Serialize)]
pub struct Playbook {
    pub cluster: String,
    /// `--region R ` ready to splice into a command, or empty when the region is unknown.
    pub region_flag: String,
    pub region: String,
    pub account: String,
    pub current: String,
    pub target: String,
    pub as_of: String,
    pub tool_version: String,
    /// `blocked`, `unknown` or `ready`, with why and the checks run and skipped.
    pub readiness: String,
    pub verdict: String,
    pub support: Option<SupportLine>,
    /// The rollback window of the latest version update, when one is on record.
    pub rollback: Option<RollbackLine>,
    /// The target's support; `None` when its dates are unknown.
    pub target_support: Option<SupportLine>,
    pub counts: Counts,
    pub has_aws: bool,
    pub before: Before,
    pub hops: Vec<Hop>,
    /// Checks skipped for lack of data (`not_collected`): blind spots.
    pub skipped: Vec<(String, String)>,
    /// Checks that do not apply to this cluster or run (`not_applicable`): not blind spots.
    pub not_applicable: Vec<(String, String)>,
    pub collection_errors: Vec<(String, String)>,
}

#[derive(Debug, Serialize)]
pub struct SupportLine {
    pub status: String,
    pub end_of_standard_support: String,
    pub end_of_extended_support: String,
    pub days_to_end_of_standard_support: i64,
    pub source: String,
}

impl SupportLine {
    fn of(s: &crate::version::Support) -> Self {
        Self {
            status: s.status.as_str().into(),
            end_of_standard_support: s.end_of_standard_support.to_string(),
            end_of_extended_support: s.end_of_extended_support.to_string(),
            days_to_end_of_standard_support: s.days_to_end_of_standard_support,
            source: s.source.as_str().into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RollbackLine {
    pub open: bool,
    pub to_version: String,
    pub available_until: String,
    /// Rolling back puts the cluster into extended support, billed at its price.
    pub resumes_extended_support: bool,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub node_groups: usize,
    pub self_managed: usize,
    pub fargate: usize,
    pub addons: usize,
    pub nodes: usize,
}

/// One finding as a checklist line.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub code: String,
    pub remediation: String,
    pub kind: String,
    pub resource: String,
    pub message: String,
}

impl From<&Finding> for Item {
    fn from(f: &Finding) -> Self {
        Self {
            code: f.code.clone(),
            remediation: f.remediation.as_str().to_string(),
            kind: f.resource_kind.clone(),
            resource: f.resource_path(),
            message: f.message.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CheckGroup {
    pub code: String,
    pub title: String,
    pub advice: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Serialize)]
pub struct ReleaseNotes {
    pub version: String,
    /// `1-33` for anchors such as the EKS user guide's `#kubernetes-1-33`.
    pub dashed: String,
}

#[derive(Debug, Serialize)]
pub struct Before {
    pub release_notes: Vec<ReleaseNotes>,
    pub skew: Vec<Item>,
    pub control_plane_ips: Vec<Item>,
    pub health: Vec<Item>,
    pub addons: Vec<Item>,
    pub insights: Vec<Item>,
    pub capacity: Vec<Item>,
    pub end_of_support: Vec<Item>,
    /// EKS008, K8S103, K8S014 over every node group, Karpenter NodePool and other nodes.
    pub nodes: Vec<CheckGroup>,
    pub workloads: Vec<CheckGroup>,
    /// K8S104 and K8S105: APIs and stored versions to move off before a release removes them.
    pub deprecated_apis: Vec<Item>,
    /// EKS103 about the Karpenter controller itself.
    pub karpenter: Vec<Item>,
    /// K8S106: webhooks and aggregated APIs whose backend cannot answer.
    pub api_extensions: Vec<Item>,
    /// EKS106: a certificate-authority rotation to distribute before EKS activates it.
    pub ca_rotation: Option<CaRotationStep>,
}

/// Distributing a successor CA: its finding, its id (for the commands) and the cluster's ARN
/// (the kubeconfig entry `aws eks update-kubeconfig` writes).
#[derive(Debug, Serialize)]
pub struct CaRotationStep {
    pub items: Vec<Item>,
    pub successor: String,
    pub kubeconfig_cluster: String,
}

fn ca_rotation(report: &Report) -> Option<CaRotationStep> {
    let found = report.findings.iter().find(|f| f.code == "EKS106")?;
    Some(CaRotationStep {
        items: items(report, &["EKS106"]),
        successor: found.resource_name.clone(),
        kubeconfig_cluster: report
            .metadata
            .cluster_arn
            .clone()
            .unwrap_or_else(|| report.metadata.cluster_name.clone()),
    })
}

#[derive(Debug, Serialize)]
pub struct Hop {
    pub number: usize,
    pub from: String,
    pub to: String,
    pub addons: Vec<AddonStep>,
    pub node_groups: Vec<NodeGroupStep>,
    pub self_managed: Vec<AutoScalingStep>,
    pub fargate: Vec<FargateStep>,
    /// EKS Auto Mode's node rollout, when Auto Mode is on.
    pub auto_mode: Option<compute::AutoModeStep>,
    /// Self-managed Karpenter NodePools.
    pub karpenter: Vec<compute::NodePoolStep>,
    /// EKS Hybrid Nodes, which the operator upgrades.
    pub hybrid: Option<compute::HybridStep>,
}

#[derive(Debug, Serialize)]
pub struct AddonStep {
    pub name: String,
    pub from: String,
    /// The target version's default; `None` when eksup did not read the catalogue for it.
    pub to: Option<String>,
    pub up_to_date: bool,
}

#[derive(Debug, Serialize)]
pub struct NodeGroupStep {
    pub name: String,
    /// `eks-ami`, `eks-ami-with-template`, `custom-ami`, or `replace-al2` (an Amazon Linux 2
    /// group moving to a release EKS builds no AL2 AMIs for: it cannot be updated in place).
    pub procedure: String,
    pub ami_type: String,
    /// For `replace-al2`: the AL2023 AMI type of the replacement group.
    pub replacement_ami_type: String,
    pub ssm_parameter: String,
    pub template_id: String,
    pub template_name: String,
    pub template_version: String,
    pub findings: Vec<Item>,
}

#[derive(Debug, Serialize)]
pub struct AutoScalingStep {
    pub name: String,
    /// `launch-template` or `launch-configuration`.
    pub procedure: String,
    pub template_id: String,
    pub template_name: String,
    pub mixed_instances: bool,
    pub launch_configuration: String,
    pub ssm_parameter: String,
    pub findings: Vec<Item>,
}

#[derive(Debug, Serialize)]
pub struct FargateStep {
    pub name: String,
    pub namespaces: Vec<String>,
    pub findings: Vec<Item>,
}

/// The skipped checks of one cause, as (code with the resource left out, reason).
fn skipped_with(report: &Report, cause: SkipCause) -> Vec<(String, String)> {
    report
        .skipped_checks
        .iter()
        .filter(|s| s.cause == cause)
        .map(|s| (s.label(), s.reason.clone()))
        .collect()
}

fn items(report: &Report, codes: &[&str]) -> Vec<Item> {
    report
        .findings
        .iter()
        .filter(|f| codes.contains(&f.code.as_str()))
        .map(Item::from)
        .collect()
}

/// Findings about one resource, plus AWS001 findings of the zones its subnets are in.
fn findings_for(
    report: &Report,
    snapshot: &Snapshot,
    kind: &str,
    name: &str,
    codes: &[&str],
    subnets: &[String],
) -> Vec<Item> {
    let zones: BTreeSet<&str> = snapshot
        .aws
        .iter()
        .flat_map(|a| &a.subnets)
        .filter(|s| subnets.contains(&s.id))
        .map(|s| s.availability_zone.as_str())
        .collect();
    report
        .findings
        .iter()
        .filter(|f| {
            (codes.contains(&f.code.as_str()) && f.resource_kind == kind && f.resource_name == name)
                || (f.code == "AWS001" && zones.contains(f.resource_name.as_str()))
        })
        .map(Item::from)
        .collect()
}

/// The SSM parameter that names the EKS-optimized AMI for an AMI type and version.
fn ssm_parameter(ami_type: &str, version: KubeVersion) -> String {
    let path = match ami_type {
        "AL2023_ARM_64_STANDARD" => "amazon-linux-2023/arm64/standard",
        "AL2023_x86_64_NVIDIA" => "amazon-linux-2023/x86_64/nvidia",
        "AL2023_x86_64_NEURON" => "amazon-linux-2023/x86_64/neuron",
        "BOTTLEROCKET_x86_64" => {
            return format!("/aws/service/bottlerocket/aws-k8s-{version}/x86_64/latest/image_id");
        }
        "BOTTLEROCKET_ARM_64" => {
            return format!("/aws/service/bottlerocket/aws-k8s-{version}/arm64/latest/image_id");
        }
        _ => "amazon-linux-2023/x86_64/standard",
    };
    format!("/aws/service/eks/optimized-ami/{version}/{path}/recommended/image_id")
}

/// The last Kubernetes release EKS builds Amazon Linux 2 AMIs for.
const LAST_AL2: KubeVersion = KubeVersion::new(1, 32);

/// The AL2023 AMI type that replaces an Amazon Linux 2 one; `None` for other AMI types.
fn al2023_replacement(ami_type: &str) -> Option<&'static str> {
    match ami_type {
        "AL2_x86_64" => Some("AL2023_x86_64_STANDARD"),
        "AL2_ARM_64" => Some("AL2023_ARM_64_STANDARD"),
        "AL2_x86_64_GPU" => Some("AL2023_x86_64_NVIDIA"),
        _ => None,
    }
}

/// How a managed node group moves to `hop`, and the AMI type of its replacement when it
/// must be replaced rather than updated.
fn node_group_procedure(
    has_template: bool,
    ami_type: &str,
    hop: KubeVersion,
) -> (&'static str, Option<&'static str>) {
    if let Some(replacement) = al2023_replacement(ami_type).filter(|_| hop > LAST_AL2) {
        return ("replace-al2", Some(replacement));
    }
    let procedure = match (has_template, ami_type) {
        (true, "CUSTOM") => "custom-ami",
        (true, _) => "eks-ami-with-template",
        (false, _) => "eks-ami",
    };
    (procedure, None)
}

fn node_group_step(
    report: &Report,
    snapshot: &Snapshot,
    ng: &NodeGroup,
    hop: KubeVersion,
) -> NodeGroupStep {
    let ami_type = ng.ami_type.clone().unwrap_or_default();
    let template = ng.launch_template.clone().unwrap_or_default();
    let (procedure, replacement) =
        node_group_procedure(ng.launch_template.is_some(), &ami_type, hop);
    NodeGroupStep {
        name: ng.name.clone(),
        procedure: procedure.into(),
        replacement_ami_type: replacement.unwrap_or_default().into(),
        ssm_parameter: ssm_parameter(&ami_type, hop),
        ami_type,
        template_id: template.id.unwrap_or_default(),
        template_name: template.name.unwrap_or_default(),
        template_version: template.version.unwrap_or_default(),
        findings: findings_for(
            report,
            snapshot,
            "NodeGroup",
            &ng.name,
            &["EKS003", "EKS006", "EKS008", "K8S103", "K8S014"],
            &ng.subnets,
        ),
    }
}

fn auto_scaling_step(
    report: &Report,
    snapshot: &Snapshot,
    g: &AutoScalingGroup,
    hop: KubeVersion,
) -> AutoScalingStep {
    let template = g.launch_template.clone().unwrap_or_default();
    AutoScalingStep {
        name: g.name.clone(),
        procedure: if g.launch_configuration.is_some() {
            "launch-configuration"
        } else {
            "launch-template"
        }
        .into(),
        template_id: template.id.unwrap_or_default(),
        template_name: template.name.unwrap_or_default(),
        mixed_instances: g.mixed_instances,
        launch_configuration: g.launch_configuration.clone().unwrap_or_default(),
        ssm_parameter: ssm_parameter("AL2023_x86_64_STANDARD", hop),
        findings: findings_for(
            report,
            snapshot,
            "AutoScalingGroup",
            &g.name,
            &["EKS007"],
            &g.subnets,
        ),
    }
}

/// One group per check of `codes` that has findings, in that order.
fn groups(report: &Report, codes: &[&str]) -> Vec<CheckGroup> {
    codes
        .iter()
        .filter_map(|code| {
            let check = crate::checks::lookup(code)?;
            let found = items(report, &[code]);
            (!found.is_empty()).then(|| CheckGroup {
                code: check.code.into(),
                title: check.title.into(),
                advice: check.advice.into(),
                items: found,
            })
        })
        .collect()
}

/// Builds the playbook's data. `as_of` is the day support windows were measured from.
pub fn build(snapshot: &Snapshot, report: &Report, as_of: chrono::NaiveDate) -> Playbook {
    let m = &report.metadata;
    let aws = snapshot.aws.clone().unwrap_or_default();
    let region = m.region.clone().unwrap_or_default();
    // On Auto Mode nodes only, the addons Auto Mode replaces serve no node: no update step.
    let auto_only = crate::checks::compute::auto_only(snapshot);
    let mut addon_versions: Vec<(String, String)> = aws
        .addons
        .iter()
        .filter(|a| {
            !(auto_only && crate::checks::compute::AUTO_MODE_ADDONS.contains(&a.name.as_str()))
        })
        .map(|a| (a.name.clone(), a.version.clone()))
        .collect();
    let mut from = m.current_version;
    let mut hops = Vec::new();
    for (i, hop) in m.upgrade_path.iter().enumerate() {
        let catalogue = aws
            .addon_versions
            .iter()
            .find(|c| c.kubernetes_version == *hop);
        let addons = addon_versions
            .iter_mut()
            .map(|(name, current)| {
                let to = catalogue
                    .and_then(|c| c.addons.get(name.as_str()))
                    .and_then(|vs| vs.iter().find(|v| v.default))
                    .map(|v| v.version.clone());
                let step = AddonStep {
                    name: name.clone(),
                    from: current.clone(),
                    up_to_date: to.as_deref() == Some(current.as_str()),
                    to: to.clone(),
                };
                if let Some(to) = to {
                    *current = to;
                }
                step
            })
            .collect();
        hops.push(Hop {
            number: i + 1,
            from: from.to_string(),
            to: hop.to_string(),
            addons,
            node_groups: aws
                .node_groups
                .iter()
                .map(|ng| node_group_step(report, snapshot, ng, *hop))
                .collect(),
            self_managed: aws
                .self_managed_groups
                .iter()
                .map(|g| auto_scaling_step(report, snapshot, g, *hop))
                .collect(),
            fargate: aws
                .fargate_profiles
                .iter()
                .map(|f| FargateStep {
                    name: f.name.clone(),
                    namespaces: f.namespaces.clone(),
                    findings: findings_for(
                        report,
                        snapshot,
                        "FargateProfile",
                        &f.name,
                        &[],
                        &f.subnets,
                    ),
                })
                .collect(),
            auto_mode: compute::auto_mode(snapshot, report),
            karpenter: compute::karpenter(snapshot, report, *hop),
            hybrid: compute::hybrid(snapshot, report),
        });
        from = *hop;
    }
    // Drain blockers first: they stop every node rollout, whatever else is fixed.
    let workload_codes = [
        "K8S101", "K8S102", "K8S002", "K8S003", "K8S004", "K8S005", "K8S006", "K8S007", "K8S008",
        "K8S015", "K8S012", "K8S013",
    ];
    let workloads = groups(report, &workload_codes);
    let nodes = groups(report, &["EKS008", "K8S103", "K8S014"]);
    Playbook {
        cluster: m.cluster_name.clone(),
        region_flag: if region.is_empty() {
            String::new()
        } else {
            format!("--region {region} ")
        },
        region,
        account: m.account_id.clone().unwrap_or_default(),
        current: m.current_version.to_string(),
        target: m.target_version.to_string(),
        as_of: as_of.to_string(),
        tool_version: m.tool_version.clone(),
        readiness: m.readiness.as_str().into(),
        verdict: report.verdict_reason(),
        support: m.support.as_ref().map(SupportLine::of),
        target_support: m.target_support.as_ref().map(SupportLine::of),
        rollback: m.rollback.as_ref().map(|r| RollbackLine {
            open: r.open,
            to_version: r.to_version.to_string(),
            available_until: r.available_until.format("%Y-%m-%d %H:%M UTC").to_string(),
            resumes_extended_support: r.resumes_extended_support(),
        }),
        counts: Counts {
            node_groups: aws.node_groups.len(),
            self_managed: aws.self_managed_groups.len(),
            fargate: aws.fargate_profiles.len(),
            addons: aws.addons.len(),
            nodes: snapshot.kubernetes.nodes.len(),
        },
        has_aws: snapshot.aws.is_some(),
        before: Before {
            release_notes: m
                .upgrade_path
                .iter()
                .map(|v| ReleaseNotes {
                    version: v.to_string(),
                    dashed: format!("{}-{}", v.major, v.minor),
                })
                .collect(),
            skew: items(report, &["K8S001", "K8S011"]),
            control_plane_ips: items(report, &["EKS001"]),
            health: items(report, &["EKS002", "EKS003", "EKS004"]),
            addons: items(report, &["EKS005"]),
            insights: items(report, &["EKS009", "EKS010"]),
            capacity: items(report, &["AWS001", "AWS002", "AWS003", "AWS004", "AWS005"]),
            end_of_support: items(report, &["EKS101"]),
            nodes,
            workloads,
            deprecated_apis: items(report, &["K8S104", "K8S105"]),
            karpenter: report
                .findings
                .iter()
                .filter(|f| f.code == "EKS103" && f.resource_kind == "Deployment")
                .map(Item::from)
                .collect(),
            ca_rotation: ca_rotation(report),
            api_extensions: items(report, &["K8S106"]),
        },
        hops,
        skipped: skipped_with(report, SkipCause::NotCollected),
        not_applicable: skipped_with(report, SkipCause::NotApplicable),
        collection_errors: report
            .collection_errors
            .iter()
            .map(|e| (e.source.clone(), e.message.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_linux_2_groups_are_replaced_from_the_first_release_without_al2_amis() {
        let v = KubeVersion::new;
        assert_eq!(
            node_group_procedure(false, "AL2_x86_64", v(1, 32)),
            ("eks-ami", None)
        );
        assert_eq!(
            node_group_procedure(true, "AL2_ARM_64", v(1, 33)),
            ("replace-al2", Some("AL2023_ARM_64_STANDARD"))
        );
        assert_eq!(
            node_group_procedure(false, "AL2_x86_64_GPU", v(1, 35)),
            ("replace-al2", Some("AL2023_x86_64_NVIDIA"))
        );
        assert_eq!(
            node_group_procedure(true, "AL2023_x86_64_STANDARD", v(1, 35)),
            ("eks-ami-with-template", None)
        );
        assert_eq!(
            node_group_procedure(true, "CUSTOM", v(1, 35)),
            ("custom-ami", None)
        );
    }
}
