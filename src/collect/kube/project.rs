//! Projections from Kubernetes API objects to the snapshot's small owned types. Each page
//! of a LIST is projected as it arrives, so raw objects never pile up in memory.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{self as core, PodTemplateSpec, ReplicationController};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;

use crate::snapshot::{self, Container, PodTemplate, Workload, WorkloadKind};

/// Node labels worth keeping: they tie nodes to node groups, Fargate and zones.
const KEPT_NODE_LABELS: [&str; 5] = [
    "eks.amazonaws.com/nodegroup",
    "eks.amazonaws.com/compute-type",
    "alpha.eksctl.io/nodegroup-name",
    "karpenter.sh/nodepool",
    "topology.kubernetes.io/zone",
];

/// Karpenter (and EKS Auto Mode) never disrupts a node running a pod with this annotation.
const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";

/// The metadata-only form of an object (`PartialObjectMetadata`).
#[derive(Debug, Deserialize)]
pub struct MetadataOnly {
    pub metadata: ObjectMeta,
}

/// An object with a controller owner is managed by that controller and checked through it.
pub fn is_owned(meta: &ObjectMeta) -> bool {
    meta.owner_references
        .as_ref()
        .is_some_and(|refs| refs.iter().any(|r| r.controller == Some(true)))
}

fn names(meta: &ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

pub fn node(n: core::Node) -> Option<snapshot::Node> {
    let labels = n.metadata.labels.unwrap_or_default();
    let info = n.status.and_then(|s| s.node_info).unwrap_or_default();
    Some(snapshot::Node {
        name: n.metadata.name?,
        kubelet_version: info.kubelet_version,
        labels: labels
            .into_iter()
            .filter(|(k, _)| KEPT_NODE_LABELS.contains(&k.as_str()))
            .collect(),
        os_image: info.os_image,
        container_runtime_version: info.container_runtime_version,
        operating_system: info.operating_system,
    })
}

fn pod_template(t: Option<&PodTemplateSpec>) -> PodTemplate {
    let Some(t) = t else {
        return PodTemplate::default();
    };
    let labels = t
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let do_not_disrupt = t
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(DO_NOT_DISRUPT))
        .is_some_and(|v| v == "true");
    let Some(spec) = &t.spec else {
        return PodTemplate {
            labels,
            do_not_disrupt,
            ..Default::default()
        };
    };
    let container = |c: &core::Container| Container {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        has_readiness_probe: c.readiness_probe.is_some(),
        is_sidecar: c.restart_policy.as_deref() == Some("Always"),
        mounts: c
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| (m.mount_path.clone(), m.name.clone()))
            .collect(),
    };
    let anti = spec
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .is_some_and(|p| {
            p.required_during_scheduling_ignored_during_execution
                .as_ref()
                .is_some_and(|v| !v.is_empty())
                || p.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
                    .is_some_and(|v| !v.is_empty())
        });
    PodTemplate {
        labels,
        containers: spec.containers.iter().map(container).collect(),
        init_containers: spec
            .init_containers
            .iter()
            .flatten()
            .map(container)
            .collect(),
        host_path_volumes: spec
            .volumes
            .iter()
            .flatten()
            .filter_map(|v| Some((v.name.clone(), v.host_path.as_ref()?.path.clone())))
            .collect(),
        has_pod_anti_affinity: anti,
        topology_spread_constraints: spec
            .topology_spread_constraints
            .as_ref()
            .map_or(0, Vec::len),
        termination_grace_period_seconds: spec.termination_grace_period_seconds,
        do_not_disrupt,
        git_repo_volumes: spec
            .volumes
            .iter()
            .flatten()
            .filter(|v| v.git_repo.is_some())
            .map(|v| v.name.clone())
            .collect(),
    }
}

fn workload(
    kind: WorkloadKind,
    meta: &ObjectMeta,
    replicas: Option<i32>,
    min_ready_seconds: Option<i32>,
    template: Option<&PodTemplateSpec>,
) -> Workload {
    let (namespace, name) = names(meta);
    Workload {
        kind,
        namespace,
        name,
        replicas,
        min_ready_seconds,
        pod: pod_template(template),
    }
}

pub fn deployment(d: Deployment) -> Option<Workload> {
    let spec = d.spec.as_ref();
    Some(workload(
        WorkloadKind::Deployment,
        &d.metadata,
        // Kubernetes defaults replicas to 1 when unset.
        Some(spec.and_then(|s| s.replicas).unwrap_or(1)),
        spec.and_then(|s| s.min_ready_seconds),
        spec.map(|s| &s.template),
    ))
}

