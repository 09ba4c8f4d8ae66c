//! The snapshot: everything the checks read about one cluster, as plain owned data.
//!
//! Collection fills it, checks read it, and it round-trips through JSON so that a run can
//! be saved (`--save-snapshot`) and analyzed later (`--snapshot`) with no network. Only the
//! fields a check needs are kept; no SDK or Kubernetes API type leaks in here.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::version::KubeVersion;

/// Bumped when a field is renamed or its meaning changes; adding an optional field is not a
/// schema change because every collection has `#[serde(default)]`.
pub const SCHEMA_VERSION: u32 = 1;

/// Names of the sources a snapshot is assembled from. A failed source is recorded under its
/// name in [`Snapshot::collection_errors`], and checks that depend on it are skipped.
pub mod source {
    pub const EKS_CLUSTER: &str = "eks/DescribeCluster";
    pub const NODES: &str = "kubernetes/nodes";
    pub const DEPLOYMENTS: &str = "kubernetes/deployments";
    pub const STATEFULSETS: &str = "kubernetes/statefulsets";
    pub const DAEMONSETS: &str = "kubernetes/daemonsets";
    pub const CRONJOBS: &str = "kubernetes/cronjobs";
    pub const REPLICASETS: &str = "kubernetes/replicasets";
    pub const JOBS: &str = "kubernetes/jobs";
    pub const REPLICATIONCONTROLLERS: &str = "kubernetes/replicationcontrollers";
    pub const PDBS: &str = "kubernetes/poddisruptionbudgets";
    pub const HPAS: &str = "kubernetes/horizontalpodautoscalers";
    pub const KUBE_PROXY_CONFIG: &str = "kubernetes/configmaps/kube-system/kube-proxy-config";
    pub const ENICONFIGS: &str = "kubernetes/eniconfigs";
    pub const NODEGROUPS: &str = "eks/nodegroups";
    pub const FARGATE: &str = "eks/fargate-profiles";
    pub const ADDONS: &str = "eks/addons";
    pub const ADDON_VERSIONS: &str = "eks/DescribeAddonVersions";
    pub const INSIGHTS: &str = "eks/insights";
    pub const CLUSTER_VERSIONS: &str = "eks/DescribeClusterVersions";
    pub const SELF_MANAGED: &str = "autoscaling/DescribeAutoScalingGroups";
    pub const SUBNETS: &str = "ec2/DescribeSubnets";
    pub const LAUNCH_TEMPLATES: &str = "ec2/DescribeLaunchTemplates";
    /// Service quotas, each read with its usage.
    pub const QUOTA_EC2_VCPU: &str = "servicequotas/L-1216C47A";
    pub const QUOTA_EBS_GP2: &str = "servicequotas/L-D18FCD1D";
    pub const QUOTA_EBS_GP3: &str = "servicequotas/L-7A658B76";
    /// Karpenter `karpenter.sh/v1` NodePools (self-managed Karpenter and EKS Auto Mode).
    pub const NODEPOOLS: &str = "kubernetes/nodepools";
    /// Karpenter `karpenter.k8s.aws/v1` EC2NodeClasses.
    pub const EC2NODECLASSES: &str = "kubernetes/ec2nodeclasses";
    /// The API server's `/metrics` (deprecated APIs requested since it started).
    pub const API_METRICS: &str = "kubernetes/metrics";
    pub const CRDS: &str = "kubernetes/customresourcedefinitions";
    /// Services, listed only when a hop reaches the release that deprecates `externalIPs`.
    pub const SERVICES: &str = "kubernetes/services";
    /// The cluster's certificate authorities (list, then describe during a rotation).
    pub const CERTIFICATE_AUTHORITIES: &str = "eks/certificate-authorities";
    /// The cluster's update history (`ListUpdates` + `DescribeUpdate`).
    pub const UPDATES: &str = "eks/updates";
    /// K8S106's cluster-scoped lists of API extensions.
    pub const VALIDATING_WEBHOOKS: &str = "kubernetes/validatingwebhookconfigurations";
    pub const MUTATING_WEBHOOKS: &str = "kubernetes/mutatingwebhookconfigurations";
    pub const API_SERVICES: &str = "kubernetes/apiservices";
    /// The Services (and their EndpointSlices) that the webhooks name, read one by one; a
    /// failure skips only the webhooks behind that Service.
    pub const EXTENSION_SERVICES: &str = "kubernetes/webhook-services";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub schema_version: u32,
    pub collected_at: DateTime<Utc>,
    pub cluster: ClusterInfo,
    #[serde(default)]
    pub kubernetes: KubernetesData,
    /// What the AWS APIs said; `None` with `--no-aws`.
    #[serde(default)]
    pub aws: Option<AwsData>,
    /// Sources that could not be read; the rest of the snapshot is still valid.
    #[serde(default)]
    pub collection_errors: Vec<CollectionError>,
}

