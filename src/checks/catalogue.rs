//! The check catalogue: one entry per check, in code order.

use crate::finding::{Category, Finding, Remediation};
use crate::snapshot::{Workload, WorkloadKind, source};
use crate::version::KubeVersion;

use super::{Context, Unmet, aws, compute, eks, kubernetes};

use Covers::{AllWorkloads, MultiReplicaWorkloads, ReplicatedWorkloads, Resources, StatefulSets};
use Remediation::{Recommended, Required};

/// What a check looks at. Workload kinds follow CHECKS.md: **replicated** workloads are
/// Deployments, StatefulSets and unowned ReplicaSets / ReplicationControllers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers {
    ReplicatedWorkloads,
    /// Replicated workloads with more than one replica: with one, spreading and budgets
    /// mean nothing and K8S002 reports it.
    MultiReplicaWorkloads,
    StatefulSets,
    /// Every workload kind, init containers included.
    AllWorkloads,
    /// Not workloads: what the check reads, in words.
    Resources(&'static str),
}

const REPLICATED_SOURCES: &[&str] = &[
    source::DEPLOYMENTS,
    source::STATEFULSETS,
    source::REPLICASETS,
    source::REPLICATIONCONTROLLERS,
];
const ALL_WORKLOAD_SOURCES: &[&str] = &[
    source::DEPLOYMENTS,
    source::STATEFULSETS,
    source::DAEMONSETS,
    source::CRONJOBS,
    source::REPLICASETS,
    source::JOBS,
    source::REPLICATIONCONTROLLERS,
];

impl Covers {
    /// Whether a workload check looks at `w`; `false` for checks that are not about workloads.
    pub fn admits(self, w: &Workload) -> bool {
        match self {
            Self::ReplicatedWorkloads => w.kind.is_replicated(),
            Self::MultiReplicaWorkloads => w.kind.is_replicated() && w.replicas.unwrap_or(0) > 1,
            Self::StatefulSets => w.kind == WorkloadKind::StatefulSet,
            Self::AllWorkloads => true,
            Self::Resources(_) => false,
        }
    }

    /// The lists a workload check reads: when one failed, the check cannot say "nothing found".
    pub fn sources(self) -> &'static [&'static str] {
        match self {
            Self::ReplicatedWorkloads | Self::MultiReplicaWorkloads => REPLICATED_SOURCES,
            Self::StatefulSets => &[source::STATEFULSETS],
            Self::AllWorkloads => ALL_WORKLOAD_SOURCES,
            Self::Resources(_) => &[],
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::ReplicatedWorkloads => "replicated workloads",
            Self::MultiReplicaWorkloads => "replicated workloads with more than 1 replica",
            Self::StatefulSets => "StatefulSets",
            Self::AllWorkloads => "every workload kind, init containers included",
            Self::Resources(what) => what,
        }
    }
}

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
    /// Why the check does not apply to an EKS local cluster on Outposts (`None`: it does).
    pub not_on_local_outposts: Option<&'static str>,
    /// What the check looks at (CHECKS.md's applicability table); for workloads, also which
    /// kinds it reads and so which sources it needs.
    pub covers: Covers,
    /// Data beyond its sources the check needs; returns what was not collected.
    pub collected: Option<fn(&Context) -> Option<String>>,
    /// A condition on the collected data beyond its sources; returns why it is unmet (the
    /// check does not apply, e.g. a component someone else manages).
    pub precondition: Option<fn(&Context) -> Option<Unmet>>,
    pub run: fn(&Context) -> Vec<Finding>,
}

impl Check {
    /// Every source the check reads: its own, then the lists of the workload kinds it covers.
    /// When one of them failed the check is skipped, never reported clean.
    pub fn sources(&self) -> impl Iterator<Item = &'static str> {
        self.needs.iter().chain(self.covers.sources()).copied()
    }
}

const NO_MANAGED_NODES: Option<&str> = Some("local clusters have no managed node groups");
const NO_ADDONS: Option<&str> = Some("local clusters have no EKS addons");
const NO_INSIGHTS: Option<&str> = Some("EKS does not produce insights for local clusters");

