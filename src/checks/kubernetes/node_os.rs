//! Node operating system and runtime checks K8S103 (cgroup v1) and K8S014 (containerd 1.x),
//! read from each node's `status.nodeInfo` and summarised by node group. The node-group and
//! OS helpers here also serve EKS008 for nodes outside managed node groups.

use std::collections::BTreeMap;

use serde_json::json;

use crate::checks::{Check, Context, changes, finding, lookup};
use crate::finding::{Finding, Remediation};
use crate::snapshot::Node;

/// How many node names a finding lists before it only counts.
const NAMES_SHOWN: usize = 20;

/// Fargate nodes: AWS picks their OS and runtime, and a restarted pod gets a new one.
pub fn is_fargate(node: &Node) -> bool {
    node.labels
        .get("eks.amazonaws.com/compute-type")
        .map(String::as_str)
        == Some("fargate")
        || node.name.starts_with("fargate-")
}

pub fn is_windows(node: &Node) -> bool {
    node.operating_system.eq_ignore_ascii_case("windows") || node.os_image.starts_with("Windows")
}

/// `Amazon Linux 2` exactly as the AL2 AMIs report it, never `Amazon Linux 2023.…`.
pub fn is_amazon_linux_2(node: &Node) -> bool {
    let image = node.os_image.trim();
    image == "Amazon Linux 2" || image.starts_with("Amazon Linux 2 ")
}

/// The group a node is summarised under: `(resource kind, name)`. The kind `NodeGroup`
/// matches the managed node group's own findings, so the playbook files them together.
pub fn group_of(node: &Node) -> (&'static str, String) {
    let label = |k: &str| node.labels.get(k).filter(|v| !v.is_empty()).cloned();
    if let Some(ng) = label("eks.amazonaws.com/nodegroup") {
        ("NodeGroup", ng)
    } else if let Some(pool) = label("karpenter.sh/nodepool") {
        ("NodePool", pool)
    } else if let Some(ng) = label("alpha.eksctl.io/nodegroup-name") {
        ("NodeGroup", ng)
    } else {
        ("Nodes", "without a node group label".into())
    }
}