/// Where the cluster's identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterSource {
    /// Described by the EKS API.
    Eks,
    /// Kubernetes API only (`--no-aws`): EKS Anywhere or another distribution.
    KubernetesOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterInfo {
    pub name: String,
    pub source: ClusterSource,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub arn: Option<String>,
    /// The control plane's minor version.
    pub version: KubeVersion,
    #[serde(default)]
    pub platform_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubernetesData {
    /// `gitVersion` from the API server's `/version`.
    pub server_version: Option<String>,
    pub nodes: Vec<Node>,
    /// Deployments, StatefulSets, DaemonSets, CronJobs, and the ReplicaSets, Jobs and
    /// ReplicationControllers that no controller owns.
    pub workloads: Vec<Workload>,
    pub pod_disruption_budgets: Vec<PodDisruptionBudget>,
    pub autoscalers: Vec<Autoscaler>,
    /// The `kube-system/kube-proxy` DaemonSet, when present.
    pub kube_proxy: Option<KubeProxy>,
    pub eni_configs: Vec<EniConfig>,
    /// Karpenter NodePools, of self-managed Karpenter and of EKS Auto Mode alike.
    pub node_pools: Vec<NodePool>,
    pub ec2_node_classes: Vec<Ec2NodeClass>,
    /// `apiserver_requested_deprecated_apis` from `/metrics`; `None` when not read.
    pub deprecated_api_requests: Option<Vec<DeprecatedApiRequest>>,
    /// CustomResourceDefinitions: served and stored versions only. `None` when not listed:
    /// the list is off unless `checks.K8S105.enabled` (it carries every CRD's schema).
    pub crds: Option<Vec<CustomResourceDefinition>>,
    /// The Services that set `spec.externalIPs` (K8S016). `None` when Services were not
    /// listed: only a run whose upgrade path reaches 1.36 lists them.
    pub services_with_external_ips: Option<Vec<ExternalIpService>>,
    /// Admission webhooks, APIServices and the backends of the Services they name (K8S106).
    /// `None` in a snapshot saved before eksup read them.
    pub api_extensions: Option<ApiExtensions>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub name: String,
    /// `status.nodeInfo.kubeletVersion`, e.g. `v1.30.4-eks-a737599`.
    pub kubelet_version: String,
    /// The few labels eksup reads (node group, compute type, zone).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `status.nodeInfo.osImage`, e.g. `Amazon Linux 2`, `Bottlerocket OS 1.26.2 (aws-k8s-1.31)`.
    #[serde(default)]
    pub os_image: String,
    /// `status.nodeInfo.containerRuntimeVersion`, e.g. `containerd://1.7.22`.
    #[serde(default)]
    pub container_runtime_version: String,
    /// `status.nodeInfo.operatingSystem`: `linux` or `windows`.
    #[serde(default)]
    pub operating_system: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    ReplicaSet,
    Job,
    ReplicationController,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployment => "Deployment",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
            Self::CronJob => "CronJob",
            Self::ReplicaSet => "ReplicaSet",
            Self::Job => "Job",
            Self::ReplicationController => "ReplicationController",
        }
    }

    /// Long-running, replicated workloads: the ones whose availability an upgrade affects
    /// through replica counts, disruption budgets and spreading.
    pub fn is_replicated(self) -> bool {
        matches!(
            self,
            Self::Deployment | Self::StatefulSet | Self::ReplicaSet | Self::ReplicationController
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    /// Desired replicas; `None` for kinds without a replica count.
    #[serde(default)]
    pub replicas: Option<i32>,
    #[serde(default)]
    pub min_ready_seconds: Option<i32>,
    pub pod: PodTemplate,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PodTemplate {
    pub labels: BTreeMap<String, String>,
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    /// `hostPath` volumes: name → path on the node.
    pub host_path_volumes: BTreeMap<String, String>,
    pub has_pod_anti_affinity: bool,
    pub topology_spread_constraints: usize,
    pub termination_grace_period_seconds: Option<i64>,
    /// The template carries `karpenter.sh/do-not-disrupt: "true"`.
    pub do_not_disrupt: bool,
    /// Names of `gitRepo` volumes (deprecated; the kubelet refuses them from 1.36).
    pub git_repo_volumes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub has_readiness_probe: bool,
    /// An init container with `restartPolicy: Always` (a native sidecar) runs for the pod's
    /// whole life and takes a readiness probe like a regular container.
    pub is_sidecar: bool,
    /// Volume mounts: mount path → volume name.
    pub mounts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodDisruptionBudget {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    #[serde(default)]
    pub min_available: Option<String>,
    #[serde(default)]
    pub max_unavailable: Option<String>,
    /// What the disruption controller last computed; `None` when the object had no status.
    #[serde(default)]
    pub status: Option<PdbStatus>,
}

/// `status` of a PodDisruptionBudget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PdbStatus {
    pub disruptions_allowed: i32,
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub expected_pods: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscaler {
    pub namespace: String,
    pub name: String,
    pub target_kind: String,
    pub target_name: String,
    /// `spec.minReplicas`; Kubernetes defaults it to 1.
    #[serde(default)]
    pub min_replicas: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeProxy {
    /// Images of the DaemonSet's containers.
    pub images: Vec<String>,
    /// `mode` from the `kube-system/kube-proxy-config` ConfigMap (`iptables`, `ipvs`, …);
    /// `None` when the ConfigMap is absent or sets no mode.
    #[serde(default)]
    pub mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EniConfig {
    pub name: String,
    #[serde(default)]
    pub subnet: Option<String>,
}

/// What eksup reads from EKS, EC2, Auto Scaling and Service Quotas.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsData {
    /// Subnets of the cluster's VPC configuration (where control-plane ENIs go).
    pub cluster_subnet_ids: Vec<String>,
    pub health_issues: Vec<HealthIssue>,
    /// `upgradePolicy.supportType`: `STANDARD` or `EXTENDED`.
    pub support_type: Option<String>,
    /// Set for an EKS local cluster on AWS Outposts (control plane on the Outpost).
    pub outpost: Option<OutpostConfig>,
    pub node_groups: Vec<NodeGroup>,
    pub fargate_profiles: Vec<FargateProfile>,
    /// Auto Scaling groups tagged for the cluster that no managed node group owns.
    pub self_managed_groups: Vec<AutoScalingGroup>,
    pub addons: Vec<Addon>,
    /// Addon versions EKS offers, one catalogue per Kubernetes version of the upgrade path.
    pub addon_versions: Vec<AddonCatalog>,
    pub insights: Vec<Insight>,
    pub quotas: Vec<Quota>,
    pub subnets: Vec<Subnet>,
    pub launch_templates: Vec<LaunchTemplate>,
    /// Ids of launch templates a node group names that EC2 no longer knows (deleted).
    pub deleted_launch_templates: Vec<String>,
    /// The support calendar from `DescribeClusterVersions`; empty when it was unavailable.
    pub cluster_versions: Vec<crate::version::SupportWindow>,
    /// `computeConfig` when EKS Auto Mode is enabled.
    pub auto_mode: Option<AutoMode>,
    /// `remoteNetworkConfig` when the cluster accepts EKS Hybrid Nodes.
    pub remote_network: Option<RemoteNetwork>,
    /// The cluster's certificate authorities; `None` when they were not read (a failed
    /// source, or a snapshot from before EKS106).
    pub certificate_authorities: Option<Vec<CertificateAuthority>>,
    /// `DescribeCluster.status` (`ACTIVE`, `UPDATING`, …); `None` in older snapshots.
    pub cluster_status: Option<String>,
    /// The cluster's own updates; `None` when not read (older snapshots, or the source failed).
    pub updates: Option<UpdateHistory>,
}

/// One of the cluster's certificate authorities (`ListCertificateAuthorities`; the validity
/// and schedule come from `DescribeCertificateAuthority`, read only during a rotation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CertificateAuthority {
    pub id: String,
    /// `IN_USE` (signing), `ACTIVATING` or `NOT_USED` (a successor, or a retired CA).
    pub signing_status: String,
    /// `IN_PROGRESS`, `COMPLETE`, `FAILED` or `DELETING`: EKS's distribution of its trust
    /// to the components it manages (control plane, Auto Mode and Fargate nodes).
    pub distribution_status: Option<String>,
    /// `EKS` or `CUSTOMER`.
    pub created_by: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub activated_at: Option<DateTime<Utc>>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    /// `scheduledEvents`: EKS may activate the CA itself from the first and will by the final.
    pub first_auto_activation: Option<DateTime<Utc>>,
    pub final_auto_activation: Option<DateTime<Utc>>,
}

/// The cluster-level updates EKS lists (`ListUpdates` without a node group or addon).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateHistory {
    /// Described updates, newest first.
    pub updates: Vec<ClusterUpdate>,
    /// More ids were listed than eksup describes: an older update may be missing.
    pub truncated: bool,
}

/// One `DescribeUpdate` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterUpdate {
    pub id: String,
    /// `VersionUpdate`, `VersionRollback`, `VpcConfigUpdate`, … (an open string).
    pub update_type: String,
    /// `InProgress`, `Failed`, `Cancelled` or `Successful`.
    pub status: String,
    pub created_at: Option<DateTime<Utc>>,
    /// The `Version` parameter of a version update or rollback: the version it goes to.
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthIssue {
    pub code: String,
    pub message: String,
    pub resource_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutpostConfig {
    pub outpost_arns: Vec<String>,
    pub control_plane_instance_type: String,
    pub control_plane_placement_group: Option<String>,
}

/// A launch template as a node group or Auto Scaling group refers to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplateRef {
    pub id: Option<String>,
    pub name: Option<String>,
    /// As configured: a number, `$Latest` or `$Default`.
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeGroup {
    pub name: String,
    pub status: String,
    pub version: Option<String>,
    pub release_version: Option<String>,
    pub ami_type: Option<String>,
    pub capacity_type: Option<String>,
    pub subnets: Vec<String>,
    pub launch_template: Option<TemplateRef>,
    pub auto_scaling_groups: Vec<String>,
    pub desired_size: Option<i32>,
    pub health_issues: Vec<HealthIssue>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FargateProfile {
    pub name: String,
    pub subnets: Vec<String>,
    /// Namespaces its selectors match, for the playbook.
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoScalingGroup {
    pub name: String,
    pub subnets: Vec<String>,
    pub launch_template: Option<TemplateRef>,
    pub launch_configuration: Option<String>,
    /// The template comes from a mixed-instances policy.
    pub mixed_instances: bool,
    pub desired_capacity: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Addon {
    pub name: String,
    pub version: String,
    pub status: String,
    pub health_issues: Vec<HealthIssue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddonCatalog {
    pub kubernetes_version: KubeVersion,
    /// Addon name → the versions EKS supports for this Kubernetes version.
    pub addons: BTreeMap<String, Vec<AddonVersion>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddonVersion {
    pub version: String,
    /// The version EKS installs by default for this Kubernetes version.
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Insight {
    pub id: String,
    pub name: String,
    /// `UPGRADE_READINESS`, `MISCONFIGURATION`, `ROLLBACK_READINESS`, … (an open string).
    pub category: String,
    pub kubernetes_version: Option<String>,
    /// `PASSING`, `WARNING`, `ERROR` or `UNKNOWN`.
    pub status: String,
    pub reason: Option<String>,
    pub description: Option<String>,
    /// From `DescribeInsight`; fetched only for insights that are not passing.
    pub recommendation: Option<String>,
    /// `categorySpecificSummary.deprecationDetails` from `DescribeInsight`.
    pub deprecations: Vec<Deprecation>,
    /// `lastRefreshTime`: the end of the insight's 30-day evidence window.
    pub last_refresh: Option<DateTime<Utc>>,
    /// `DescribeInsight.resources[]`: the affected resources, each with its own status.
    pub resources: Vec<InsightResource>,
}

/// One resource an insight evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InsightResource {
    pub kubernetes_resource_uri: Option<String>,
    pub arn: Option<String>,
    pub status: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quota {
    pub service_code: String,
    pub quota_code: String,
    pub name: String,
    pub limit: f64,
    /// Current usage in the quota's unit; `None` when it could not be measured.
    pub usage: Option<f64>,
    pub unit: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Subnet {
    pub id: String,
    pub availability_zone: String,
    pub available_ips: i64,
    /// Set when the subnet is on an AWS Outpost.
    pub outpost_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LaunchTemplate {
    pub id: String,
    pub name: String,
    pub default_version: i64,
    pub latest_version: i64,
}

/// EKS Auto Mode (`DescribeCluster.computeConfig` with `enabled: true`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoMode {
    /// The built-in NodePools EKS manages (`general-purpose`, `system`).
    pub node_pools: Vec<String>,
}

/// EKS Hybrid Nodes (`DescribeCluster.remoteNetworkConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteNetwork {
    pub node_cidrs: Vec<String>,
    pub pod_cidrs: Vec<String>,
}

/// One deprecated API an EKS insight saw in use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Deprecation {
    /// The request path, e.g. `/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas`.
    pub usage: String,
    pub replaced_with: Option<String>,
    pub stop_serving_version: Option<String>,
    pub clients: Vec<ClientStat>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientStat {
    pub user_agent: String,
    pub requests_last_30_days: i64,
    pub last_request: Option<DateTime<Utc>>,
}

/// A sample of `apiserver_requested_deprecated_apis`: this API was requested since the
/// answering API server process started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeprecatedApiRequest {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    /// Empty when no removal release is planned.
    pub removed_release: String,
}

/// A Karpenter NodePool (`karpenter.sh/v1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodePool {
    pub name: String,
    /// `spec.template.spec.nodeClassRef`: `group`, `kind`, `name`.
    pub node_class_group: String,
    pub node_class_kind: String,
    pub node_class_name: String,
    pub budgets: Vec<DisruptionBudget>,
}

/// One of `spec.disruption.budgets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisruptionBudget {
    /// A count or a percentage, as written (`"0"`, `"10%"`).
    pub nodes: String,
    /// Cron schedule when the budget is active; `None`: always.
    pub schedule: Option<String>,
    pub duration: Option<String>,
    /// The disruption reasons it limits; empty: all of them.
    pub reasons: Vec<String>,
}

/// A Karpenter EC2NodeClass (`karpenter.k8s.aws/v1`): how it selects AMIs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ec2NodeClass {
    pub name: String,
    /// `spec.amiSelectorTerms[].alias`, e.g. `al2023@latest`.
    pub ami_aliases: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CustomResourceDefinition {
    pub name: String,
    /// `spec.versions[]` with `served: true`.
    pub served: Vec<String>,
    pub stored: Vec<String>,
    /// Where `spec.conversion.strategy: Webhook` sends conversions; `None` for `None`.
    pub conversion: Option<WebhookTarget>,
}

/// A Service an API extension calls (`clientConfig.service`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Where the API server calls a webhook: a Service of the cluster, or a URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookTarget {
    Service(ServiceRef),
    Url(String),
}

/// One webhook of a Validating- or MutatingWebhookConfiguration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionWebhook {
    /// `ValidatingWebhookConfiguration` or `MutatingWebhookConfiguration`.
    pub kind: String,
    /// The configuration's name.
    pub configuration: String,
    /// The webhook's name within it.
    pub name: String,
    /// `failurePolicy: Fail`, the v1 default when unset: a call that fails rejects the request.
    pub fails_closed: bool,
    pub target: WebhookTarget,
}

/// An aggregated API (`apiregistration.k8s.io/v1` APIService) served by a Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiService {
    /// e.g. `v1beta1.metrics.k8s.io`.
    pub name: String,
    pub group: String,
    /// The `Available` condition's status (`True`, `False`, `Unknown`); `None` without one.
    pub available: Option<String>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

/// What stands behind a Service that an API extension names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The Service does not exist.
    Missing,
    /// An `ExternalName` Service: its backend is outside the cluster's EndpointSlices.
    ExternalName(String),
    /// Endpoints of the Service's EndpointSlices, and how many of them are ready.
    Endpoints { ready: u32, total: u32 },
    /// The Service or its EndpointSlices could not be read.
    Unread(String),
}

/// A Service named by an API extension, with what eksup found behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionService {
    pub service: ServiceRef,
    pub backend: Backend,
}

/// The API extensions that answer on the API server's behalf (K8S106).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiExtensions {
    pub webhooks: Vec<AdmissionWebhook>,
    /// APIServices served by a Service (the API server's local ones are left out).
    pub api_services: Vec<ApiService>,
    /// Every Service the webhooks and the CRD conversion webhooks name, read by name.
    pub services: Vec<ExtensionService>,
}

/// A Service that sets `spec.externalIPs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExternalIpService {
    pub namespace: String,
    pub name: String,
    pub external_ips: Vec<String>,
}

