//! Compute-aware checks: EKS Auto Mode (EKS102), self-managed Karpenter (EKS103) and EKS
//! Hybrid Nodes (EKS104), plus the Auto Mode preconditions of the addon and kube-proxy
//! checks and the `al2@` aliases that EKS008 counts.

use std::collections::BTreeMap;

use serde_json::json;

use crate::checks::image::ImageRef;
use crate::checks::{Check, Context, finding, lookup};
use crate::finding::{Finding, Remediation};
use crate::snapshot::{AutoMode, Ec2NodeClass, NodePool, Workload, WorkloadKind};
use crate::version::KubeVersion;

/// The EKS addons whose work Auto Mode does itself on its nodes.
pub const AUTO_MODE_ADDONS: [&str; 4] = ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"];
/// The `nodeClassRef.group` of Auto Mode's NodePools; self-managed Karpenter uses
/// `karpenter.k8s.aws`.
pub const AUTO_MODE_NODE_CLASS_GROUP: &str = "eks.amazonaws.com";
/// The node label value that marks an EKS Hybrid Node.
pub const HYBRID_COMPUTE_TYPE: &str = "hybrid";
const COMPUTE_TYPE_LABEL: &str = "eks.amazonaws.com/compute-type";

const KARPENTER_MATRIX: &str = include_str!("../../data/karpenter-compatibility.csv");

fn check(code: &str) -> &'static Check {
    lookup(code).expect("catalogued")
}

pub fn auto_mode<'a>(ctx: &'a Context) -> Option<&'a AutoMode> {
    ctx.snapshot.aws.as_ref()?.auto_mode.as_ref()
}

/// Precondition of K8S011 and K8S012: Auto Mode runs kube-proxy's function on its nodes.
pub fn kube_proxy_managed(ctx: &Context) -> Option<String> {
    auto_mode(ctx).map(|_| "EKS Auto Mode manages kube-proxy on its nodes".into())
}

/// Whether EKS004/EKS005 leave `addon` to Auto Mode.
pub fn addon_managed(ctx: &Context, addon: &str) -> bool {
    auto_mode(ctx).is_some() && AUTO_MODE_ADDONS.contains(&addon)
}

/// Precondition of EKS004 and EKS005: in Auto Mode, skipped when every installed addon is
/// one Auto Mode manages (the rest are still checked). A precondition, so the skip is
/// `not_applicable` and never makes the verdict unknown.
pub fn addons_managed(ctx: &Context) -> Option<String> {
    auto_mode(ctx)?;
    let addons = &ctx.snapshot.aws.as_ref()?.addons;
    addons
        .iter()
        .all(|a| addon_managed(ctx, &a.name))
        .then(|| {
            format!(
                "EKS Auto Mode manages the VPC CNI, CoreDNS, kube-proxy and the EBS CSI driver, and no other addon is installed ({})",
                AUTO_MODE_ADDONS.join(", ")
            )
        })
}

/// A budget that is always active, covers drift and allows no node to go.
fn blocks_drift(pool: &NodePool) -> Option<&str> {
    pool.budgets
        .iter()
        .find(|b| {
            matches!(b.nodes.trim(), "0" | "0%")
                && b.schedule.is_none()
                && (b.reasons.is_empty() || b.reasons.iter().any(|r| r == "Drifted"))
        })
        .map(|b| b.nodes.as_str())
}

pub fn is_auto_mode_pool(pool: &NodePool) -> bool {
    pool.node_class_group == AUTO_MODE_NODE_CLASS_GROUP
}

fn workload_resource(w: &Workload) -> (&str, &str, &str) {
    (w.kind.as_str(), &w.namespace, &w.name)
}

