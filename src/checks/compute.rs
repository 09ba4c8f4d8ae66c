//! Compute-aware checks: EKS Auto Mode (EKS102), self-managed Karpenter (EKS103) and EKS
//! Hybrid Nodes (EKS104), plus the Auto Mode preconditions of the addon and kube-proxy
//! checks and the `al2@` aliases that EKS008 counts.

use std::collections::BTreeMap;

use serde_json::json;

use crate::checks::image::ImageRef;
use crate::checks::{Check, Context, SkippedResource, Unmet, finding, lookup};
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

/// Why a component Auto Mode runs itself is left out on a cluster of Auto Mode nodes only.
pub const AUTO_ONLY_REASON: &str = "managed by Auto Mode; no node runs it";

/// The compute an Auto Mode cluster has besides its own nodes: what the add-ons and
/// kube-proxy still serve.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OtherCompute {
    pub managed_node_groups: usize,
    pub self_managed_groups: usize,
    pub fargate_profiles: usize,
    /// Karpenter NodePools that are not Auto Mode's.
    pub node_pools: usize,
    /// Nodes without the label `eks.amazonaws.com/compute-type=auto` (hybrid nodes too).
    pub nodes: usize,
    /// Sources that could not be read: what they hold is unknown, so it counts as present.
    pub unread: Vec<&'static str>,
}