pub fn stateful_set(s: StatefulSet) -> Option<Workload> {
    let spec = s.spec.as_ref();
    Some(workload(
        WorkloadKind::StatefulSet,
        &s.metadata,
        Some(spec.and_then(|s| s.replicas).unwrap_or(1)),
        spec.and_then(|s| s.min_ready_seconds),
        spec.map(|s| &s.template),
    ))
}

pub fn daemon_set(d: DaemonSet) -> Option<Workload> {
    let spec = d.spec.as_ref();
    Some(workload(
        WorkloadKind::DaemonSet,
        &d.metadata,
        None,
        spec.and_then(|s| s.min_ready_seconds),
        spec.map(|s| &s.template),
    ))
}

pub fn cron_job(c: CronJob) -> Option<Workload> {
    let template = c
        .spec
        .as_ref()
        .and_then(|s| s.job_template.spec.as_ref())
        .map(|j| &j.template);
    Some(workload(
        WorkloadKind::CronJob,
        &c.metadata,
        None,
        None,
        template,
    ))
}

pub fn replica_set(r: ReplicaSet) -> Option<Workload> {
    let spec = r.spec.as_ref();
    Some(workload(
        WorkloadKind::ReplicaSet,
        &r.metadata,
        Some(spec.and_then(|s| s.replicas).unwrap_or(1)),
        spec.and_then(|s| s.min_ready_seconds),
        spec.and_then(|s| s.template.as_ref()),
    ))
}

pub fn job(j: Job) -> Option<Workload> {
    let template = j.spec.as_ref().map(|s| &s.template);
    Some(workload(
        WorkloadKind::Job,
        &j.metadata,
        None,
        None,
        template,
    ))
}

/// Only unowned ReplicationControllers are workloads of their own (a controller owns the rest).
pub fn replication_controller(r: ReplicationController) -> Option<Workload> {
    if is_owned(&r.metadata) {
        return None;
    }
    let spec = r.spec.as_ref();
    Some(workload(
        WorkloadKind::ReplicationController,
        &r.metadata,
        Some(spec.and_then(|s| s.replicas).unwrap_or(1)),
        spec.and_then(|s| s.min_ready_seconds),
        spec.and_then(|s| s.template.as_ref()),
    ))
}

fn label_selector(s: LabelSelector) -> snapshot::LabelSelector {
    snapshot::LabelSelector {
        match_labels: s.match_labels.unwrap_or_default(),
        match_expressions: s
            .match_expressions
            .unwrap_or_default()
            .into_iter()
            .map(|e| snapshot::LabelSelectorRequirement {
                key: e.key,
                operator: e.operator,
                values: e.values.unwrap_or_default(),
            })
            .collect(),
    }
}

fn int_or_string(v: IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s,
    }
}

pub fn pod_disruption_budget(p: PodDisruptionBudget) -> Option<snapshot::PodDisruptionBudget> {
    let (namespace, name) = names(&p.metadata);
    let spec = p.spec.unwrap_or_default();
    Some(snapshot::PodDisruptionBudget {
        namespace,
        name,
        selector: spec.selector.map(label_selector),
        min_available: spec.min_available.map(int_or_string),
        max_unavailable: spec.max_unavailable.map(int_or_string),
        status: p.status.map(|s| snapshot::PdbStatus {
            disruptions_allowed: s.disruptions_allowed,
            current_healthy: s.current_healthy,
            desired_healthy: s.desired_healthy,
            expected_pods: s.expected_pods,
        }),
    })
}

pub fn autoscaler(h: HorizontalPodAutoscaler) -> Option<snapshot::Autoscaler> {
    let (namespace, name) = names(&h.metadata);
    let spec = h.spec?;
    Some(snapshot::Autoscaler {
        namespace,
        name,
        target_kind: spec.scale_target_ref.kind,
        target_name: spec.scale_target_ref.name,
        min_replicas: spec.min_replicas,
    })
}

/// The `ENIConfig` custom resource of the VPC CNI (custom networking).
#[derive(Debug, Deserialize)]
pub struct EniConfigObject {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: EniConfigSpec,
}

#[derive(Debug, Default, Deserialize)]
pub struct EniConfigSpec {
    #[serde(default)]
    pub subnet: Option<String>,
}

pub fn eni_config(e: EniConfigObject) -> Option<snapshot::EniConfig> {
    Some(snapshot::EniConfig {
        name: e.metadata.name?,
        subnet: e.spec.subnet,
    })
}

/// The `mode` in kube-proxy's configuration file (`data.config` of the ConfigMap), read
/// with a YAML parser rather than by searching text.
pub fn kube_proxy_mode(cm: &core::ConfigMap) -> Option<String> {
    let config = cm.data.as_ref()?.get("config")?;
    let parsed = config::Config::builder()
        .add_source(config::File::from_str(config, config::FileFormat::Yaml))
        .build()
        .ok()?;
    parsed.get_string("mode").ok().filter(|m| !m.is_empty())
}