/// EKS102: in Auto Mode, NodePools whose budgets never let a node go block the node
/// rollout (required); workloads that opt out of disruption pin their nodes (recommended).
pub fn auto_mode_checks(ctx: &Context) -> Vec<Finding> {
    if auto_mode(ctx).is_none() {
        return Vec::new();
    }
    let check = check("EKS102");
    let mut out = Vec::new();
    for pool in ctx
        .snapshot
        .kubernetes
        .node_pools
        .iter()
        .filter(|p| is_auto_mode_pool(p))
    {
        if let Some(nodes) = blocks_drift(pool) {
            out.push(finding(
                check,
                Remediation::Required,
                ("NodePool", "", &pool.name),
                format!(
                    "NodePool {} has a disruption budget `nodes: \"{nodes}\"` with no schedule: it is always active, so EKS Auto Mode cannot replace its nodes with ones of the new version; give the budget a schedule and duration (a maintenance window) or allow at least one node",
                    pool.name
                ),
                json!({"budgets": pool.budgets, "node_class": pool.node_class_name}),
            ));
        }
    }
    for w in ctx
        .snapshot
        .kubernetes
        .workloads
        .iter()
        .filter(|w| w.pod.do_not_disrupt)
    {
        out.push(finding(
            check,
            Remediation::Recommended,
            workload_resource(w),
            format!(
                "{} {}/{} runs pods annotated karpenter.sh/do-not-disrupt: \"true\"; EKS Auto Mode does not drift the nodes they run on, so those nodes stay on the old version until the pods end; remove the annotation for the upgrade or plan to move the pods",
                w.kind.as_str(),
                w.namespace,
                w.name
            ),
            json!({"annotation": "karpenter.sh/do-not-disrupt"}),
        ));
    }
    out
}

/// A Karpenter release as `major.minor.patch` (Karpenter was 0.x before 1.0).
pub fn karpenter_version(tag: &str) -> Option<(u64, u64, u64)> {
    let core = tag.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

fn show((major, minor, patch): (u64, u64, u64)) -> String {
    format!("{major}.{minor}.{patch}")
}

/// The minimum Karpenter per Kubernetes version, from `data/karpenter-compatibility.csv`.
pub fn karpenter_matrix() -> BTreeMap<KubeVersion, (u64, u64, u64)> {
    KARPENTER_MATRIX
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            let kube = cols.next()?.parse().ok()?;
            let min = karpenter_version(cols.next()?)?;
            Some((kube, min))
        })
        .collect()
}

/// The self-managed Karpenter controllers: Deployments running `…/karpenter/controller`.
pub fn karpenter_controllers<'a>(ctx: &'a Context) -> Vec<(&'a Workload, &'a str)> {
    ctx.snapshot
        .kubernetes
        .workloads
        .iter()
        .filter(|w| w.kind == WorkloadKind::Deployment)
        .filter_map(|w| {
            let image = w.pod.containers.iter().find(|c| {
                ImageRef::parse(&c.image)
                    .is_some_and(|i| i.path_tail(2) == ["karpenter", "controller"])
            })?;
            Some((w, image.image.as_str()))
        })
        .collect()
}

/// Precondition of EKS103: in Auto Mode with no controller of the user's own, Karpenter is
/// EKS's to run.
pub fn karpenter_managed(ctx: &Context) -> Option<String> {
    (auto_mode(ctx).is_some() && karpenter_controllers(ctx).is_empty())
        .then(|| "EKS Auto Mode manages Karpenter; no self-managed controller runs".into())
}

