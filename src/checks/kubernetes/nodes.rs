//! K8S001: kubelet version skew, summarised per kubelet version.

use std::collections::BTreeMap;

use serde_json::json;

use crate::checks::{Context, finding, lookup};
use crate::finding::{Finding, Remediation};
use crate::version::KubeVersion;

/// Kubelets may be at most this many minors older than the API server (since 1.28).
const MAX_KUBELET_SKEW: i64 = 3;
/// How many node names a finding lists before it only counts.
const NAMES_SHOWN: usize = 20;

pub fn kubelet_skew(ctx: &Context) -> Vec<Finding> {
    let check = lookup("K8S001").expect("catalogued");
    let mut by_version: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in &ctx.snapshot.kubernetes.nodes {
        by_version
            .entry(node.kubelet_version.as_str())
            .or_default()
            .push(node.name.as_str());
    }
    let mut out = Vec::new();
    for (version, names) in by_version {
        let shown: Vec<&str> = names.iter().copied().take(NAMES_SHOWN).collect();
        let Ok(kubelet) = version.parse::<KubeVersion>() else {
            out.push(finding(
                check,
                Remediation::Recommended,
                ("Node", "", version),
                format!(
                    "{} node(s) report kubelet version `{version}`, which eksup cannot read; check them by hand",
                    names.len()
                ),
                json!({"kubelet_version": version, "nodes": names.len(), "node_names": shown}),
            ));
            continue;
        };
        let skew_now = kubelet.minors_to(ctx.current);
        let skew_after = kubelet.minors_to(ctx.target);
        let level = if skew_now < 0 || skew_after > MAX_KUBELET_SKEW {
            Remediation::Required
        } else if skew_now != 0 {
            Remediation::Recommended
        } else {
            continue;
        };
        let message = if skew_now < 0 {
            format!(
                "{} node(s) run kubelet {kubelet}, newer than the control plane {}; kubelets must never be newer than the API server",
                names.len(),
                ctx.current
            )
        } else if skew_after > MAX_KUBELET_SKEW {
            format!(
                "{} node(s) run kubelet {kubelet}: {skew_after} minors behind {} after the upgrade (at most {MAX_KUBELET_SKEW} are supported); upgrade these nodes first",
                names.len(),
                ctx.target
            )
        } else {
            format!(
                "{} node(s) run kubelet {kubelet}, {skew_now} minor(s) behind the control plane {}; upgrade them to {} to keep skew low",
                names.len(),
                ctx.current,
                ctx.current
            )
        };
        out.push(finding(
            check,
            level,
            ("Node", "", version),
            message,
            json!({
                "kubelet_version": version,
                "nodes": names.len(),
                "node_names": shown,
                "skew_now": skew_now,
                "skew_after_upgrade": skew_after,
            }),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::kubernetes::fixtures::{codes_for, run, snapshot};
    use crate::snapshot::Node;

    fn node(name: &str, version: &str) -> Node {
        Node {
            name: name.into(),
            kubelet_version: version.into(),
            ..Default::default()
        }
    }

    #[test]
    fn summarises_by_version_with_levels_from_skew_after_upgrade() {
        let mut s = snapshot("1.30");
        s.kubernetes.nodes = vec![
            node("a", "v1.30.4-eks-1"),
            node("b", "v1.29.8-eks-1"),
            node("c", "v1.29.8-eks-1"),
            node("d", "v1.27.1-eks-1"),
        ];
        let eval = run(&s, "1.31");
        let f = codes_for(&eval.findings, "K8S001");
        assert_eq!(f.len(), 2, "{f:#?}");
        let old = f
            .iter()
            .find(|f| f.resource_name == "v1.27.1-eks-1")
            .unwrap();
        assert_eq!(
            old.remediation,
            Remediation::Required,
            "1.27 is 4 behind 1.31"
        );
        let mid = f
            .iter()
            .find(|f| f.resource_name == "v1.29.8-eks-1")
            .unwrap();
        assert_eq!(mid.remediation, Remediation::Recommended);
        assert_eq!(mid.details["nodes"], 2);
    }

    #[test]
    fn newer_kubelet_and_unreadable_versions_are_reported() {
        let mut s = snapshot("1.30");
        s.kubernetes.nodes = vec![node("a", "v1.31.0"), node("b", "garbage")];
        let eval = run(&s, "1.31");
        let f = codes_for(&eval.findings, "K8S001");
        assert_eq!(f.len(), 2);
        assert!(
            f.iter()
                .any(|f| f.remediation == Remediation::Required && f.resource_name == "v1.31.0")
        );
        assert!(
            f.iter()
                .any(|f| f.remediation == Remediation::Recommended && f.resource_name == "garbage")
        );
    }

    #[test]
    fn nodes_at_control_plane_version_are_clean() {
        let mut s = snapshot("1.30");
        s.kubernetes.nodes = vec![node("a", "v1.30.4-eks-1")];
        assert!(codes_for(&run(&s, "1.31").findings, "K8S001").is_empty());
    }
}