/// Nodes grouped by [`group_of`], in a stable order.
pub fn by_group<'a>(
    nodes: impl Iterator<Item = &'a Node>,
) -> BTreeMap<(&'static str, String), Vec<&'a Node>> {
    let mut groups: BTreeMap<_, Vec<&Node>> = BTreeMap::new();
    for n in nodes {
        groups.entry(group_of(n)).or_default().push(n);
    }
    groups
}

/// Details shared by the node findings: counts, some names, the distinct values seen.
pub fn group_details(
    nodes: &[&Node],
    key: &str,
    field: fn(&Node) -> &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut values: Vec<&str> = nodes.iter().map(|n| field(n)).collect();
    values.sort();
    values.dedup();
    let names: Vec<&str> = nodes
        .iter()
        .take(NAMES_SHOWN)
        .map(|n| n.name.as_str())
        .collect();
    let mut out = serde_json::Map::new();
    out.insert("nodes".into(), json!(nodes.len()));
    out.insert("node_names".into(), json!(names));
    out.insert(key.into(), json!(values));
    out
}

/// The major version of a `containerd://X.Y.Z[+vendor]` runtime; `None` for other runtimes.
fn containerd_major(runtime: &str) -> Option<u32> {
    runtime
        .strip_prefix("containerd://")?
        .trim_start_matches('v')
        .split(['.', '+', '-'])
        .next()?
        .parse()
        .ok()
}

/// One finding per node group of the nodes `flagged` selects; `field` is the node fact the
/// finding is about, listed under `key` in the details.
fn node_findings(
    ctx: &Context,
    check: &Check,
    level: Remediation,
    flagged: impl Fn(&Node) -> bool,
    (key, field): (&str, fn(&Node) -> &str),
    message: impl Fn(usize, &str) -> String,
) -> Vec<Finding> {
    let nodes = ctx.snapshot.kubernetes.nodes.iter().filter(|n| flagged(n));
    by_group(nodes)
        .into_iter()
        .map(|((kind, name), nodes)| {
            let details = group_details(&nodes, key, field);
            let shown = nodes.first().map(|n| field(n)).unwrap_or_default();
            finding(
                check,
                level,
                (kind, "", &name),
                message(nodes.len(), shown),
                serde_json::Value::Object(details),
            )
        })
        .collect()
}

/// K8S103: Amazon Linux 2 nodes run cgroup v1, on which the kubelet no longer starts by
/// default. AL2023 and Bottlerocket use cgroup v2; Windows and Fargate are left out.
pub fn cgroup_v1(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S103").expect("catalogued");
    let Some(level) = changes::for_check(check.code).level(ctx.target) else {
        return Vec::new();
    };
    let target = ctx.target;
    node_findings(
        ctx,
        check,
        level,
        |n| !is_fargate(n) && !is_windows(n) && is_amazon_linux_2(n),
        ("os_images", |n| n.os_image.as_str()),
        |count, image| {
            format!(
                "{count} node(s) run {image} (cgroup v1); the {target} kubelet does not start on cgroup v1: replace them with AL2023 or Bottlerocket nodes first"
            )
        },
    )
}

/// K8S014: nodes whose runtime is containerd 1.x, which Kubernetes supports up to the
/// release before the one `data/behaviour-changes.csv` records as required.
pub fn containerd_1(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S014").expect("catalogued");
    let change = changes::for_check(check.code);
    let Some(level) = change.level(ctx.target) else {
        return Vec::new();
    };
    let target = ctx.target;
    let when = match level {
        Remediation::Required => format!("the {target} kubelet does not support it"),
        Remediation::Recommended => match change.required_from {
            Some(v) if v.minor > 0 => format!(
                "Kubernetes {}.{} is the last release that supports it",
                v.major,
                v.minor - 1
            ),
            _ => "Kubernetes is ending support for it".into(),
        },
    };
    node_findings(
        ctx,
        check,
        level,
        |n| !is_fargate(n) && containerd_major(&n.container_runtime_version) == Some(1),
        ("runtimes", |n| n.container_runtime_version.as_str()),
        |count, runtime| {
            format!(
                "{count} node(s) run {runtime}; {when}: move them to an AMI with containerd 2.x"
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::kubernetes::fixtures::{codes_for, run, run_with, snapshot};

    /// Node info as the EKS AMIs report it (`kubectl get node -o json`).
    fn node(name: &str, group: Option<&str>, os: &str, runtime: &str, system: &str) -> Node {
        let mut labels = BTreeMap::new();
        if let Some(g) = group {
            labels.insert("eks.amazonaws.com/nodegroup".to_string(), g.to_string());
        }
        if name.starts_with("fargate-") {
            labels.insert(
                "eks.amazonaws.com/compute-type".to_string(),
                "fargate".to_string(),
            );
        }
        Node {
            name: name.into(),
            kubelet_version: "v1.34.1-eks-2a8a47a".into(),
            labels,
            os_image: os.into(),
            container_runtime_version: runtime.into(),
            operating_system: system.into(),
        }
    }

    fn fleet() -> Vec<Node> {
        vec![
            node(
                "ip-10-0-1-10.ec2.internal",
                Some("al2"),
                "Amazon Linux 2",
                "containerd://1.7.27",
                "linux",
            ),
            node(
                "ip-10-0-1-11.ec2.internal",
                Some("al2"),
                "Amazon Linux 2",
                "containerd://1.7.27",
                "linux",
            ),
            node(
                "ip-10-0-2-10.ec2.internal",
                Some("al2023"),
                "Amazon Linux 2023.8.20250808",
                "containerd://2.0.5",
                "linux",
            ),
            node(
                "ip-10-0-2-11.ec2.internal",
                Some("al2023-old"),
                "Amazon Linux 2023.6.20241121",
                "containerd://1.7.23",
                "linux",
            ),
            node(
                "ip-10-0-3-10.ec2.internal",
                Some("br"),
                "Bottlerocket OS 1.44.0 (aws-k8s-1.34)",
                "containerd://2.0.6+bottlerocket",
                "linux",
            ),
            node(
                "ip-10-0-4-10.ec2.internal",
                Some("win"),
                "Windows Server 2022 Datacenter",
                "containerd://1.7.20",
                "windows",
            ),
            node(
                "fargate-ip-10-0-5-10.ec2.internal",
                None,
                "Amazon Linux 2",
                "containerd://1.7.27",
                "linux",
            ),
            node(
                "ip-10-0-6-10.ec2.internal",
                None,
                "Amazon Linux 2",
                "containerd://1.7.27",
                "linux",
            ),
        ]
    }

    fn names(f: &[&Finding]) -> Vec<String> {
        f.iter()
            .map(|f| {
                format!(
                    "{} {} {}",
                    f.remediation.as_str(),
                    f.resource_kind,
                    f.resource_name
                )
            })
            .collect()
    }

    #[test]
    fn cgroup_v1_is_amazon_linux_2_not_windows_or_fargate() {
        let mut s = snapshot("1.34");
        s.kubernetes.nodes = fleet();
        let eval = run(&s, "1.35");
        let f = codes_for(&eval.findings, "K8S103");
        assert_eq!(
            names(&f),
            [
                "required NodeGroup al2",
                "required Nodes without a node group label"
            ]
        );
        assert_eq!(f[0].details["nodes"], 2);
        assert!(
            f[0].message.contains("Amazon Linux 2 (cgroup v1)"),
            "{}",
            f[0].message
        );
        assert!(
            codes_for(&run(&s, "1.34").findings, "K8S103").is_empty(),
            "only from 1.35"
        );
    }

    #[test]
    fn containerd_1_recommended_at_135_required_from_136() {
        let mut s = snapshot("1.34");
        s.kubernetes.nodes = fleet();
        let eval = run(&s, "1.35");
        let f = codes_for(&eval.findings, "K8S014");
        assert_eq!(
            names(&f),
            [
                "recommended NodeGroup al2",
                "recommended NodeGroup al2023-old",
                "recommended NodeGroup win",
                "recommended Nodes without a node group label",
            ]
        );
        assert_eq!(f[1].details["runtimes"], json!(["containerd://1.7.23"]));
        s.cluster.version = "1.35".parse().unwrap();
        let eval = run_with(&s, "1.36", &Default::default());
        let f = codes_for(&eval.findings, "K8S014");
        assert!(f.iter().all(|f| f.remediation == Remediation::Required) && f.len() == 4);
    }

    #[test]
    fn containerd_versions_are_parsed_not_matched() {
        assert_eq!(containerd_major("containerd://1.7.27"), Some(1));
        assert_eq!(containerd_major("containerd://2.0.6+bottlerocket"), Some(2));
        assert_eq!(
            containerd_major("containerd://1.6.31+bottlerocket"),
            Some(1)
        );
        assert_eq!(containerd_major("docker://20.10.7"), None);
        assert_eq!(containerd_major("cri-o://1.30.0"), None);
    }
}