/// EKS103: the Karpenter controller against the compatibility matrix for every hop, AMI
/// aliases that follow `@latest`, and NodePools whose budgets stop drift.
pub fn karpenter_checks(ctx: &Context) -> Vec<Finding> {
    let check = check("EKS103");
    let matrix = karpenter_matrix();
    let mut out = Vec::new();
    for (w, image) in karpenter_controllers(ctx) {
        let tag = ImageRef::parse(image).and_then(|i| i.tag);
        let Some(version) = tag.as_deref().and_then(karpenter_version) else {
            out.push(finding(
                check,
                Remediation::Recommended,
                workload_resource(w),
                format!("cannot read the Karpenter version from image `{image}`; compare it with the compatibility matrix by hand"),
                json!({"image": image}),
            ));
            continue;
        };
        let hops = ctx.hops();
        let too_old: Vec<(KubeVersion, (u64, u64, u64))> = hops
            .iter()
            .filter_map(|hop| matrix.get(hop).map(|min| (*hop, *min)))
            .filter(|(_, min)| version < *min)
            .collect();
        let unknown: Vec<String> = hops
            .iter()
            .filter(|hop| !matrix.contains_key(hop))
            .map(ToString::to_string)
            .collect();
        let details = json!({
            "image": image,
            "version": show(version),
            "minimum_by_hop": hops.iter().map(|h| json!({"kubernetes": h, "minimum": matrix.get(h).copied().map(show)})).collect::<Vec<_>>(),
            "source": "https://karpenter.sh/docs/upgrading/compatibility/",
        });
        if let Some((hop, min)) = too_old.last() {
            out.push(finding(
                check,
                Remediation::Required,
                workload_resource(w),
                format!(
                    "Karpenter {} is older than {}, the minimum for Kubernetes {hop} (Karpenter's compatibility matrix); upgrade Karpenter (and its CRDs) before upgrading the control plane",
                    show(version),
                    show(*min)
                ),
                details,
            ));
        } else if !unknown.is_empty() {
            out.push(finding(
                check,
                Remediation::Recommended,
                workload_resource(w),
                format!(
                    "the Karpenter compatibility matrix eksup carries has no entry for Kubernetes {}; check that Karpenter {} supports it",
                    unknown.join(", "),
                    show(version)
                ),
                details,
            ));
        }
    }
    for class in &ctx.snapshot.kubernetes.ec2_node_classes {
        for alias in class.ami_aliases.iter().filter(|a| a.ends_with("@latest")) {
            out.push(finding(
                check,
                Remediation::Recommended,
                ("EC2NodeClass", "", &class.name),
                format!(
                    "EC2NodeClass {} selects AMIs by alias `{alias}`: its nodes drift to every new AMI release, during the upgrade too; pin a version (e.g. `{}@v20251120`) and roll it on purpose",
                    class.name,
                    alias.trim_end_matches("@latest")
                ),
                json!({"alias": alias}),
            ));
        }
    }
    for pool in ctx
        .snapshot
        .kubernetes
        .node_pools
        .iter()
        .filter(|p| !is_auto_mode_pool(p))
    {
        if let Some(nodes) = blocks_drift(pool) {
            out.push(finding(
                check,
                Remediation::Recommended,
                ("NodePool", "", &pool.name),
                format!(
                    "NodePool {} has an always-active disruption budget `nodes: \"{nodes}\"`: Karpenter will not replace its drifted nodes after the upgrade; relax the budget for the upgrade or roll the nodes by hand",
                    pool.name
                ),
                json!({"budgets": pool.budgets}),
            ));
        }
    }
    out
}

/// The `al2@` alias an EC2NodeClass selects AMIs by, if any.
fn al2_alias(class: &Ec2NodeClass) -> Option<&str> {
    class
        .ami_aliases
        .iter()
        .find(|a| a.starts_with("al2@"))
        .map(String::as_str)
}

/// The self-managed Karpenter NodePools whose EC2NodeClass selects AL2 by an `al2@` alias:
/// EKS008 reports their nodes under the class, not again by OS image.
pub fn al2_alias_node_pools<'a>(ctx: &'a Context) -> Vec<&'a NodePool> {
    let classes = &ctx.snapshot.kubernetes.ec2_node_classes;
    ctx.snapshot
        .kubernetes
        .node_pools
        .iter()
        .filter(|p| !is_auto_mode_pool(p))
        .filter(|p| {
            classes
                .iter()
                .any(|c| c.name == p.node_class_name && al2_alias(c).is_some())
        })
        .collect()
}

