//! `collect:` in the settings: how much of a kind the collector reads, where reading less
//! has a trade-off an operator may not want.

use serde::{Deserialize, Serialize};

/// How the Kubernetes API is read, beyond what the check settings switch on or off.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields, default)]
pub struct CollectSettings {
    /// Which ReplicaSets are listed. `by_label` (default): only those without the
    /// `pod-template-hash` label, which every Deployment controller sets on the ReplicaSets
    /// it makes; the API server filters before it serializes, so the tens of thousands a
    /// Deployment keeps as history are never sent. A ReplicaSet orphaned from a Deployment
    /// deleted with `--cascade=orphan` keeps the label and is not seen. `all`: the metadata of
    /// every ReplicaSet, as before, which sees those too.
    pub replicasets: ReplicaSetScope,
}

/// Which ReplicaSets the collector lists (`collect.replicasets`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaSetScope {
    /// `labelSelector=!pod-template-hash`: the ReplicaSets no Deployment made.
    #[default]
    ByLabel,
    /// Every ReplicaSet's metadata.
    All,
}

impl ReplicaSetScope {
    /// The label selector of the ReplicaSet list, if any.
    pub fn selector(self) -> Option<&'static str> {
        match self {
            Self::ByLabel => Some(NOT_MADE_BY_A_DEPLOYMENT),
            Self::All => None,
        }
    }
}

/// Selects the ReplicaSets without the label the Deployment controller puts on each one it
/// makes (`apps/v1` `DefaultDeploymentUniqueLabelKey`).
pub const NOT_MADE_BY_A_DEPLOYMENT: &str = "!pod-template-hash";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicasets_are_read_by_label_unless_all_is_asked_for() {
        let default = CollectSettings::default();
        assert_eq!(default.replicasets.selector(), Some("!pod-template-hash"));
        let all: CollectSettings = serde_json::from_str(r#"{"replicasets":"all"}"#).unwrap();
        assert_eq!(all.replicasets.selector(), None);
        let err = serde_json::from_str::<CollectSettings>(r#"{"replicasets":"some"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("by_label") && err.contains("all"), "{err}");
    }
}