impl OtherCompute {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `1 managed node group(s), 1 node(s) outside Auto Mode`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = [
            (self.managed_node_groups, "managed node group(s)"),
            (self.self_managed_groups, "self-managed node group(s)"),
            (self.fargate_profiles, "Fargate profile(s)"),
            (self.node_pools, "NodePool(s) of its own"),
            (self.nodes, "node(s) outside Auto Mode"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if !self.unread.is_empty() {
            parts.push(format!("{} not read", self.unread.join(", ")));
        }
        parts.join(", ")
    }
}

/// With Auto Mode on, everything that is not an Auto Mode node; `None` without Auto Mode.
pub fn other_compute(snapshot: &crate::snapshot::Snapshot) -> Option<OtherCompute> {
    use crate::snapshot::source;
    let aws = snapshot.aws.as_ref()?;
    aws.auto_mode.as_ref()?;
    let kube = &snapshot.kubernetes;
    Some(OtherCompute {
        managed_node_groups: aws.node_groups.len(),
        self_managed_groups: aws.self_managed_groups.len(),
        fargate_profiles: aws.fargate_profiles.len(),
        node_pools: kube
            .node_pools
            .iter()
            .filter(|p| !is_auto_mode_pool(p))
            .count(),
        nodes: kube
            .nodes
            .iter()
            .filter(|n| n.labels.get(COMPUTE_TYPE_LABEL).map(String::as_str) != Some("auto"))
            .count(),
        unread: [
            source::NODES,
            source::NODEGROUPS,
            source::SELF_MANAGED,
            source::FARGATE,
            source::NODEPOOLS,
        ]
        .into_iter()
        .filter(|s| snapshot.failure_of(s).is_some())
        .collect(),
    })
}

/// Whether Auto Mode is on and its nodes are all the compute there is: then the add-ons it
/// replaces and kube-proxy serve no node.
pub fn auto_only(snapshot: &crate::snapshot::Snapshot) -> bool {
    other_compute(snapshot).is_some_and(|o| o.is_empty())
}

/// Whether EKS004/EKS005 leave `addon` out: one Auto Mode replaces, on Auto Mode nodes only.
pub fn addon_managed(ctx: &Context, addon: &str) -> bool {
    AUTO_MODE_ADDONS.contains(&addon) && auto_only(ctx.snapshot)
}

/// Precondition of EKS004 and EKS005: on Auto Mode nodes only, the add-ons Auto Mode
/// replaces are each listed as skipped (the others are still judged). A precondition, so
/// the skips are `not_applicable` and never make the verdict unknown.
pub fn addons_managed(ctx: &Context) -> Option<Unmet> {
    let addons = &ctx.snapshot.aws.as_ref()?.addons;
    let names: Vec<SkippedResource> = addons
        .iter()
        .filter(|a| addon_managed(ctx, &a.name))
        .map(|a| SkippedResource::new("Addon", "", &a.name))
        .collect();
    (!names.is_empty()).then(|| Unmet::Resources {
        rest: names.len() < addons.len(),
        names,
        reason: AUTO_ONLY_REASON.into(),
    })
}

/// Precondition of K8S011 and K8S012: on Auto Mode nodes only, the kube-proxy DaemonSet
/// (if any) serves no node.
pub fn kube_proxy_managed(ctx: &Context) -> Option<Unmet> {
    if !auto_only(ctx.snapshot) {
        return None;
    }
    Some(match ctx.snapshot.kubernetes.kube_proxy {
        Some(_) => Unmet::Resources {
            names: vec![SkippedResource::new(
                "DaemonSet",
                "kube-system",
                "kube-proxy",
            )],
            reason: AUTO_ONLY_REASON.into(),
            rest: false,
        },
        None => Unmet::Check(
            "EKS Auto Mode runs kube-proxy on its nodes, and no kube-proxy DaemonSet is installed"
                .into(),
        ),
    })
}

/// The Auto Mode component a finding is about: an add-on Auto Mode replaces, or kube-proxy.
fn auto_mode_component(f: &Finding) -> Option<&str> {
    match f.resource_kind.as_str() {
        "Addon" if AUTO_MODE_ADDONS.contains(&f.resource_name.as_str()) => {
            Some(f.resource_name.as_str())
        }
        "DaemonSet" | "ConfigMap"
            if f.resource_namespace == "kube-system"
                && matches!(f.resource_name.as_str(), "kube-proxy" | "kube-proxy-config") =>
        {
            Some("kube-proxy")
        }
        _ => None,
    }
}

/// EKS004/EKS005 and K8S011/K8S012 beside Auto Mode: judged as without it, and the message
/// says which nodes the component still serves.
pub fn beside_auto_mode(ctx: &Context, mut findings: Vec<Finding>) -> Vec<Finding> {
    let Some(other) = other_compute(ctx.snapshot).filter(|o| !o.is_empty()) else {
        return findings;
    };
    let serves = other.describe();
    for f in &mut findings {
        if let Some(component) = auto_mode_component(f) {
            let what = if f.resource_kind == "Addon" {
                "this add-on"
            } else {
                "the kube-proxy DaemonSet"
            };
            f.message = format!(
                "{}. EKS Auto Mode runs its own {component} on its nodes; {what} serves the rest of the cluster ({serves})",
                f.message.trim_end_matches('.')
            );
            if let Some(details) = f.details.as_object_mut() {
                details.insert("serves_outside_auto_mode".into(), json!(serves));
            }
        }
    }
    findings
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

    /// Auto Mode with one Auto Mode node, coredns (unsupported on 1.35, with a health
    /// issue) and metrics-server installed, and kube-proxy 1.30 in IPVS mode.
    fn auto_mode_snapshot() -> crate::snapshot::Snapshot {
        let mut s = snapshot("1.34");
        let addon = |name: &str| Addon {
            name: name.into(),
            version: "v1.11.1-eksbuild.4".into(),
            health_issues: vec![crate::snapshot::HealthIssue {
                code: "InsufficientNumberOfReplicas".into(),
                message: "not enough replicas".into(),
                resource_ids: vec![],
            }],
            ..Default::default()
        };
        s.aws = Some(AwsData {
            auto_mode: Some(AutoMode::default()),
            addons: vec![addon("coredns"), addon("metrics-server")],
            addon_versions: vec![crate::snapshot::AddonCatalog {
                kubernetes_version: KubeVersion::new(1, 35),
                addons: Default::default(),
            }],
            // Read, and nothing to report: EKS105 and EKS106 are not what this is about.
            updates: Some(Default::default()),
            certificate_authorities: Some(Vec::new()),
            ..Default::default()
        });
        s.kubernetes.nodes = vec![crate::snapshot::Node {
            name: "i-auto".into(),
            kubelet_version: "v1.34.1".into(),
            labels: [(COMPUTE_TYPE_LABEL.to_string(), "auto".to_string())].into(),
            ..Default::default()
        }];
        s.kubernetes.kube_proxy = Some(KubeProxy {
            images: vec![
                "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.30.0-eksbuild.1"
                    .into(),
            ],
            mode: Some("ipvs".into()),
        });
        s
    }

    fn skips<'a>(
        eval: &'a crate::checks::Evaluation,
        code: &str,
    ) -> Vec<(Option<String>, &'a str)> {
        eval.skipped
            .iter()
            .filter(|k| k.code == code)
            .map(|k| {
                (
                    k.resource.as_ref().map(|r| r.to_string()),
                    k.reason.as_str(),
                )
            })
            .collect()
    }

