//! What eksup reads from the Kubernetes API, as one table.
//!
//! The collector ([`crate::collect::kube`]) builds its request paths from these entries, and
//! `eksup rbac` prints the ClusterRole and Role that allow exactly those requests
//! (`deploy/kubernetes/base/rbac/roles.yaml` is that output, checked by a test). A kind the
//! collector starts to read is therefore granted in the same change, and nothing else is.
//!
//! Least privilege by construction: [`Verb`] has no write verb, the table names no Secrets and
//! no subresource (`nodes/proxy`), and the one ConfigMap is granted by name.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A verb eksup uses. Only reads exist, so a write cannot be granted by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    Get,
    List,
}

impl Verb {
    /// The verb as RBAC spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
        }
    }
}

/// A kind eksup reads cluster-wide.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// The API version read (never a deprecated one).
    pub version: &'static str,
    /// The plural resource name, as in URLs and RBAC rules.
    pub plural: &'static str,
    /// `list` for the cluster-wide LIST; `get` too where single objects are fetched.
    pub verbs: &'static [Verb],
    /// The cluster-wide collection path, e.g. `/apis/apps/v1/deployments`.
    pub collection: &'static str,
}

/// One object eksup reads by name (a GET, granted with `resourceNames`).
#[derive(Debug, Clone, Copy)]
pub struct NamedObject {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// The API version read.
    pub version: &'static str,
    /// The plural resource name.
    pub plural: &'static str,
    pub namespace: &'static str,
    pub name: &'static str,
    /// The namespaced collection path the object is fetched from.
    pub collection: &'static str,
}

// The paths are built at compile time from the same tokens the rules are built from.
macro_rules! resource {
    ("", $version:literal, $plural:literal, $verbs:expr) => {
        Resource {
            group: "",
            version: $version,
            plural: $plural,
            verbs: $verbs,
            collection: concat!("/api/", $version, "/", $plural),
        }
    };
    ($group:literal, $version:literal, $plural:literal, $verbs:expr) => {
        Resource {
            group: $group,
            version: $version,
            plural: $plural,
            verbs: $verbs,
            collection: concat!("/apis/", $group, "/", $version, "/", $plural),
        }
    };
}

macro_rules! named {
    ("", $version:literal, $plural:literal, $namespace:literal, $name:literal) => {
        NamedObject {
            group: "",
            version: $version,
            plural: $plural,
            namespace: $namespace,
            name: $name,
            collection: concat!("/api/", $version, "/namespaces/", $namespace, "/", $plural),
        }
    };
    ($group:literal, $version:literal, $plural:literal, $namespace:literal, $name:literal) => {
        NamedObject {
            group: $group,
            version: $version,
            plural: $plural,
            namespace: $namespace,
            name: $name,
            collection: concat!(
                "/apis/",
                $group,
                "/",
                $version,
                "/namespaces/",
                $namespace,
                "/",
                $plural
            ),
        }
    };
}

use Verb::{Get, List};

pub const NODES: Resource = resource!("", "v1", "nodes", &[List]);
pub const REPLICATIONCONTROLLERS: Resource = resource!("", "v1", "replicationcontrollers", &[List]);
pub const DEPLOYMENTS: Resource = resource!("apps", "v1", "deployments", &[List]);
pub const STATEFULSETS: Resource = resource!("apps", "v1", "statefulsets", &[List]);
pub const DAEMONSETS: Resource = resource!("apps", "v1", "daemonsets", &[List]);
/// Listed as metadata; only the ones no controller owns are fetched in full.
pub const REPLICASETS: Resource = resource!("apps", "v1", "replicasets", &[Get, List]);
/// Listed as metadata; only the ones no controller owns are fetched in full.
pub const JOBS: Resource = resource!("batch", "v1", "jobs", &[Get, List]);
pub const CRONJOBS: Resource = resource!("batch", "v1", "cronjobs", &[List]);
pub const PODDISRUPTIONBUDGETS: Resource =
    resource!("policy", "v1", "poddisruptionbudgets", &[List]);
pub const HORIZONTALPODAUTOSCALERS: Resource =
    resource!("autoscaling", "v2", "horizontalpodautoscalers", &[List]);
