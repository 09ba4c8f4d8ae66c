//! The check catalogue: one entry per check, in code order.

use crate::finding::{Category, Finding, Remediation};
use crate::snapshot::source;
use crate::version::KubeVersion;

use super::{Context, kubernetes};

use Remediation::{Recommended, Required};

/// One upgrade-readiness check.
pub struct Check {
    /// Stable code, numbered as in the public eksup tool so dashboards stay comparable.
    pub code: &'static str,
    pub title: &'static str,
    pub category: Category,
    /// The remediation levels this check can report.
    pub levels: &'static [Remediation],
    /// The check applies only when the target is at least this version.
    pub min_target: Option<KubeVersion>,
    /// Sources the check needs; when one failed the check is skipped, not silently clean.
    pub needs: &'static [&'static str],
    /// What to do about a finding, in one or two sentences.
    pub advice: &'static str,
    /// Where to read more.
    pub doc_url: &'static str,
    pub run: fn(&Context) -> Vec<Finding>,
}

static CATALOGUE: &[Check] = &[
    Check {
        code: "K8S001",
        title: "Kubelet version skew",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::NODES],
        advice: "Upgrade or replace nodes so that no kubelet is more than 3 minors behind the control plane after the upgrade; align node versions with the control plane before each hop.",
        doc_url: "https://kubernetes.io/releases/version-skew-policy/#kubelet",
        run: kubernetes::nodes::kubelet_skew,
    },
    Check {
        code: "K8S002",
        title: "Too few replicas",
        category: Category::Kubernetes,
        levels: &[Required],
        min_target: None,
        needs: &[source::HPAS],
        advice: "Run at least the configured minimum of replicas (default 2), or raise the HorizontalPodAutoscaler's minReplicas, so a node drain never takes the whole workload down.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/best-practices/application.html",
        run: kubernetes::workloads::too_few_replicas,
    },
    Check {
        code: "K8S003",
        title: "minReadySeconds unset or 0",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[],
        advice: "Set spec.minReadySeconds so a new pod must stay ready for a while before the rollout or drain moves on.",
        doc_url: "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#min-ready-seconds",
        run: kubernetes::workloads::min_ready_seconds,
    },
    Check {
        code: "K8S004",
        title: "No PodDisruptionBudget",
        category: Category::Kubernetes,
        levels: &[Recommended],
        min_target: None,
        needs: &[source::PDBS],
        advice: "Add a PodDisruptionBudget selecting the workload's pods with minAvailable or maxUnavailable set, so node drains keep enough replicas running.",
        doc_url: "https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
        run: kubernetes::workloads::pod_disruption_budget,
    },
    Check {
        code: "K8S005",
        title: "No pod anti-affinity or topology spread constraints",
        category: Category::Kubernetes,
        levels: &[Required],
        min_target: None,
        needs: &[],
        advice: "Spread replicas across nodes and zones with topologySpreadConstraints or podAntiAffinity; node affinity alone does not spread pods.",
        doc_url: "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/",
        run: kubernetes::workloads::spread,
    },
    Check {
        code: "K8S006",
        title: "Container without a readinessProbe",
        category: Category::Kubernetes,
        levels: &[Required],
        min_target: None,
        needs: &[],
        advice: "Give every container a readinessProbe so traffic only reaches pods that can serve it while nodes are replaced.",
        doc_url: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
        run: kubernetes::workloads::readiness_probes,
    },
    Check {
        code: "K8S007",
        title: "StatefulSet with terminationGracePeriodSeconds 0",
        category: Category::Kubernetes,
        levels: &[Required],
        min_target: None,
        needs: &[],
        advice: "Give StatefulSet pods a termination grace period so they can shut down cleanly when their node is drained.",
        doc_url: "https://kubernetes.io/docs/tasks/run-application/force-delete-stateful-set-pod/",
        run: kubernetes::workloads::termination_grace_period,
    },
    Check {
        code: "K8S008",
        title: "Mounts the Docker socket",
        category: Category::Kubernetes,
        levels: &[Required],
        min_target: None,
        needs: &[],
        advice: "Remove docker.sock / dockershim.sock mounts: EKS nodes run containerd and the Docker socket does not exist; use the containerd socket or the Kubernetes API instead.",
        doc_url: "https://kubernetes.io/docs/tasks/administer-cluster/migrating-from-dockershim/find-out-runtime-you-use/",
        run: kubernetes::workloads::docker_socket,
    },
    Check {
        code: "K8S011",
        title: "kube-proxy version skew",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::DAEMONSETS],
        advice: "Update kube-proxy (the EKS kube-proxy addon) to the control plane's version; it must never be newer than the control plane nor more than 3 minors older.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/managing-kube-proxy.html",
        run: kubernetes::kube_proxy::version_skew,
    },
    Check {
        code: "K8S012",
        title: "kube-proxy in IPVS mode",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: Some(KubeVersion::new(1, 35)),
        needs: &[source::DAEMONSETS, source::KUBE_PROXY_CONFIG],
        advice: "Move kube-proxy from IPVS to iptables or nftables mode: IPVS mode is deprecated from Kubernetes 1.35 and removed later.",
        doc_url: "https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-ipvs",
        run: kubernetes::kube_proxy::ipvs_mode,
    },
    Check {
        code: "K8S013",
        title: "Retired community ingress-nginx controller",
        category: Category::Kubernetes,
        levels: &[Recommended],
        min_target: Some(KubeVersion::new(1, 35)),
        needs: &[],
        advice: "The community ingress-nginx project is retired and receives no fixes; migrate to a maintained Ingress controller or the Gateway API.",
        doc_url: "https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/",
        run: kubernetes::ingress::retired_ingress_nginx,
    },
];

/// Every check, in code order.
pub fn catalogue() -> &'static [Check] {
    CATALOGUE
}

/// The check with `code` (case-insensitive).
pub fn lookup(code: &str) -> Option<&'static Check> {
    CATALOGUE.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_ordered() {
        let codes: Vec<&str> = catalogue().iter().map(|c| c.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup("k8s002").map(|c| c.code), Some("K8S002"));
        assert!(lookup("K8S009").is_none(), "K8S009 is retired");
    }
}