    fn resources<'a>(eval: &'a crate::checks::Evaluation, code: &str) -> Vec<&'a str> {
        codes_for(&eval.findings, code)
            .iter()
            .map(|f| f.resource_name.as_str())
            .collect()
    }

    #[test]
    fn auto_only_lists_what_auto_mode_replaces_and_judges_the_rest() {
        let eval = run(&auto_mode_snapshot(), "1.35");
        for code in ["EKS004", "EKS005"] {
            assert_eq!(
                skips(&eval, code),
                [(Some("Addon coredns".to_string()), AUTO_ONLY_REASON)]
            );
            assert_eq!(resources(&eval, code), ["metrics-server"], "{code}");
        }
        for code in ["K8S011", "K8S012"] {
            assert_eq!(
                skips(&eval, code),
                [(
                    Some("DaemonSet kube-system/kube-proxy".to_string()),
                    AUTO_ONLY_REASON
                )]
            );
            assert!(resources(&eval, code).is_empty(), "{code} silent");
        }
        assert!(
            eval.skipped
                .iter()
                .all(|k| k.cause == crate::checks::SkipCause::NotApplicable)
        );
        // EKS004/EKS005 ran for metrics-server; K8S011/K8S012 did not run at all.
        let ran_or_skipped = eval.checks_run + eval.checks_skipped;
        assert_eq!(ran_or_skipped, crate::checks::catalogue().len());
    }

    #[test]
    fn auto_only_with_only_auto_mode_addons_does_not_run_the_addon_checks() {
        let mut s = auto_mode_snapshot();
        s.aws
            .as_mut()
            .unwrap()
            .addons
            .retain(|a| a.name == "coredns");
        let eval = run(&s, "1.35");
        assert_eq!(
            skips(&eval, "EKS005"),
            [(Some("Addon coredns".to_string()), AUTO_ONLY_REASON)]
        );
        assert!(codes_for(&eval.findings, "EKS005").is_empty());
        // Without a kube-proxy DaemonSet there is nothing to name.
        s.kubernetes.kube_proxy = None;
        let eval = run(&s, "1.35");
        assert_eq!(skips(&eval, "K8S011")[0].0, None);
    }

    #[test]
    fn beside_other_compute_auto_mode_components_are_judged_as_without_it() {
        let mut s = auto_mode_snapshot();
        s.aws.as_mut().unwrap().node_groups = vec![crate::snapshot::NodeGroup {
            name: "workers".into(),
            ..Default::default()
        }];
        s.kubernetes.nodes.push(crate::snapshot::Node {
            name: "ip-10-0-1-1".into(),
            kubelet_version: "v1.34.1".into(),
            ..Default::default()
        });
        let eval = run(&s, "1.35");
        for code in ["EKS004", "EKS005"] {
            assert!(
                skips(&eval, code).is_empty(),
                "{code}: {:?}",
                skips(&eval, code)
            );
            assert_eq!(
                resources(&eval, code),
                ["coredns", "metrics-server"],
                "{code}"
            );
        }
        assert_eq!(resources(&eval, "K8S011"), ["kube-proxy"]);
        assert_eq!(resources(&eval, "K8S012"), ["kube-proxy-config"]);
        let coredns = codes_for(&eval.findings, "EKS005")
            .into_iter()
            .find(|f| f.resource_name == "coredns")
            .unwrap();
        assert!(
            coredns.message.ends_with(
                "EKS Auto Mode runs its own coredns on its nodes; this add-on serves the rest of the cluster (1 managed node group(s), 1 node(s) outside Auto Mode)"
            ),
            "{}",
            coredns.message
        );
        let metrics = codes_for(&eval.findings, "EKS005")
            .into_iter()
            .find(|f| f.resource_name == "metrics-server")
            .unwrap();
        assert!(
            !metrics.message.contains("Auto Mode"),
            "not a component Auto Mode runs"
        );
        let proxy = &codes_for(&eval.findings, "K8S011")[0];
        assert!(
            proxy
                .message
                .contains("the kube-proxy DaemonSet serves the rest of the cluster")
        );
    }

    #[test]
    fn a_hybrid_node_or_a_nodepool_of_ones_own_is_other_compute_too() {
        let mut s = auto_mode_snapshot();
        s.kubernetes.nodes[0]
            .labels
            .insert(COMPUTE_TYPE_LABEL.into(), HYBRID_COMPUTE_TYPE.into());
        assert!(!auto_only(&s));
        let mut s = auto_mode_snapshot();
        s.kubernetes.node_pools = vec![NodePool {
            name: "gpu".into(),
            node_class_group: "karpenter.k8s.aws".into(),
            ..Default::default()
        }];
        assert_eq!(
            other_compute(&s).unwrap().describe(),
            "1 NodePool(s) of its own"
        );
        // What could not be read may hold node groups: judged, never assumed away.
        let mut s = auto_mode_snapshot();
        s.record_error(crate::snapshot::source::NODEGROUPS, "HTTP 403");
        assert!(!auto_only(&s));
        assert!(auto_only(&auto_mode_snapshot()));
    }

    #[test]
    fn without_auto_mode_kube_proxy_is_checked() {
        let mut s = auto_mode_snapshot();
        s.aws.as_mut().unwrap().auto_mode = None;
        let eval = run(&s, "1.35");
        assert!(!codes_for(&eval.findings, "K8S011").is_empty());
        assert!(!eval.skipped.iter().any(|k| k.code == "K8S011"));
        assert!(
            !codes_for(&eval.findings, "K8S011")[0]
                .message
                .contains("Auto Mode")
        );
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
