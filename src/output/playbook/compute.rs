//! Playbook steps for compute that no node group describes: EKS Auto Mode, self-managed
//! Karpenter NodePools and EKS Hybrid Nodes.

use serde::Serialize;

use super::context::Item;
use crate::checks::compute::{HYBRID_COMPUTE_TYPE, is_auto_mode_pool};
use crate::report::Report;
use crate::snapshot::{NodePool, Snapshot};
use crate::version::KubeVersion;

/// How many hybrid node names a step lists before it only counts.
const NODES_SHOWN: usize = 20;

#[derive(Debug, Serialize)]
pub struct AutoModeStep {
    pub node_pools: Vec<PoolLine>,
    pub findings: Vec<Item>,
}

#[derive(Debug, Serialize)]
pub struct PoolLine {
    pub name: String,
    /// The budgets as `nodes` values, with their schedules.
    pub budgets: String,
}

#[derive(Debug, Serialize)]
pub struct NodePoolStep {
    pub name: String,
    pub node_class: String,
    pub budgets: String,
    /// The EC2NodeClass's AMI aliases, e.g. `al2023@latest`.
    pub aliases: Vec<String>,
    pub follows_latest: bool,
    /// The SSM parameter holding the AMI release for the hop, and the alias family.
    pub release_parameter: String,
    pub family: String,
    /// The class selects Amazon Linux 2, which has no AMIs from 1.33: the pin moves it to AL2023.
    pub moves_off_al2: bool,
    pub findings: Vec<Item>,
}

#[derive(Debug, Serialize)]
pub struct HybridStep {
    pub count: usize,
    pub nodes: Vec<String>,
    pub findings: Vec<Item>,
}

fn budgets(pool: &NodePool) -> String {
    pool.budgets
        .iter()
        .map(|b| match &b.schedule {
            Some(s) => format!(
                "`nodes: {}` during `{s}` for {}",
                b.nodes,
                b.duration.as_deref().unwrap_or("?")
            ),
            None => format!("`nodes: {}` always", b.nodes),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn findings(report: &Report, code: &str, kind: &str, name: &str) -> Vec<Item> {
    report
        .findings
        .iter()
        .filter(|f| {
            f.code == code
                && f.resource_kind == kind
                && (name.is_empty() || f.resource_name == name)
        })
        .map(Item::from)
        .collect()
}

pub fn auto_mode(snapshot: &Snapshot, report: &Report) -> Option<AutoModeStep> {
    snapshot.aws.as_ref()?.auto_mode.as_ref()?;
    Some(AutoModeStep {
        node_pools: snapshot
            .kubernetes
            .node_pools
            .iter()
            .filter(|p| is_auto_mode_pool(p))
            .map(|p| PoolLine {
                name: p.name.clone(),
                budgets: budgets(p),
            })
            .collect(),
        findings: report
            .findings
            .iter()
            .filter(|f| f.code == "EKS102")
            .map(Item::from)
            .collect(),
    })
}

pub fn karpenter(snapshot: &Snapshot, report: &Report, hop: KubeVersion) -> Vec<NodePoolStep> {
    snapshot
        .kubernetes
        .node_pools
        .iter()
        .filter(|p| !is_auto_mode_pool(p))
        .map(|p| {
            let aliases: Vec<String> = snapshot
                .kubernetes
                .ec2_node_classes
                .iter()
                .find(|c| c.name == p.node_class_name)
                .map(|c| c.ami_aliases.clone())
                .unwrap_or_default();
            let selected = aliases
                .first()
                .and_then(|a| a.split_once('@'))
                .map_or("al2023", |(f, _)| f);
            let moves_off_al2 = selected == "al2";
            let family = if moves_off_al2 { "al2023" } else { selected }.to_string();
            let release_parameter = if family == "bottlerocket" {
                format!("/aws/service/bottlerocket/aws-k8s-{hop}/x86_64/latest/image_version")
            } else {
                format!("/aws/service/eks/optimized-ami/{hop}/amazon-linux-2023/x86_64/standard/recommended/release_version")
            };
            let mut items = findings(report, "EKS103", "NodePool", &p.name);
            items.extend(findings(report, "EKS103", "EC2NodeClass", &p.node_class_name));
            items.extend(findings(report, "EKS008", "EC2NodeClass", &p.node_class_name));
            // Its nodes' OS and runtime, summarised under the NodePool (EKS008 by OS image
            // when the class does not select AL2 by alias, K8S103, K8S014).
            for code in ["EKS008", "K8S103", "K8S014"] {
                items.extend(findings(report, code, "NodePool", &p.name));
            }
            NodePoolStep {
                name: p.name.clone(),
                node_class: p.node_class_name.clone(),
                budgets: budgets(p),
                follows_latest: aliases.iter().any(|a| a.ends_with("@latest")),
                aliases,
                release_parameter,
                family,
                moves_off_al2,
                findings: items,
            }
        })
        .collect()
}

pub fn hybrid(snapshot: &Snapshot, report: &Report) -> Option<HybridStep> {
    snapshot.aws.as_ref()?.remote_network.as_ref()?;
    let nodes: Vec<String> = snapshot
        .kubernetes
        .nodes
        .iter()
        .filter(|n| {
            n.labels
                .get("eks.amazonaws.com/compute-type")
                .map(String::as_str)
                == Some(HYBRID_COMPUTE_TYPE)
        })
        .map(|n| n.name.clone())
        .collect();
    (!nodes.is_empty()).then(|| HybridStep {
        count: nodes.len(),
        nodes: nodes.into_iter().take(NODES_SHOWN).collect(),
        findings: findings(report, "EKS104", "Node", ""),
    })
}
