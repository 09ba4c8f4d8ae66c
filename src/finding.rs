//! The one flat finding row that every output (text, JSON, playbook, Parquet) is built from.

use serde::{Deserialize, Serialize};

/// `n` with its noun, singular for 1 (and -1): `1 day`, `0 days`, `-70 days`, `2 checks`.
pub fn counted(n: impl std::fmt::Display, one: &str, many: &str) -> String {
    let n = n.to_string();
    let noun = if n.trim_start_matches('-') == "1" {
        one
    } else {
        many
    };
    format!("{n} {noun}")
}

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Remediation {
    /// Must be fixed before upgrading, or the upgrade fails or causes disruption.
    Required,
    /// Worth doing; does not block the upgrade.
    Recommended,
}

impl Remediation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Recommended => "recommended",
        }
    }
}

/// Which part of the stack a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Aws,
    Eks,
    Kubernetes,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Eks => "eks",
            Self::Kubernetes => "kubernetes",
        }
    }
}

/// One thing a check found, about one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Stable check code, e.g. `K8S002`.
    pub code: String,
    /// The check's title from the catalogue.
    pub title: String,
    pub remediation: Remediation,
    pub category: Category,
    /// Kind of the resource the finding is about (`Deployment`, `Node`, `Subnet`, …).
    pub resource_kind: String,
    /// Namespace for namespaced Kubernetes resources, otherwise empty.
    pub resource_namespace: String,
    pub resource_name: String,
    /// One sentence saying what is wrong and what to do.
    pub message: String,
    /// Check-specific facts (counts, versions, container names) as a JSON object.
    pub details: serde_json::Value,
}

impl Finding {
    /// `namespace/name`, or just the name for cluster-scoped resources.
    pub fn resource_path(&self) -> String {
        if self.resource_namespace.is_empty() {
            self.resource_name.clone()
        } else {
            format!("{}/{}", self.resource_namespace, self.resource_name)
        }
    }
}

#[cfg(test)]
mod counted_tests {
    use super::counted;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1, "day", "days"), "1 day");
        assert_eq!(counted(-1_i64, "day", "days"), "-1 day");
        assert_eq!(counted(0, "day", "days"), "0 days");
        assert_eq!(counted(-70_i64, "day", "days"), "-70 days");
        assert_eq!(counted(11_usize, "check", "checks"), "11 checks");
    }
}
