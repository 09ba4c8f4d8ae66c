//! Per-check settings (the `checks:` section of the configuration).

use serde::{Deserialize, Serialize};

use crate::snapshot::Workload;

/// A workload named in an `ignore` or `overrides` list. A missing namespace or kind
/// matches any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadRef {
    /// The workload's name.
    pub name: String,
    /// Its namespace (any when unset).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Its kind, e.g. `Deployment` (any when unset).
    #[serde(default)]
    pub kind: Option<String>,
}

impl WorkloadRef {
    pub fn matches(&self, w: &Workload) -> bool {
        self.name == w.name
            && self.namespace.as_ref().is_none_or(|ns| *ns == w.namespace)
            && self
                .kind
                .as_ref()
                .is_none_or(|k| k.eq_ignore_ascii_case(w.kind.as_str()))
    }
}

/// Settings of K8S002.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicasSettings {
    /// Fewer replicas than this is a finding.
    pub min_replicas: u32,
    /// Workloads this check leaves alone.
    pub ignore: Vec<WorkloadRef>,
    /// Workloads with their own minimum.
    pub overrides: Vec<ReplicasOverride>,
}

impl Default for ReplicasSettings {
    fn default() -> Self {
        Self {
            min_replicas: 2,
            ignore: Vec::new(),
            overrides: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicasOverride {
    /// The workload's name.
    pub name: String,
    /// Its namespace (any when unset).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Its kind (any when unset).
    #[serde(default)]
    pub kind: Option<String>,
    /// The minimum for this workload.
    pub min_replicas: u32,
}

/// Settings of the workload checks that only take an ignore list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct IgnoreSettings {
    /// Workloads this check leaves alone.
    pub ignore: Vec<WorkloadRef>,
}

/// Settings of EKS101.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeSettings {
    /// Days before the end of standard support from which the check reports.
    pub notice_days: u32,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        Self { notice_days: 90 }
    }
}

/// Settings of K8S104.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DeprecatedApiSettings {
    /// Read the API server's `/metrics` (one GET); `false` leaves EKS insights as the only
    /// evidence and lets the ClusterRole drop `get` on `/metrics`.
    pub api_server_metrics: bool,
}

impl Default for DeprecatedApiSettings {
    fn default() -> Self {
        Self {
            api_server_metrics: true,
        }
    }
}

/// Settings of K8S105.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CrdSettings {
    /// List the CustomResourceDefinitions (one paginated LIST). Off by default: the answer
    /// carries every CRD's OpenAPI schema, measured at 34 % of a large run's bytes.
    pub enabled: bool,
}

/// The `checks:` section, keyed by check code (upper case, as in the catalogue).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CheckSettings {
    #[serde(rename = "K8S002")]
    pub k8s002: ReplicasSettings,
    #[serde(rename = "K8S003")]
    pub k8s003: IgnoreSettings,
    #[serde(rename = "K8S004")]
    pub k8s004: IgnoreSettings,
    #[serde(rename = "K8S005")]
    pub k8s005: IgnoreSettings,
    #[serde(rename = "K8S006")]
    pub k8s006: IgnoreSettings,
    #[serde(rename = "K8S007")]
    pub k8s007: IgnoreSettings,
    #[serde(rename = "K8S008")]
    pub k8s008: IgnoreSettings,
    #[serde(rename = "K8S013")]
    pub k8s013: IgnoreSettings,
    #[serde(rename = "EKS101")]
    pub eks101: NoticeSettings,
    #[serde(rename = "K8S104")]
    pub k8s104: DeprecatedApiSettings,
    #[serde(rename = "K8S105")]
    pub k8s105: CrdSettings,
    /// Codes of checks switched off entirely.
    pub disabled: Vec<String>,
}

impl CheckSettings {
    /// The ignore list of a workload check (empty for checks without one).
    pub fn ignore_list(&self, code: &str) -> &[WorkloadRef] {
        match code {
            "K8S002" => &self.k8s002.ignore,
            "K8S003" => &self.k8s003.ignore,
            "K8S004" => &self.k8s004.ignore,
            "K8S005" => &self.k8s005.ignore,
            "K8S006" => &self.k8s006.ignore,
            "K8S007" => &self.k8s007.ignore,
            "K8S008" => &self.k8s008.ignore,
            "K8S013" => &self.k8s013.ignore,
            _ => &[],
        }
    }

    pub fn is_ignored(&self, code: &str, w: &Workload) -> bool {
        self.ignore_list(code).iter().any(|r| r.matches(w))
    }

    pub fn is_disabled(&self, code: &str) -> bool {
        self.disabled.iter().any(|c| c.eq_ignore_ascii_case(code))
    }

    /// The minimum replicas K8S002 expects of a workload.
    pub fn min_replicas_for(&self, w: &Workload) -> u32 {
        self.k8s002
            .overrides
            .iter()
            .find(|o| {
                WorkloadRef {
                    name: o.name.clone(),
                    namespace: o.namespace.clone(),
                    kind: o.kind.clone(),
                }
                .matches(w)
            })
            .map_or(self.k8s002.min_replicas, |o| o.min_replicas)
    }
}