static CATALOGUE: &[Check] = &[
    Check {
        code: "AWS001",
        title: "Free IPs in data-plane subnets",
        category: Category::Aws,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[
            source::NODEGROUPS,
            source::FARGATE,
            source::SELF_MANAGED,
            source::SUBNETS,
        ],
        advice: "Free addresses in the node group, Fargate and self-managed subnets of each zone (fewer than 30: required, 100: recommended), or add subnets, so replacement nodes and pods get IPs.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html",
        not_on_local_outposts: None,
        covers: Resources("data-plane subnets"),
        collected: None,
        precondition: None,
        run: aws::data_plane_ips,
    },
    Check {
        code: "AWS002",
        title: "Free IPs for pods with custom networking",
        category: Category::Aws,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::ENICONFIGS, source::SUBNETS],
        advice: "Free addresses in the ENIConfig subnets of each zone (fewer than 16: required, 256: recommended), or add larger pod subnets.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html",
        not_on_local_outposts: None,
        covers: Resources("ENIConfig subnets"),
        collected: None,
        precondition: None,
        run: aws::custom_networking_ips,
    },
    Check {
        code: "AWS003",
        title: "EC2 On-Demand vCPU quota headroom",
        category: Category::Aws,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::QUOTA_EC2_VCPU],
        advice: "Request a higher Running On-Demand Standard instances quota (L-1216C47A): a node rollout runs old and new nodes side by side.",
        doc_url: "https://docs.aws.amazon.com/servicequotas/latest/userguide/request-quota-increase.html",
        not_on_local_outposts: None,
        covers: Resources("EC2 On-Demand vCPU quota"),
        collected: None,
        precondition: None,
        run: aws::ec2_vcpu_quota,
    },
    Check {
        code: "AWS004",
        title: "EBS gp2 storage quota headroom",
        category: Category::Aws,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::QUOTA_EBS_GP2],
        advice: "Request a higher gp2 storage quota (L-D18FCD1D): new nodes bring new root volumes.",
        doc_url: "https://docs.aws.amazon.com/servicequotas/latest/userguide/request-quota-increase.html",
        not_on_local_outposts: None,
        covers: Resources("EBS gp2 quota"),
        collected: None,
        precondition: None,
        run: aws::ebs_gp2_quota,
    },
    Check {
        code: "AWS005",
        title: "EBS gp3 storage quota headroom",
        category: Category::Aws,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::QUOTA_EBS_GP3],
        advice: "Request a higher gp3 storage quota (L-7A658B76): new nodes bring new root volumes.",
        doc_url: "https://docs.aws.amazon.com/servicequotas/latest/userguide/request-quota-increase.html",
        not_on_local_outposts: None,
        covers: Resources("EBS gp3 quota"),
        collected: None,
        precondition: None,
        run: aws::ebs_gp3_quota,
    },
    Check {
        code: "EKS001",
        title: "Free IPs for control-plane ENIs",
        category: Category::Eks,
        levels: &[Required],
        min_target: None,
        needs: &[source::SUBNETS],
        advice: "Make sure at least 2 availability zones of the cluster subnets have 5 or more free IPs each; the control-plane upgrade places new ENIs there.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#network-requirements-subnets",
        not_on_local_outposts: None,
        covers: Resources("cluster subnets"),
        collected: None,
        precondition: None,
        run: eks::control_plane_ips,
    },
    Check {
        code: "EKS002",
        title: "Control-plane health issues",
        category: Category::Eks,
        levels: &[Required],
        min_target: None,
        needs: &[],
        advice: "Resolve the cluster's health issues (IAM role, subnets, security groups, KMS key) before upgrading; EKS refuses or fails upgrades of unhealthy clusters.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/APIReference/API_ClusterIssue.html",
        not_on_local_outposts: None,
        covers: Resources("the cluster"),
        collected: None,
        precondition: None,
        run: eks::cluster_health,
    },
    Check {
        code: "EKS003",
        title: "Managed node group health issues",
        category: Category::Eks,
        levels: &[Required],
        min_target: None,
        needs: &[source::NODEGROUPS],
        advice: "Resolve the node group's health issues before updating it; an update of a degraded node group fails.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/APIReference/API_Issue.html",
        not_on_local_outposts: NO_MANAGED_NODES,
        covers: Resources("managed node groups"),
        collected: None,
        precondition: None,
        run: eks::node_group_health,
    },
    Check {
        code: "EKS004",
        title: "Addon health issues",
        category: Category::Eks,
        levels: &[Required],
        min_target: None,
        needs: &[source::ADDONS],
        advice: "Resolve the addon's health issues before updating it.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/APIReference/API_AddonIssue.html",
        not_on_local_outposts: NO_ADDONS,
        covers: Resources("EKS addons"),
        collected: None,
        precondition: Some(compute::addons_managed),
        run: |ctx| compute::beside_auto_mode(ctx, eks::addon_health(ctx)),
    },
    Check {
        code: "EKS005",
        title: "Addon version compatibility",
        category: Category::Eks,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::ADDONS, source::ADDON_VERSIONS],
        advice: "Update each addon to a version supported on every Kubernetes version of the upgrade path, ideally the target's default.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/updating-an-add-on.html",
        not_on_local_outposts: NO_ADDONS,
        covers: Resources("EKS addons"),
        collected: Some(eks::addon_catalogues_missing),
        precondition: Some(compute::addons_managed),
        run: |ctx| compute::beside_auto_mode(ctx, eks::addon_versions(ctx)),
    },
    Check {
        code: "EKS006",
        title: "Managed node group launch-template drift",
        category: Category::Eks,
        levels: &[Recommended],
        min_target: None,
        needs: &[source::NODEGROUPS, source::LAUNCH_TEMPLATES],
        advice: "Roll the node group to the launch-template version you intend, so the upgrade does not also ship unreviewed template changes.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html",
        not_on_local_outposts: NO_MANAGED_NODES,
        covers: Resources("managed node groups"),
        collected: None,
        precondition: None,
        run: eks::node_group_template_drift,
    },
    Check {
        code: "EKS007",
        title: "Self-managed node group launch-template drift",
        category: Category::Eks,
        levels: &[Recommended],
        min_target: None,
        needs: &[source::SELF_MANAGED, source::LAUNCH_TEMPLATES],
        advice: "Roll the Auto Scaling group to the launch-template version you intend; move groups off launch configurations.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/update-workers.html",
        not_on_local_outposts: None,
        covers: Resources("self-managed node groups"),
        collected: None,
        precondition: None,
        run: eks::self_managed_template_drift,
    },
    Check {
        code: "EKS008",
        title: "Amazon Linux 2 nodes",
        category: Category::Eks,
        levels: &[Required, Recommended],
        min_target: Some(KubeVersion::new(1, 32)),
        needs: &[source::NODEGROUPS, source::NODES],
        advice: "Move node groups, Karpenter NodePools and self-managed nodes from Amazon Linux 2 to AL2023 or Bottlerocket; EKS publishes no AL2 AMIs for Kubernetes 1.33 and later.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/al2023.html",
        // A local cluster has no managed node groups, but its self-managed nodes are read.
        not_on_local_outposts: None,
        covers: Resources("managed node groups by AMI type; every other node by OS image"),
        collected: None,
        precondition: None,
        run: eks::amazon_linux_2,
    },
    Check {
        code: "EKS009",
        title: "EKS upgrade-readiness insights",
        category: Category::Eks,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::INSIGHTS],
        advice: "Follow the insight's recommendation (usually: stop using an API removed in the target version).",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html",
        not_on_local_outposts: NO_INSIGHTS,
        covers: Resources("EKS insights"),
        collected: None,
        precondition: None,
        run: eks::upgrade_insights,
    },
    Check {
        code: "EKS010",
        title: "EKS misconfiguration insights",
        category: Category::Eks,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::INSIGHTS],
        advice: "Follow the insight's recommendation to fix the misconfiguration.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html",
        not_on_local_outposts: NO_INSIGHTS,
        covers: Resources("EKS insights"),
        collected: None,
        precondition: None,
        run: eks::misconfiguration_insights,
    },
    Check {
        code: "EKS101",
        title: "End of support approaching",
        category: Category::Eks,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[],
        advice: "Upgrade before standard support ends: extended support costs extra, and at its end EKS upgrades the cluster itself.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
        not_on_local_outposts: None,
        covers: Resources("the cluster"),
        collected: None,
        precondition: None,
        run: eks::end_of_support,
    },
    Check {
        code: "EKS102",
        title: "EKS Auto Mode node rollout",
        category: Category::Eks,
        levels: &[Required, Recommended],
        min_target: None,
        // The workload lists too: a pod template that opts out of disruption can be in any.
        needs: &[
            source::NODEPOOLS,
            source::DEPLOYMENTS,
            source::STATEFULSETS,
            source::DAEMONSETS,
            source::CRONJOBS,
            source::REPLICASETS,
            source::JOBS,
            source::REPLICATIONCONTROLLERS,
        ],
        advice: "Auto Mode replaces its nodes after the control plane upgrade, honouring PodDisruptionBudgets and NodePool disruption budgets: give every NodePool a budget that lets nodes go (at least in a scheduled window), and take karpenter.sh/do-not-disrupt off the pods for the upgrade.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/auto-upgrade.html",
        not_on_local_outposts: Some("local clusters do not run EKS Auto Mode"),
        covers: Resources("Auto Mode NodePools; pod templates of every workload kind"),
        collected: None,
        precondition: None,
        run: compute::auto_mode_checks,
    },
    Check {
        code: "EKS103",
        title: "Self-managed Karpenter",
        category: Category::Eks,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[
            source::DEPLOYMENTS,
            source::NODEPOOLS,
            source::EC2NODECLASSES,
        ],
        advice: "Upgrade Karpenter to a release that supports every Kubernetes version on the path before upgrading the control plane; pin EC2NodeClass AMI aliases so nodes roll when you choose.",
        doc_url: "https://karpenter.sh/docs/upgrading/compatibility/",
        not_on_local_outposts: None,
        covers: Resources("the Karpenter controller, NodePools and EC2NodeClasses"),
        collected: None,
        precondition: Some(|ctx| compute::karpenter_managed(ctx).map(Unmet::Check)),
        run: compute::karpenter_checks,
    },
    Check {
        code: "EKS104",
        title: "EKS Hybrid Nodes behind the control plane",
        category: Category::Eks,
        levels: &[Recommended],
        min_target: None,
        needs: &[source::NODES],
        advice: "EKS does not upgrade hybrid nodes: after the control plane, drain each one and run `nodeadm upgrade` to the new version.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/hybrid-nodes-upgrade.html",
        not_on_local_outposts: Some("local clusters do not take EKS Hybrid Nodes"),
        covers: Resources("hybrid nodes (compute-type hybrid)"),
        collected: None,
        precondition: None,
        run: compute::hybrid_nodes,
    },
    Check {
        code: "EKS105",
        title: "Cluster not ready to start an upgrade",
        category: Category::Eks,
        levels: &[Required],
        min_target: None,
        needs: &[source::UPDATES],
        advice: "Wait for the cluster to be ACTIVE and for the update in progress to finish (`aws eks describe-update`), then upgrade.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html",
        not_on_local_outposts: None,
        covers: Resources("the cluster's status and its updates (ListUpdates)"),
        collected: Some(eks::updates_missing),
        precondition: None,
        run: eks::not_ready_to_upgrade,
    },
    Check {
        code: "EKS106",
        title: "Cluster certificate authority rotation",
        category: Category::Eks,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::CERTIFICATE_AUTHORITIES],
        advice: "EKS is rotating the cluster's certificate authority and activates the successor itself on its scheduled dates; it distributes it to the control plane, Auto Mode and Fargate nodes only. Before then, add the successor (`aws eks describe-certificate-authority`) wherever the CA is held by value: kubeconfigs, CI systems, GitOps agents (Argo CD, Flux) that store the cluster's CA, and the bootstrap of self-managed and hybrid nodes.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/certificate-authority-rotation.html",
        not_on_local_outposts: None,
        covers: Resources("the cluster's certificate authorities"),
        collected: Some(eks::certificate_authorities_missing),
        precondition: None,
        run: eks::certificate_authority_rotation,
    },
    Check {
        code: "K8S001",
        title: "Kubelet version skew",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[source::NODES],
        advice: "Upgrade or replace nodes so that no kubelet is more than 3 minors behind the control plane after the upgrade; align node versions with the control plane before each hop.",
        not_on_local_outposts: None,
        covers: Resources("nodes"),
        collected: None,
        precondition: None,
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
        not_on_local_outposts: None,
        covers: ReplicatedWorkloads,
        collected: None,
        precondition: None,
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
        not_on_local_outposts: None,
        covers: ReplicatedWorkloads,
        collected: None,
        precondition: None,
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
        not_on_local_outposts: None,
        covers: MultiReplicaWorkloads,
        collected: None,
        precondition: None,
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
        not_on_local_outposts: None,
        covers: MultiReplicaWorkloads,
        collected: None,
        precondition: None,
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
        not_on_local_outposts: None,
        covers: ReplicatedWorkloads,
        collected: None,
        precondition: None,
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
        not_on_local_outposts: None,
        covers: StatefulSets,
        collected: None,
        precondition: None,
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
        not_on_local_outposts: None,
        covers: AllWorkloads,
        collected: None,
        precondition: None,
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
        not_on_local_outposts: None,
        covers: Resources("the kube-proxy DaemonSet"),
        collected: None,
        precondition: Some(compute::kube_proxy_managed),
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/managing-kube-proxy.html",
        run: |ctx| compute::beside_auto_mode(ctx, kubernetes::kube_proxy::version_skew(ctx)),
    },
    Check {
        code: "K8S012",
        title: "kube-proxy in IPVS mode",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: Some(KubeVersion::new(1, 35)),
        needs: &[source::DAEMONSETS, source::KUBE_PROXY_CONFIG],
        advice: "Move kube-proxy from IPVS to nftables (or iptables) mode: IPVS mode is deprecated from Kubernetes 1.35 (KEP-5495); each finding names what the project has announced for later releases (data/behaviour-changes.csv), and becomes required once a removal release is recorded there.",
        not_on_local_outposts: None,
        covers: Resources("the kube-proxy configuration"),
        collected: None,
        precondition: Some(compute::kube_proxy_managed),
        doc_url: "https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-ipvs",
        run: |ctx| compute::beside_auto_mode(ctx, kubernetes::kube_proxy::ipvs_mode(ctx)),
    },
    Check {
        code: "K8S013",
        title: "Retired community ingress-nginx controller",
        category: Category::Kubernetes,
        levels: &[Recommended],
        min_target: Some(KubeVersion::new(1, 35)),
        needs: &[],
        advice: "The community ingress-nginx project is retired and receives no fixes; migrate to a maintained Ingress controller or the Gateway API.",
        not_on_local_outposts: None,
        covers: AllWorkloads,
        collected: None,
        precondition: None,
        doc_url: "https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/",
        run: kubernetes::ingress::retired_ingress_nginx,
    },
    Check {
        code: "K8S014",
        title: "Nodes on containerd 1.x",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: Some(KubeVersion::new(1, 35)),
        needs: &[source::NODES],
        advice: "Move nodes to an AMI with containerd 2.x (current AL2023, Bottlerocket and Windows EKS AMIs) before upgrading past 1.35, the last Kubernetes release that supports containerd 1.x.",
        doc_url: "https://containerd.io/releases/#kubernetes-support",
        not_on_local_outposts: None,
        covers: Resources("nodes by container runtime (not Fargate)"),
        collected: None,
        precondition: None,
        run: kubernetes::node_os::containerd_1,
    },
    Check {
        code: "K8S015",
        title: "gitRepo volume in a pod template",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[],
        advice: "Replace gitRepo volumes with an init container that clones the repository into an emptyDir (or a git-sync sidecar); the kubelet refuses gitRepo volumes from Kubernetes 1.36.",
        doc_url: "https://kubernetes.io/docs/concepts/storage/volumes/#gitrepo",
        not_on_local_outposts: None,
        covers: AllWorkloads,
        collected: None,
        precondition: None,
        run: kubernetes::git_repo::git_repo_volumes,
    },
    Check {
        code: "K8S016",
        title: "Service with externalIPs",
        category: Category::Kubernetes,
        levels: &[Recommended],
        min_target: Some(KubeVersion::new(1, 36)),
        needs: &[source::SERVICES],
        advice: "Move each Service off spec.externalIPs (deprecated from Kubernetes 1.36; kube-proxy is to stop implementing it): expose it as type LoadBalancer through the AWS Load Balancer Controller, or through Gateway API, and keep new ones out with a ValidatingAdmissionPolicy (EKS does not let you enable the DenyServiceExternalIPs plugin).",
        doc_url: "https://kubernetes.io/blog/2026/05/14/kubernetes-v1-36-deprecation-and-removal-of-service-externalips/",
        not_on_local_outposts: None,
        covers: Resources("Services (listed when a hop reaches 1.36)"),
        collected: Some(kubernetes::external_ips::services_not_listed),
        precondition: None,
        run: kubernetes::external_ips::external_ips,
    },
    Check {
        code: "K8S101",
        title: "PodDisruptionBudget allows no disruption",
        category: Category::Kubernetes,
        levels: &[Required],
        min_target: None,
        needs: &[source::PDBS],
        advice: "Let the budget allow at least one eviction (maxUnavailable ≥ 1, or minAvailable below the replicas) and run enough replicas; otherwise node drains hang and a managed node group update fails with PodEvictionFailure after 15 minutes.",
        doc_url: "https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html",
        not_on_local_outposts: None,
        covers: ReplicatedWorkloads,
        collected: None,
        precondition: None,
        run: kubernetes::disruption::blocking_budgets,
    },
    Check {
        code: "K8S102",
        title: "Workload under more than one PodDisruptionBudget",
        category: Category::Kubernetes,
        levels: &[Required],
        min_target: None,
        needs: &[source::PDBS],
        advice: "Keep exactly one PodDisruptionBudget per workload: the Eviction API refuses to evict a pod that several budgets select, so its node cannot drain.",
        doc_url: "https://kubernetes.io/docs/tasks/run-application/configure-pdb/#arbitrary-controllers-and-selectors",
        not_on_local_outposts: None,
        covers: ReplicatedWorkloads,
        collected: None,
        precondition: None,
        run: kubernetes::disruption::overlapping_budgets,
    },
    Check {
        code: "K8S103",
        title: "Nodes on cgroup v1",
        category: Category::Kubernetes,
        levels: &[Required],
        min_target: Some(KubeVersion::new(1, 35)),
        needs: &[source::NODES],
        advice: "Replace Amazon Linux 2 nodes (cgroup v1) with AL2023 or Bottlerocket (cgroup v2) before the upgrade: from Kubernetes 1.35 the kubelet does not start on cgroup v1.",
        doc_url: "https://kubernetes.io/docs/concepts/architecture/cgroups/",
        not_on_local_outposts: None,
        covers: Resources("Linux nodes by OS image (not Fargate)"),
        collected: None,
        precondition: None,
        run: kubernetes::node_os::cgroup_v1,
    },
    Check {
        code: "K8S104",
        title: "Deprecated APIs still called",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[],
        advice: "Move each caller (by its user agent) to the replacement API version before the release that removes the old one; re-run eksup to confirm the calls stopped.",
        doc_url: "https://kubernetes.io/docs/reference/using-api/deprecation-guide/",
        not_on_local_outposts: None,
        covers: Resources("deprecated API requests (EKS insights, the API server's /metrics)"),
        collected: Some(kubernetes::deprecated_apis::no_evidence),
        precondition: None,
        run: kubernetes::deprecated_apis::still_called,
    },
    Check {
        code: "K8S105",
        title: "CRD storing a version it no longer serves",
        category: Category::Kubernetes,
        levels: &[Recommended],
        min_target: None,
        needs: &[source::CRDS],
        advice: "Migrate the stored objects to a served version and trim status.storedVersions, so the old version can be removed from the CRD.",
        doc_url: "https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definition-versioning/#upgrade-existing-objects-to-a-new-stored-version",
        not_on_local_outposts: None,
        covers: Resources("CustomResourceDefinitions (when enabled)"),
        collected: None,
        precondition: Some(|ctx| kubernetes::crds::not_listed(ctx).map(Unmet::Check)),
        run: kubernetes::crds::unserved_stored_versions,
    },
    Check {
        code: "K8S106",
        title: "API extensions that cannot answer",
        category: Category::Kubernetes,
        levels: &[Required, Recommended],
        min_target: None,
        needs: &[
            source::VALIDATING_WEBHOOKS,
            source::MUTATING_WEBHOOKS,
            source::API_SERVICES,
        ],
        advice: "Before the upgrade, scale each webhook's backend to ready replicas on more than one node (or set failurePolicy: Ignore for the upgrade window), delete configurations whose Service is gone, and bring unavailable APIServices (metrics-server first) back: drained pods are re-created through the admission chain.",
        doc_url: "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/",
        not_on_local_outposts: None,
        covers: Resources(
            "admission webhooks, APIServices and (when the CRD list is read) CRD conversion webhooks, by the ready endpoints of their Services",
        ),
        collected: None,
        precondition: Some(|ctx| kubernetes::extensions::not_read(ctx).map(Unmet::Check)),
        run: kubernetes::extensions::unanswerable,
    },
];