/// EKS008 for Karpenter: an EC2NodeClass whose alias selects Amazon Linux 2 AMIs, with the
/// NodePools that use it and how many nodes they run (those nodes get no OS-image finding
/// of their own, so each AL2 node is reported once).
pub fn al2_node_classes(ctx: &Context, check: &Check, level: Remediation) -> Vec<Finding> {
    let pools = al2_alias_node_pools(ctx);
    ctx.snapshot
        .kubernetes
        .ec2_node_classes
        .iter()
        .filter_map(|class| {
            let alias = al2_alias(class)?;
            let pool_names: Vec<&str> = pools
                .iter()
                .filter(|p| p.node_class_name == class.name)
                .map(|p| p.name.as_str())
                .collect();
            let nodes = ctx
                .snapshot
                .kubernetes
                .nodes
                .iter()
                .filter(|n| {
                    n.labels
                        .get("karpenter.sh/nodepool")
                        .is_some_and(|p| pool_names.contains(&p.as_str()))
                })
                .count();
            Some(finding(
                check,
                level,
                ("EC2NodeClass", "", &class.name),
                format!(
                    "EC2NodeClass {} selects Amazon Linux 2 AMIs (alias `{alias}`); EKS publishes no AL2 AMIs for Kubernetes 1.33 and later: switch to `al2023@…` or `bottlerocket@…`",
                    class.name
                ),
                json!({"alias": alias, "node_pools": pool_names, "nodes": nodes}),
            ))
        })
        .collect()
}

/// EKS104: hybrid nodes are the operator's to upgrade; kubelets behind the control plane
/// are recommended to upgrade (K8S001 still applies the skew limit).
pub fn hybrid_nodes(ctx: &Context) -> Vec<Finding> {
    let Some(remote) = ctx
        .snapshot
        .aws
        .as_ref()
        .and_then(|a| a.remote_network.as_ref())
    else {
        return Vec::new();
    };
    let check = check("EKS104");
    let mut by_version: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in hybrid(ctx) {
        by_version
            .entry(node.kubelet_version.as_str())
            .or_default()
            .push(node.name.as_str());
    }
    by_version
        .into_iter()
        .filter_map(|(version, names)| {
            let kubelet: KubeVersion = version.parse().ok()?;
            (kubelet < ctx.current).then(|| {
                finding(
                    check,
                    Remediation::Recommended,
                    ("Node", "", version),
                    format!(
                        "{} hybrid node(s) run kubelet {kubelet}, behind the control plane ({}); EKS does not upgrade hybrid nodes: upgrade them with nodeadm, one at a time after draining",
                        names.len(),
                        ctx.current
                    ),
                    json!({"kubelet_version": version, "nodes": names, "remote_node_networks": remote.node_cidrs}),
                )
            })
        })
        .collect()
}