/// The VPC CNI's custom-networking CRD; absent on most clusters, which is fine.
pub const ENICONFIGS: Resource =
    resource!("crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs", &[List]);

/// Karpenter's NodePools (self-managed Karpenter and EKS Auto Mode); absent without them.
pub const NODEPOOLS: Resource = resource!("karpenter.sh", "v1", "nodepools", &[List]);
/// Karpenter's EC2NodeClasses (self-managed Karpenter only).
pub const EC2NODECLASSES: Resource =
    resource!("karpenter.k8s.aws", "v1", "ec2nodeclasses", &[List]);
/// CRDs, for the stored versions check (K8S105).
pub const CRDS: Resource = resource!(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    &[List]
);

/// Services: listed for `externalIPs` (K8S016) only when a hop reaches 1.36, and fetched one
/// by one when an admission or conversion webhook names them (K8S106).
pub const SERVICES: Resource = resource!("", "v1", "services", &[Get, List]);
/// K8S106's API extensions: admission webhooks and aggregated APIs (small, cluster-scoped).
pub const VALIDATING_WEBHOOKS: Resource = resource!(
    "admissionregistration.k8s.io",
    "v1",
    "validatingwebhookconfigurations",
    &[List]
);
pub const MUTATING_WEBHOOKS: Resource = resource!(
    "admissionregistration.k8s.io",
    "v1",
    "mutatingwebhookconfigurations",
    &[List]
);
pub const API_SERVICES: Resource =
    resource!("apiregistration.k8s.io", "v1", "apiservices", &[List]);

/// Every kind read cluster-wide, in the order the ClusterRole lists them.
pub const CLUSTER_WIDE: &[Resource] = &[
    NODES,
    REPLICATIONCONTROLLERS,
    DEPLOYMENTS,
    STATEFULSETS,
    DAEMONSETS,
    REPLICASETS,
    JOBS,
    CRONJOBS,
    PODDISRUPTIONBUDGETS,
    HORIZONTALPODAUTOSCALERS,
    ENICONFIGS,
    NODEPOOLS,
    EC2NODECLASSES,
    CRDS,
    SERVICES,
    VALIDATING_WEBHOOKS,
    MUTATING_WEBHOOKS,
    API_SERVICES,
];

// K8S106 reads only the Services that the webhooks name (a GET of `SERVICES` by name), and
// only their EndpointSlices: a LIST by the `kubernetes.io/service-name` label in one
// namespace. Never cluster-wide; the namespaces are the webhooks' own, so the grant is
// cluster-wide.
/// The EndpointSlices of one of those Services, by label in its namespace.
pub const ENDPOINTSLICES_BY_SERVICE: Resource =
    resource!("discovery.k8s.io", "v1", "endpointslices", &[List]);

/// Kinds read only for the objects the API extensions name, in ClusterRole order.
pub const NAMED_BY_EXTENSIONS: &[Resource] = &[ENDPOINTSLICES_BY_SERVICE];

/// kube-proxy's configuration, for the IPVS check (K8S012).
pub const KUBE_PROXY_CONFIG: NamedObject =
    named!("", "v1", "configmaps", "kube-system", "kube-proxy-config");

/// Every object read by name; each gets a Role of its own in its namespace.
pub const NAMED: &[NamedObject] = &[KUBE_PROXY_CONFIG];

/// The API server's metrics, read once for the deprecated APIs requested (K8S104).
pub const METRICS_URL: &str = "/metrics";

/// Non-resource URLs requested: the version probe (every authenticated user may already read
/// it through `system:public-info-viewer`; listing it keeps the ClusterRole complete) and
/// `/metrics`, which no default role grants.
pub const NON_RESOURCE_URLS: &[&str] = &["/version", METRICS_URL];

/// Name of the ClusterRole (and of its binding in the manifests).
pub const CLUSTER_ROLE: &str = "eksup-reader";

impl Resource {
    /// The collection in one namespace, for a GET of one of its objects.
    pub fn namespaced(&self, namespace: &str) -> String {
        let prefix = self
            .collection
            .strip_suffix(self.plural)
            .expect("collection ends with the plural");
        format!("{prefix}namespaces/{namespace}/{}", self.plural)
    }
}