/// Every check, in code order.
pub fn catalogue() -> &'static [Check] {
    CATALOGUE
}

/// The codes this project used before its checks were numbered as the public eksup tool
/// numbers them (CHECKS.md "Numbering"), with their new numbers. Only codes that no longer
/// exist are listed: K8S014–K8S016 exist again with upstream's meaning.
const RENUMBERED: &[(&str, &str)] = &[
    ("EKS011", "EKS101"),
    ("EKS012", "EKS102"),
    ("EKS013", "EKS103"),
    ("EKS014", "EKS104"),
    ("K8S017", "K8S103"),
    ("K8S018", "K8S014"),
    ("K8S019", "K8S104"),
    ("K8S020", "K8S105"),
];

/// The new code of a retired old `code` (case-insensitive), so a configuration that still
/// names it is told what to write instead.
pub fn renumbered(code: &str) -> Option<&'static str> {
    RENUMBERED
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(code))
        .map(|(_, new)| *new)
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

    /// CHECKS.md's applicability table, as the catalogue states it.
    #[test]
    fn workload_kinds_follow_the_applicability_table() {
        let covers = |code| lookup(code).unwrap().covers;
        for code in ["K8S002", "K8S003", "K8S006", "K8S101", "K8S102"] {
            assert_eq!(covers(code), ReplicatedWorkloads, "{code}");
        }
        for code in ["K8S004", "K8S005"] {
            assert_eq!(covers(code), MultiReplicaWorkloads, "{code}");
        }
        assert_eq!(covers("K8S007"), StatefulSets);
        for code in ["K8S008", "K8S013", "K8S015"] {
            assert_eq!(covers(code), AllWorkloads, "{code}");
        }
        let w = |kind, replicas| {
            let mut w = crate::checks::kubernetes::fixtures::workload(kind, "ns", "w");
            w.replicas = replicas;
            w
        };
        let single = w(WorkloadKind::Deployment, Some(1));
        assert!(ReplicatedWorkloads.admits(&single) && !MultiReplicaWorkloads.admits(&single));
        let ds = w(WorkloadKind::DaemonSet, None);
        assert!(!ReplicatedWorkloads.admits(&ds) && AllWorkloads.admits(&ds));
        assert!(ReplicatedWorkloads.admits(&w(WorkloadKind::ReplicationController, Some(2))));
        assert!(!ReplicatedWorkloads.admits(&w(WorkloadKind::Job, None)));
        // A workload check needs the lists of the kinds it covers.
        assert!(AllWorkloads.sources().contains(&source::JOBS));
        assert!(!ReplicatedWorkloads.sources().contains(&source::DAEMONSETS));
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup("k8s002").map(|c| c.code), Some("K8S002"));
        assert!(lookup("K8S009").is_none(), "K8S009 is retired");
    }

    #[test]
    fn every_renumbered_code_is_gone_and_points_at_a_check() {
        for (old, new) in RENUMBERED {
            assert!(
                lookup(old).is_none(),
                "{old} must not mean a check any more"
            );
            assert!(
                lookup(new).is_some(),
                "{old} points at {new}, which is no check"
            );
        }
        assert_eq!(renumbered("eks011"), Some("EKS101"));
        assert_eq!(renumbered("K8S014"), None, "K8S014 is a check again");
    }
}
