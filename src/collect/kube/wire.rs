//! The Kubernetes objects as the checks read them: serde types with only the fields a
//! projection uses. serde skips every other field while it parses (`managedFields`,
//! `status` sections, annotations such as `kubectl.kubernetes.io/last-applied-configuration`)
//! without building anything for it, so a page costs what the checks read, not what the API
//! server stored. Field names follow the API (`camelCase`); every field is optional or
//! defaulted, as the API server may leave any of them out.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// `metadata`, as far as eksup reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub owner_references: Controlled,
}

/// Whether any owner reference is a controller's (`controller: true`); the references
/// themselves are not kept.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Controlled(pub bool);

impl<'de> Deserialize<'de> for Controlled {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Owner {
            #[serde(default)]
            controller: Option<bool>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Controlled;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of owner references")
            }
            fn visit_unit<E>(self) -> Result<Controlled, E> {
                Ok(Controlled(false))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Controlled, A::Error> {
                let mut controlled = false;
                while let Some(owner) = seq.next_element::<Owner>()? {
                    controlled |= owner.controller == Some(true);
                }
                Ok(Controlled(controlled))
            }
        }
        d.deserialize_any(V)
    }
}

/// The number of elements of a list, none of which is kept (`null` counts 0).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_unit<E>(self) -> Result<Count, E> {
                Ok(Count(0))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        d.deserialize_any(V)
    }
}

/// The node labels worth keeping: they tie nodes to node groups, Fargate and zones.
pub const NODE_LABELS: [&str; 5] = [
    "eks.amazonaws.com/nodegroup",
    "eks.amazonaws.com/compute-type",
    "alpha.eksctl.io/nodegroup-name",
    "karpenter.sh/nodepool",
    "topology.kubernetes.io/zone",
];

/// Node labels, filtered to [`NODE_LABELS`] as they are read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NodeLabels(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for NodeLabels {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NodeLabels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of labels")
            }
            fn visit_unit<E>(self) -> Result<NodeLabels, E> {
                Ok(NodeLabels::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeLabels, A::Error> {
                let mut kept = BTreeMap::new();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if NODE_LABELS.contains(&key.as_ref()) {
                        kept.insert(key.into_owned(), map.next_value::<String>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(NodeLabels(kept))
            }
        }
        d.deserialize_any(V)
    }
}

/// Karpenter (and EKS Auto Mode) never disrupts a node running a pod with this annotation.
pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";

/// Whether the annotations hold `karpenter.sh/do-not-disrupt: "true"`; nothing else of them
/// is kept.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DoNotDisrupt(pub bool);

impl<'de> Deserialize<'de> for DoNotDisrupt {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DoNotDisrupt;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of annotations")
            }
            fn visit_unit<E>(self) -> Result<DoNotDisrupt, E> {
                Ok(DoNotDisrupt(false))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DoNotDisrupt, A::Error> {
                let mut set = false;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == DO_NOT_DISRUPT {
                        set = map.next_value::<std::borrow::Cow<'de, str>>()? == "true";
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(DoNotDisrupt(set))
            }
        }
        d.deserialize_any(V)
    }
}

