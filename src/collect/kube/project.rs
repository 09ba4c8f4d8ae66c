//! Projections from the Kubernetes objects as read ([`super::wire`]) to the snapshot's
//! small owned types. Each page of a LIST is projected as it arrives, so raw objects never
//! pile up in memory.

use super::wire::{self, Meta, PodTemplateSpec};
use crate::snapshot::{self, Container, PodTemplate, Workload, WorkloadKind};

/// The metadata-only form of an object (`PartialObjectMetadata`).
#[derive(Debug, serde::Deserialize)]
pub struct MetadataOnly {
    #[serde(default)]
    pub metadata: Meta,
}

/// An object with a controller owner is managed by that controller and checked through it.
pub fn is_owned(meta: &Meta) -> bool {
    meta.owner_references.0
}

fn names(meta: Meta) -> (String, String) {
    (
        meta.namespace.unwrap_or_default(),
        meta.name.unwrap_or_default(),
    )
}

pub fn node(n: wire::Node) -> Option<snapshot::Node> {
    let info = n.status.node_info;
    Some(snapshot::Node {
        name: n.metadata.name?,
        kubelet_version: info.kubelet_version,
        labels: n.metadata.labels.0,
        os_image: info.os_image,
        container_runtime_version: info.container_runtime_version,
        operating_system: info.operating_system,
    })
}

fn container(c: wire::Container) -> Container {
    Container {
        name: c.name,
        image: c.image.unwrap_or_default(),
        has_readiness_probe: c.readiness_probe.is_some(),
        is_sidecar: c.restart_policy.as_deref() == Some("Always"),
        mounts: c
            .volume_mounts
            .into_iter()
            .map(|m| (m.mount_path, m.name))
            .collect(),
    }
}

fn pod_template(t: Option<PodTemplateSpec>) -> PodTemplate {
    let Some(t) = t else {
        return PodTemplate::default();
    };
    let (labels, do_not_disrupt) = t
        .metadata
        .map_or_else(Default::default, |m| (m.labels, m.annotations.0));
    let Some(spec) = t.spec else {
        return PodTemplate {
            labels,
            do_not_disrupt,
            ..Default::default()
        };
    };
    let anti = spec
        .affinity
        .and_then(|a| a.pod_anti_affinity)
        .is_some_and(|p| p.required.0 > 0 || p.preferred.0 > 0);
    let mut host_path_volumes = std::collections::BTreeMap::new();
    let mut git_repo_volumes = Vec::new();
    for v in spec.volumes {
        if v.git_repo.is_some() {
            git_repo_volumes.push(v.name.clone());
        }
        if let Some(h) = v.host_path {
            host_path_volumes.insert(v.name, h.path);
        }
    }
    PodTemplate {
        labels,
        containers: spec.containers.into_iter().map(container).collect(),
        init_containers: spec.init_containers.into_iter().map(container).collect(),
        host_path_volumes,
        has_pod_anti_affinity: anti,
        topology_spread_constraints: spec.topology_spread_constraints.0,
        termination_grace_period_seconds: spec.termination_grace_period_seconds,
        do_not_disrupt,
        git_repo_volumes,
    }
}

/// A workload of `kind`; `replicas` defaults to 1 where the kind has replicas, as
/// Kubernetes defaults it when unset.
fn workload(kind: WorkloadKind, w: wire::Workload, replicated: bool) -> Workload {
    let spec = w.spec.unwrap_or_default();
    let (namespace, name) = names(w.metadata);
    Workload {
        kind,
        namespace,
        name,
        replicas: replicated.then(|| spec.replicas.unwrap_or(1)),
        min_ready_seconds: spec.min_ready_seconds,
        pod: pod_template(spec.template),
    }
}

pub fn deployment(d: wire::Workload) -> Option<Workload> {
    Some(workload(WorkloadKind::Deployment, d, true))
}

pub fn stateful_set(s: wire::Workload) -> Option<Workload> {
    Some(workload(WorkloadKind::StatefulSet, s, true))
}

pub fn daemon_set(d: wire::Workload) -> Option<Workload> {
    Some(workload(WorkloadKind::DaemonSet, d, false))
}

pub fn replica_set(r: wire::Workload) -> Option<Workload> {
    Some(workload(WorkloadKind::ReplicaSet, r, true))
}

/// Only unowned ReplicationControllers are workloads of their own (a controller owns the rest).
pub fn replication_controller(r: wire::Workload) -> Option<Workload> {
    if is_owned(&r.metadata) {
        return None;
    }
    Some(workload(WorkloadKind::ReplicationController, r, true))
}

fn templated(kind: WorkloadKind, meta: Meta, template: Option<PodTemplateSpec>) -> Workload {
    let (namespace, name) = names(meta);
    Workload {
        kind,
        namespace,
        name,
        replicas: None,
        min_ready_seconds: None,
        pod: pod_template(template),
    }
}

pub fn cron_job(c: wire::CronJob) -> Option<Workload> {
    let template = c
        .spec
        .and_then(|s| s.job_template.spec)
        .and_then(|j| j.template);
    Some(templated(WorkloadKind::CronJob, c.metadata, template))
}

pub fn job(j: wire::Job) -> Option<Workload> {
    let template = j.spec.and_then(|s| s.template);
    Some(templated(WorkloadKind::Job, j.metadata, template))
}

fn label_selector(s: wire::LabelSelector) -> snapshot::LabelSelector {
    snapshot::LabelSelector {
        match_labels: s.match_labels,
        match_expressions: s
            .match_expressions
            .into_iter()
            .map(|e| snapshot::LabelSelectorRequirement {
                key: e.key,
                operator: e.operator,
                values: e.values,
            })
            .collect(),
    }
}

pub fn pod_disruption_budget(
    p: wire::PodDisruptionBudget,
) -> Option<snapshot::PodDisruptionBudget> {
    let (namespace, name) = names(p.metadata);
    Some(snapshot::PodDisruptionBudget {
        namespace,
        name,
        selector: p.spec.selector.map(label_selector),
        min_available: p.spec.min_available.map(|v| v.0),
        max_unavailable: p.spec.max_unavailable.map(|v| v.0),
        status: p.status.map(|s| snapshot::PdbStatus {
            disruptions_allowed: s.disruptions_allowed,
            current_healthy: s.current_healthy,
            desired_healthy: s.desired_healthy,
            expected_pods: s.expected_pods,
        }),
    })
}

pub fn autoscaler(h: wire::HorizontalPodAutoscaler) -> Option<snapshot::Autoscaler> {
    let (namespace, name) = names(h.metadata);
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
#[derive(Debug, serde::Deserialize)]
pub struct EniConfigObject {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: EniConfigSpec,
}

#[derive(Debug, Default, serde::Deserialize)]
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
pub fn kube_proxy_mode(cm: &wire::ConfigMap) -> Option<String> {
    let config = cm.data.get("config")?;
    let parsed = config::Config::builder()
        .add_source(config::File::from_str(config, config::FileFormat::Yaml))
        .build()
        .ok()?;
    parsed.get_string("mode").ok().filter(|m| !m.is_empty())
}
