//! The work the run layer does: one cluster (a [`Job`]), or what `eksup run` does (a list of
//! jobs or a fleet plan). Built and validated by [`crate::plan`] from the settings.

use std::path::PathBuf;

use crate::collect::ClusterRef;
use crate::run::fleet::FleetPlan;
use crate::version::KubeVersion;

/// Where a job's snapshot comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Cluster(ClusterRef),
    Snapshot(PathBuf),
}

/// One cluster to analyze, validated.
#[derive(Debug, Clone)]
pub struct Job {
    pub source: Source,
    /// The Kubernetes version to upgrade to (default: the control plane's next minor).
    pub target_version: Option<KubeVersion>,
}

impl Job {
    /// The cluster name and region to put in an error row when the job fails.
    pub fn label(&self) -> (String, Option<String>) {
        match &self.source {
            Source::Cluster(c) => (
                c.name.clone().unwrap_or_else(|| "in-cluster".into()),
                c.region.clone(),
            ),
            Source::Snapshot(p) => (p.display().to_string(), None),
        }
    }
}

/// What `eksup run` does.
#[derive(Debug)]
pub enum Work {
    Clusters(Vec<Job>),
    Fleet(Box<FleetPlan>),
}

impl Work {
    /// What the run sets out to do, as its manifest records it.
    pub fn summary(&self) -> serde_json::Value {
        use crate::run::fleet::plan::Accounts;
        match self {
            Work::Clusters(jobs) => serde_json::json!({
                "kind": "clusters",
                "clusters": jobs.iter().map(|j| j.label().0).collect::<Vec<_>>(),
            }),
            Work::Fleet(plan) => {
                let accounts = match &plan.accounts {
                    Accounts::Listed(list) => {
                        serde_json::json!(list.iter().map(|a| a.id.as_str()).collect::<Vec<_>>())
                    }
                    Accounts::Organization(org) => serde_json::json!({
                        "organization": {"ou_ids": org.ou_ids, "exclude": org.exclude},
                    }),
                };
                serde_json::json!({
                    "kind": "fleet",
                    "accounts": accounts,
                    "regions": plan.regions,
                    "concurrency": plan.concurrency,
                    "cluster_timeout_seconds": plan.cluster_timeout.as_secs(),
                    "target_version": plan.target_version.map(|v| v.to_string()),
                })
            }
        }
    }
}