/// A source that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionError {
    /// One of the names in [`source`].
    pub source: String,
    pub message: String,
}

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("snapshot {path} is not a valid eksup snapshot: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "snapshot {path} has schema version {found}; this eksup reads up to {SCHEMA_VERSION} — upgrade eksup"
    )]
    TooNew { path: String, found: u32 },
    #[error("cannot write snapshot {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl Snapshot {
    pub fn new(cluster: ClusterInfo) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            collected_at: Utc::now(),
            cluster,
            kubernetes: KubernetesData::default(),
            aws: None,
            collection_errors: Vec::new(),
        }
    }

    pub fn record_error(&mut self, source: &str, message: impl Into<String>) {
        self.collection_errors.push(CollectionError {
            source: source.to_string(),
            message: message.into(),
        });
    }

    /// The recorded error of a source, if that source failed.
    pub fn failure_of(&self, source: &str) -> Option<&CollectionError> {
        self.collection_errors.iter().find(|e| e.source == source)
    }

    pub fn load(path: &Path) -> Result<Self, SnapshotError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
            path: display.clone(),
            source,
        })?;
        // Read the version first so that a newer file says "upgrade eksup" rather than
        // failing on a field this version does not know.
        #[derive(Deserialize)]
        struct Header {
            schema_version: u32,
        }
        let header: Header =
            serde_json::from_str(&text).map_err(|source| SnapshotError::Parse {
                path: display.clone(),
                source,
            })?;
        if header.schema_version > SCHEMA_VERSION {
            return Err(SnapshotError::TooNew {
                path: display,
                found: header.schema_version,
            });
        }
        serde_json::from_str(&text).map_err(|source| SnapshotError::Parse {
            path: display,
            source,
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let json = serde_json::to_vec_pretty(self).expect("snapshot serializes");
        std::fs::write(path, json).map_err(|source| SnapshotError::Write {
            path: path.display().to_string(),
            source,
        })
    }
}