/// The nodes labelled as EKS Hybrid Nodes.
pub fn hybrid<'a>(ctx: &'a Context) -> impl Iterator<Item = &'a crate::snapshot::Node> {
    ctx.snapshot.kubernetes.nodes.iter().filter(|n| {
        n.labels.get(COMPUTE_TYPE_LABEL).map(String::as_str) == Some(HYBRID_COMPUTE_TYPE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::checks::kubernetes::fixtures::{codes_for, run, snapshot, workload};
    use crate::snapshot::{Addon, AwsData, DisruptionBudget, KubeProxy};

    fn auto_mode_snapshot() -> crate::snapshot::Snapshot {
        let mut s = snapshot("1.34");
        s.aws = Some(AwsData {
            auto_mode: Some(AutoMode::default()),
            addons: vec![Addon {
                name: "coredns".into(),
                version: "v1.11.1-eksbuild.4".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        s.kubernetes.kube_proxy = Some(KubeProxy {
            images: vec![
                "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.30.0-eksbuild.1"
                    .into(),
            ],
            mode: Some("ipvs".into()),
        });
        s
    }

    #[test]
    fn auto_mode_skips_what_it_manages_instead_of_reporting_it() {
        let eval = run(&auto_mode_snapshot(), "1.35");
        let skipped: Vec<&str> = eval.skipped.iter().map(|k| k.code.as_str()).collect();
        for code in ["EKS004", "EKS005", "EKS103", "K8S011", "K8S012"] {
            assert!(skipped.contains(&code), "{code} skipped: {skipped:?}");
            assert!(codes_for(&eval.findings, code).is_empty(), "{code} silent");
        }
    }

    #[test]
    fn without_auto_mode_kube_proxy_is_checked() {
        let mut s = auto_mode_snapshot();
        s.aws.as_mut().unwrap().auto_mode = None;
        let eval = run(&s, "1.35");
        assert!(!codes_for(&eval.findings, "K8S011").is_empty());
        assert!(!eval.skipped.iter().any(|k| k.code == "K8S011"));
    }

    #[test]
    fn auto_mode_budgets_and_do_not_disrupt() {
        let mut s = auto_mode_snapshot();
        let pool = |name: &str, group: &str| NodePool {
            name: name.into(),
            node_class_group: group.into(),
            budgets: vec![DisruptionBudget {
                nodes: "0%".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        s.kubernetes.node_pools = vec![
            pool("auto", AUTO_MODE_NODE_CLASS_GROUP),
            pool("karpenter", "karpenter.k8s.aws"),
        ];
        let mut pinned = workload(WorkloadKind::StatefulSet, "db", "pg");
        pinned.pod.do_not_disrupt = true;
        s.kubernetes.workloads = vec![pinned, workload(WorkloadKind::Deployment, "web", "api")];
        let eval = run(&s, "1.35");
        let got: Vec<(&str, Remediation)> = codes_for(&eval.findings, "EKS102")
            .iter()
            .map(|f| (f.resource_name.as_str(), f.remediation))
            .collect();
        assert_eq!(
            got,
            [
                ("auto", Remediation::Required),
                ("pg", Remediation::Recommended)
            ]
        );
    }

    #[test]
    fn karpenter_versions_parse_with_and_without_v() {
        assert_eq!(karpenter_version("v0.37.0"), Some((0, 37, 0)));
        assert_eq!(karpenter_version("1.0.6"), Some((1, 0, 6)));
        assert_eq!(karpenter_version("1.2"), Some((1, 2, 0)));
        assert_eq!(karpenter_version("latest"), None);
        assert!(karpenter_version("0.37.0") < karpenter_version("1.0.5"));
    }

    #[test]
    fn matrix_covers_every_supported_minor() {
        let m = karpenter_matrix();
        assert_eq!(m[&KubeVersion::new(1, 31)], (1, 0, 5));
        assert_eq!(m[&KubeVersion::new(1, 30)], (0, 37, 0));
        for minor in 23..=35 {
            assert!(m.contains_key(&KubeVersion::new(1, minor)), "1.{minor}");
        }
    }

    #[test]
    fn only_always_active_zero_budgets_covering_drift_block() {
        use crate::snapshot::DisruptionBudget;
        let pool = |b: DisruptionBudget| NodePool {
            name: "p".into(),
            budgets: vec![b],
            ..Default::default()
        };
        let zero = DisruptionBudget {
            nodes: "0".into(),
            ..Default::default()
        };
        assert!(blocks_drift(&pool(zero.clone())).is_some());
        let windowed = DisruptionBudget {
            schedule: Some("0 9 * * mon-fri".into()),
            duration: Some("8h".into()),
            ..zero.clone()
        };
        assert!(blocks_drift(&pool(windowed)).is_none());
        let underutilized_only = DisruptionBudget {
            reasons: vec!["Underutilized".into()],
            ..zero.clone()
        };
        assert!(blocks_drift(&pool(underutilized_only)).is_none());
        let ten = DisruptionBudget {
            nodes: "10%".into(),
            ..Default::default()
        };
        assert!(blocks_drift(&pool(ten)).is_none());
    }
}