impl NamedObject {
    /// Name of the Role that grants this object.
    pub fn role_name(&self) -> String {
        format!("eksup-{}", self.name)
    }
}

fn metadata(name: String, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: namespace.map(str::to_owned),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/name".to_owned(),
            "eksup".to_owned(),
        )])),
        ..Default::default()
    }
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    items.into_iter().map(str::to_owned).collect()
}

/// The ClusterRole: one rule per (group, verbs), in table order, then the non-resource URLs.
pub fn cluster_role() -> ClusterRole {
    let mut rules: Vec<(&str, Vec<Verb>, Vec<&str>)> = Vec::new();
    for r in CLUSTER_WIDE.iter().chain(NAMED_BY_EXTENSIONS) {
        let mut verbs = r.verbs.to_vec();
        verbs.sort();
        verbs.dedup();
        match rules
            .iter_mut()
            .find(|(g, v, _)| *g == r.group && *v == verbs)
        {
            Some((_, _, resources)) => resources.push(r.plural),
            None => rules.push((r.group, verbs, vec![r.plural])),
        }
    }
    let mut rules: Vec<PolicyRule> = rules
        .into_iter()
        .map(|(group, verbs, resources)| PolicyRule {
            api_groups: Some(vec![group.to_owned()]),
            resources: Some(strings(resources)),
            verbs: verbs.iter().map(|v| v.as_str().to_owned()).collect(),
            ..Default::default()
        })
        .collect();
    if !NON_RESOURCE_URLS.is_empty() {
        rules.push(PolicyRule {
            non_resource_urls: Some(strings(NON_RESOURCE_URLS.iter().copied())),
            verbs: vec![Get.as_str().to_owned()],
            ..Default::default()
        });
    }
    ClusterRole {
        metadata: metadata(CLUSTER_ROLE.to_owned(), None),
        rules: Some(rules),
        ..Default::default()
    }
}

/// One Role per object read by name: `get` on that name alone.
pub fn roles() -> Vec<Role> {
    NAMED
        .iter()
        .map(|o| Role {
            metadata: metadata(o.role_name(), Some(o.namespace)),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec![o.group.to_owned()]),
                resources: Some(vec![o.plural.to_owned()]),
                resource_names: Some(vec![o.name.to_owned()]),
                verbs: vec![Get.as_str().to_owned()],
                ..Default::default()
            }]),
        })
        .collect()
}

const HEADER: &str = "\
# Generated by `eksup rbac` from the table of what eksup reads (src/collect/kube/rbac.rs); do not edit.
# Read-only: get/list on the kinds the checks need, one ConfigMap by name, never Secrets.
";

/// The ClusterRole and the Roles as a multi-document YAML stream, as `eksup rbac` prints it.
pub fn manifests() -> String {
    let docs = std::iter::once(serde_json::to_value(cluster_role()))
        .chain(roles().into_iter().map(serde_json::to_value))
        .map(|v| to_yaml(v.expect("RBAC objects serialize")));
    let mut out = String::from(HEADER);
    for doc in docs {
        let mut text = String::new();
        yaml_rust2::YamlEmitter::new(&mut text)
            .dump(&doc)
            .expect("writing to a String cannot fail");
        out.push_str(&text);
        out.push('\n');
    }
    out
}