/// `null` as the type's default, as Go's encoder writes absent lists and maps in places
/// (an EndpointSlice with no endpoint is `"endpoints": null` from kube-apiserver).
pub(crate) fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: de::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Node {
    pub metadata: NodeMeta,
    pub status: NodeStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NodeMeta {
    pub name: Option<String>,
    pub labels: NodeLabels,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeStatus {
    pub node_info: NodeInfo,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeInfo {
    pub kubelet_version: String,
    pub os_image: String,
    pub container_runtime_version: String,
    pub operating_system: String,
}

/// A workload whose spec has `replicas`, `minReadySeconds` and a pod `template`
/// (Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Workload {
    pub metadata: Meta,
    pub spec: Option<WorkloadSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkloadSpec {
    pub replicas: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    pub template: Option<PodTemplateSpec>,
}

/// A Job: its spec's pod template.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Job {
    pub metadata: Meta,
    pub spec: Option<JobSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JobSpec {
    pub template: Option<PodTemplateSpec>,
}

/// A CronJob: the pod template of its job template.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CronJob {
    pub metadata: Meta,
    pub spec: Option<CronJobSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CronJobSpec {
    pub job_template: JobTemplate,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JobTemplate {
    pub spec: Option<JobSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodTemplateSpec {
    pub metadata: Option<TemplateMeta>,
    pub spec: Option<PodSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TemplateMeta {
    #[serde(deserialize_with = "or_default")]
    pub labels: BTreeMap<String, String>,
    pub annotations: DoNotDisrupt,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(deserialize_with = "or_default")]
    pub containers: Vec<Container>,
    #[serde(deserialize_with = "or_default")]
    pub init_containers: Vec<Container>,
    #[serde(deserialize_with = "or_default")]
    pub volumes: Vec<Volume>,
    pub affinity: Option<Affinity>,
    pub topology_spread_constraints: Count,
    pub termination_grace_period_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub readiness_probe: Option<IgnoredAny>,
    pub restart_policy: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub volume_mounts: Vec<VolumeMount>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    pub host_path: Option<HostPath>,
    pub git_repo: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HostPath {
    pub path: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Affinity {
    pub pod_anti_affinity: Option<PodAntiAffinity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodAntiAffinity {
    #[serde(rename = "requiredDuringSchedulingIgnoredDuringExecution")]
    pub required: Count,
    #[serde(rename = "preferredDuringSchedulingIgnoredDuringExecution")]
    pub preferred: Count,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodDisruptionBudget {
    pub metadata: Meta,
    pub spec: PdbSpec,
    pub status: Option<PdbStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PdbSpec {
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PdbStatus {
    pub disruptions_allowed: i32,
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub expected_pods: i32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(deserialize_with = "or_default")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(deserialize_with = "or_default")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(deserialize_with = "or_default")]
    pub values: Vec<String>,
}

/// An `int-or-string` (`maxUnavailable: 1` or `"25%"`), kept as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntOrString(pub String);

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or a string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<IntOrString, E> {
                Ok(IntOrString(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<IntOrString, E> {
                Ok(IntOrString(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HorizontalPodAutoscaler {
    pub metadata: Meta,
    pub spec: Option<HpaSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HpaSpec {
    pub scale_target_ref: ScaleTarget,
    pub min_replicas: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScaleTarget {
    pub kind: String,
    pub name: String,
}

/// A ConfigMap's `data`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfigMap {
    #[serde(deserialize_with = "or_default")]
    pub data: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_references_count_only_a_controller() {
        let meta = |refs: &str| -> Meta {
            serde_json::from_str(&format!(r#"{{"name":"x","ownerReferences":{refs}}}"#)).unwrap()
        };
        assert!(
            meta(r#"[{"kind":"Deployment","controller":true,"uid":"u"}]"#)
                .owner_references
                .0
        );
        assert!(
            !meta(r#"[{"kind":"Deployment","controller":false}]"#)
                .owner_references
                .0
        );
        assert!(!meta(r#"[{"kind":"Deployment"}]"#).owner_references.0);
        assert!(!meta("null").owner_references.0);
        assert!(!meta("[]").owner_references.0);
    }

    #[test]
    fn only_the_labels_and_annotation_eksup_reads_are_kept() {
        let node: Node = serde_json::from_str(
            r#"{"metadata":{"name":"n","labels":{"kubernetes.io/hostname":"n",
                "topology.kubernetes.io/zone":"us-east-1a","eks.amazonaws.com/nodegroup":"ng"},
                "managedFields":[{"manager":"kubelet","fieldsV1":{"f:metadata":{}}}]},
               "status":{"images":[{"names":["a"]}],"nodeInfo":{"kubeletVersion":"v1.30.4",
                "osImage":"Amazon Linux 2023","bootID":"b"}}}"#,
        )
        .unwrap();
        assert_eq!(
            node.metadata.labels.0.keys().collect::<Vec<_>>(),
            ["eks.amazonaws.com/nodegroup", "topology.kubernetes.io/zone"]
        );
        assert_eq!(node.status.node_info.kubelet_version, "v1.30.4");
        let meta = |a: &str| -> TemplateMeta {
            serde_json::from_str(&format!(r#"{{"labels":{{"app":"a"}},"annotations":{a}}}"#))
                .unwrap()
        };
        assert!(
            meta(r#"{"x":"y","karpenter.sh/do-not-disrupt":"true"}"#)
                .annotations
                .0
        );
        assert!(
            !meta(r#"{"karpenter.sh/do-not-disrupt":"false"}"#)
                .annotations
                .0
        );
        assert!(!meta("null").annotations.0);
    }

    #[test]
    fn lists_are_counted_and_absent_or_null_lists_are_empty() {
        let spec: PodSpec = serde_json::from_str(
            r#"{"containers":[{"name":"a","image":"i","readinessProbe":{"httpGet":{"port":80}},
                "volumeMounts":null}],"initContainers":null,
                "topologySpreadConstraints":[{"maxSkew":1},{"maxSkew":2}],
                "affinity":{"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{}]}}}"#,
        )
        .unwrap();
        assert_eq!(spec.topology_spread_constraints, Count(2));
        assert!(spec.containers[0].readiness_probe.is_some());
        assert!(spec.init_containers.is_empty() && spec.volumes.is_empty());
        let anti = spec.affinity.unwrap().pod_anti_affinity.unwrap();
        assert_eq!((anti.required, anti.preferred), (Count(0), Count(1)));
    }

    #[test]
    fn int_or_string_keeps_the_text_and_a_wrong_type_is_an_error() {
        let pdb: PdbSpec =
            serde_json::from_str(r#"{"minAvailable":2,"maxUnavailable":"25%"}"#).unwrap();
        assert_eq!(pdb.min_available, Some(IntOrString("2".into())));
        assert_eq!(pdb.max_unavailable, Some(IntOrString("25%".into())));
        let err = serde_json::from_str::<PdbSpec>(r#"{"minAvailable":[1]}"#).unwrap_err();
        assert!(err.to_string().contains("an integer or a string"), "{err}");
    }
}
