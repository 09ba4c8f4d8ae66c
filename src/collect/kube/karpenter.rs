//! Projections of Karpenter's objects: `karpenter.sh/v1` NodePools (self-managed Karpenter
//! and EKS Auto Mode share the kind) and `karpenter.k8s.aws/v1` EC2NodeClasses. Only the
//! fields EKS102/EKS103 read are decoded; serde skips the rest of each object.

use serde::Deserialize;

use crate::snapshot::{DisruptionBudget, Ec2NodeClass, NodePool};

#[derive(Deserialize)]
struct Meta {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawNodePool {
    metadata: Meta,
    #[serde(default)]
    spec: NodePoolSpec,
}

#[derive(Deserialize, Default)]
struct NodePoolSpec {
    #[serde(default)]
    template: Template,
    #[serde(default)]
    disruption: Disruption,
}

#[derive(Deserialize, Default)]
struct Template {
    #[serde(default)]
    spec: TemplateSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TemplateSpec {
    #[serde(default)]
    node_class_ref: Option<NodeClassRef>,
}

#[derive(Deserialize, Default)]
struct NodeClassRef {
    #[serde(default)]
    group: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Default)]
struct Disruption {
    /// Absent budgets mean Karpenter's default, `nodes: 10%`.
    #[serde(default)]
    budgets: Option<Vec<Budget>>,
}

#[derive(Deserialize)]
struct Budget {
    #[serde(default)]
    nodes: Option<String>,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    duration: Option<String>,
    #[serde(default, deserialize_with = "super::wire::or_default")]
    reasons: Vec<String>,
}

/// Karpenter's default when a NodePool sets no budgets.
const DEFAULT_BUDGET_NODES: &str = "10%";

pub fn node_pool(p: RawNodePool) -> Option<NodePool> {
    let class = p.spec.template.spec.node_class_ref.unwrap_or_default();
    let budgets = match p.spec.disruption.budgets {
        Some(budgets) => budgets
            .into_iter()
            .map(|b| DisruptionBudget {
                nodes: b.nodes.unwrap_or_else(|| DEFAULT_BUDGET_NODES.into()),
                schedule: b.schedule,
                duration: b.duration,
                reasons: b.reasons,
            })
            .collect(),
        None => vec![DisruptionBudget {
            nodes: DEFAULT_BUDGET_NODES.into(),
            ..Default::default()
        }],
    };
    Some(NodePool {
        name: p.metadata.name,
        node_class_group: class.group,
        node_class_kind: class.kind,
        node_class_name: class.name,
        budgets,
    })
}

#[derive(Deserialize)]
pub struct RawEc2NodeClass {
    metadata: Meta,
    #[serde(default)]
    spec: Ec2NodeClassSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Ec2NodeClassSpec {
    #[serde(default, deserialize_with = "super::wire::or_default")]
    ami_selector_terms: Vec<AmiSelectorTerm>,
}

#[derive(Deserialize)]
struct AmiSelectorTerm {
    #[serde(default)]
    alias: Option<String>,
}

pub fn ec2_node_class(c: RawEc2NodeClass) -> Option<Ec2NodeClass> {
    Some(Ec2NodeClass {
        name: c.metadata.name,
        ami_aliases: c
            .spec
            .ami_selector_terms
            .into_iter()
            .filter_map(|t| t.alias)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_pool_without_budgets_gets_karpenters_default() {
        let raw: RawNodePool = serde_json::from_value(serde_json::json!({
            "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
            "metadata": {"name": "default"},
            "spec": {"template": {"spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}, "requirements": []}}}
        }))
        .unwrap();
        let p = node_pool(raw).unwrap();
        assert_eq!(p.node_class_kind, "EC2NodeClass");
        assert_eq!(p.budgets.len(), 1);
        assert_eq!(p.budgets[0].nodes, "10%");
    }

    #[test]
    fn ec2_node_class_keeps_aliases_only() {
        let raw: RawEc2NodeClass = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "default"},
            "spec": {"role": "r", "amiSelectorTerms": [{"alias": "al2023@latest"}, {"id": "ami-123"}]}
        }))
        .unwrap();
        assert_eq!(ec2_node_class(raw).unwrap().ami_aliases, ["al2023@latest"]);
    }
}