fn to_yaml(value: serde_json::Value) -> yaml_rust2::Yaml {
    use serde_json::Value;
    use yaml_rust2::Yaml;
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(b),
        Value::Number(n) => n
            .as_i64()
            .map(Yaml::Integer)
            .unwrap_or_else(|| Yaml::Real(n.to_string())),
        Value::String(s) => Yaml::String(s),
        Value::Array(items) => Yaml::Array(items.into_iter().map(to_yaml).collect()),
        Value::Object(map) => Yaml::Hash(
            map.into_iter()
                .map(|(k, v)| (Yaml::String(k), to_yaml(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_group_and_version() {
        assert_eq!(NODES.collection, "/api/v1/nodes");
        assert_eq!(DEPLOYMENTS.collection, "/apis/apps/v1/deployments");
        assert_eq!(
            HORIZONTALPODAUTOSCALERS.collection,
            "/apis/autoscaling/v2/horizontalpodautoscalers"
        );
        assert_eq!(
            REPLICASETS.namespaced("legacy"),
            "/apis/apps/v1/namespaces/legacy/replicasets"
        );
        assert_eq!(JOBS.namespaced("a"), "/apis/batch/v1/namespaces/a/jobs");
        assert_eq!(
            KUBE_PROXY_CONFIG.collection,
            "/api/v1/namespaces/kube-system/configmaps"
        );
    }

    #[test]
    fn never_secrets_subresources_or_duplicates() {
        let mut seen = std::collections::HashSet::new();
        for r in CLUSTER_WIDE {
            assert!(
                !["secrets", "*"].contains(&r.plural) && !r.plural.contains('/'),
                "{r:?}"
            );
            assert!(
                r.verbs.contains(&List),
                "{r:?}: read cluster-wide means list"
            );
            assert!(seen.insert((r.group, r.plural)), "{r:?} listed twice");
        }
        for o in NAMED {
            assert_ne!(o.plural, "secrets");
        }
        for r in NAMED_BY_EXTENSIONS {
            assert!(seen.insert((r.group, r.plural)), "{r:?} listed twice");
        }
    }

    #[test]
    fn cluster_role_groups_resources_by_group_and_verbs() {
        let rules = cluster_role().rules.unwrap();
        let apps_list = rules
            .iter()
            .find(|r| r.api_groups == Some(vec!["apps".into()]) && r.verbs == ["list"])
            .unwrap();
        assert_eq!(
            apps_list.resources.as_deref().unwrap(),
            ["deployments", "statefulsets", "daemonsets"]
        );
        let rs = rules
            .iter()
            .find(|r| r.resources.as_ref().is_some_and(|x| x == &["replicasets"]))
            .unwrap();
        assert_eq!(rs.verbs, ["get", "list"]);
        // Every table entry appears exactly once, and nothing else.
        let granted: usize = rules
            .iter()
            .map(|r| r.resources.as_ref().map_or(0, Vec::len))
            .sum();
        assert_eq!(granted, CLUSTER_WIDE.len() + NAMED_BY_EXTENSIONS.len());
        let services = rules
            .iter()
            .find(|r| r.resources.as_ref().is_some_and(|x| x == &["services"]))
            .unwrap();
        // Fetched by name for K8S106, listed for K8S016: one rule for both.
        assert_eq!(services.verbs, ["get", "list"]);
        let last = rules.last().unwrap();
        assert_eq!(
            last.non_resource_urls.as_deref().unwrap(),
            ["/version", "/metrics"]
        );
        assert_eq!(last.verbs, ["get"]);
    }

    #[test]
    fn role_grants_one_configmap_by_name() {
        let roles = roles();
        assert_eq!(roles.len(), 1);
        let role = &roles[0];
        assert_eq!(role.metadata.namespace.as_deref(), Some("kube-system"));
        assert_eq!(
            role.metadata.name.as_deref(),
            Some("eksup-kube-proxy-config")
        );
        let rule = &role.rules.as_ref().unwrap()[0];
        assert_eq!(
            rule.resource_names.as_deref().unwrap(),
            ["kube-proxy-config"]
        );
        assert_eq!(rule.verbs, ["get"]);
    }

    #[test]
    fn manifests_are_yaml_of_the_objects() {
        let text = manifests();
        assert!(text.starts_with("# Generated by `eksup rbac`"));
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        assert_eq!(docs.len(), 1 + NAMED.len());
        assert_eq!(docs[0]["kind"].as_str(), Some("ClusterRole"));
        assert_eq!(
            docs[0]["apiVersion"].as_str(),
            Some("rbac.authorization.k8s.io/v1")
        );
        assert_eq!(docs[0]["rules"][0]["apiGroups"][0].as_str(), Some(""));
        assert_eq!(docs[1]["kind"].as_str(), Some("Role"));
    }
}
