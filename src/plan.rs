//! The run plan: the one settings value (file ⊕ `EKSUP_*` ⊕ flags, validated at load) turned
//! into the validated work a command does — one cluster for `analyze` and `playbook`; a list
//! of clusters or a fleet for `run`.

use std::fmt::Write as _;
use std::path::Path;

use crate::collect::ClusterRef;
use crate::config::{self, Settings};
use crate::run::fleet::{FleetPlan, Shard};
use crate::run::{Error, Job, Source, Work};
use crate::version::KubeVersion;

const NO_CLUSTER: &str = "no cluster given: pass --cluster NAME (or set `cluster` / EKSUP_CLUSTER), --snapshot FILE, or --no-aws with --kubeconfig";

/// The top-level cluster of the settings (what `analyze` and `playbook` read), or the
/// snapshot to load instead.
pub fn single_job(settings: &Settings, snapshot: Option<&Path>) -> Result<Job, Error> {
    let top_level = config::ClusterSettings {
        cluster: settings.cluster.clone(),
        region: settings.region.clone(),
        profile: settings.profile.clone(),
        target_version: settings.target_version,
        kubeconfig: settings.kubeconfig.clone(),
        context: settings.context.clone(),
        in_cluster: settings.in_cluster,
        no_aws: settings.no_aws,
        snapshot: snapshot.map(Path::to_path_buf),
    };
    job(&top_level, settings, NO_CLUSTER)
}

/// The job of one cluster's settings; unset fields fall back to the top level (where the
/// flags already are). `no_cluster` is the message when AWS is used but no cluster is named.
fn job(t: &config::ClusterSettings, s: &Settings, no_cluster: &str) -> Result<Job, Error> {
    let source = match &t.snapshot {
        Some(path) => Source::Snapshot(path.clone()),
        None => {
            let cluster = ClusterRef {
                name: t.cluster.clone(),
                region: t.region.clone().or(s.region.clone()),
                profile: t.profile.clone().or(s.profile.clone()),
                use_aws: !t.no_aws,
                kubeconfig: t.kubeconfig.clone(),
                context: t.context.clone(),
                in_cluster: t.in_cluster,
            };
            if cluster.use_aws && cluster.name.is_none() {
                return Err(Error::Usage(no_cluster.into()));
            }
            Source::Cluster(cluster)
        }
    };
    Ok(Job {
        source,
        target_version: t.target_version.or(s.target_version),
    })
}

/// The work of `eksup run`: the flags' one cluster, else the fleet, else the `clusters` list, else
/// the top-level `cluster` (the in-cluster CronJob sets EKSUP_CLUSTER and EKSUP_IN_CLUSTER).
pub fn run_work(
    settings: &Settings,
    flags_name_a_cluster: bool,
    snapshot: Option<&Path>,
) -> Result<Work, Error> {
    if flags_name_a_cluster {
        return Ok(Work::Clusters(vec![single_job(settings, snapshot)?]));
    }
    if let Some(fleet) = &settings.fleet {
        return Ok(Work::Fleet(Box::new(FleetPlan::new(
            fleet,
            settings.target_version,
            runner_region(settings.region.as_deref(), |k| std::env::var(k).ok()).as_deref(),
        )?)));
    }
    if !settings.clusters.is_empty() {
        let jobs = settings
            .clusters
            .iter()
            .map(|t| {
                job(
                    t,
                    settings,
                    "a `clusters` entry names no cluster: set `cluster` (or `snapshot`)",
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Work::Clusters(jobs));
    }
    if settings.cluster.is_some() || settings.in_cluster {
        return Ok(Work::Clusters(vec![single_job(settings, None)?]));
    }
    Err(Error::Usage(
        "nothing to analyze: pass --cluster/--snapshot, set EKSUP_CLUSTER, or configure `clusters` or `fleet`".into(),
    ))
}

/// The runner's region as the AWS SDK will resolve it, for the partition of the ARNs the
/// plan builds: `region`, else the SDK's environment variables. A region only in a profile
/// file is not seen here (it is commercial `aws` then); set `region` in that case.
fn runner_region(configured: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    configured
        .map(str::to_string)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|r| !r.is_empty())
}

/// `eksup run --dry-run`: the plan in words, from the settings alone (no API is called).
pub fn describe(work: &Work, shard: Shard, settings: &Settings, outputs: &[String]) -> String {
    let mut out = String::new();
    let version = |v: Option<KubeVersion>| {
        v.map_or_else(
            || "the next minor of each control plane".to_string(),
            |v| v.to_string(),
        )
    };
    match work {
        Work::Clusters(jobs) => {
            let _ = writeln!(out, "clusters: {}", jobs.len());
            for job in jobs {
                let what = match &job.source {
                    Source::Snapshot(p) => format!("snapshot {}", p.display()),
                    Source::Cluster(c) => {
                        let name = c.name.as_deref().unwrap_or("in-cluster");
                        let via = match c.explicit_connection() {
                            Some(crate::collect::Connection::InCluster) => {
                                " (in-cluster service account)"
                            }
                            Some(_) => " (kubeconfig)",
                            None => " (EKS endpoint and token)",
                        };
                        let region = c.region.as_deref().unwrap_or("the default region");
                        if c.use_aws {
                            format!("EKS cluster {name} in {region}{via}")
                        } else {
                            format!("Kubernetes only: {name}{via}")
                        }
                    }
                };
                let _ = writeln!(out, "  - {what}, target {}", version(job.target_version));
            }
        }
        Work::Fleet(plan) => {
            let _ = write!(out, "{}", plan.describe());
            let _ = writeln!(out, "target version: {}", version(plan.target_version));
        }
    }
    let _ = writeln!(out, "shard: {shard}");
    let _ = writeln!(
        out,
        "runner: profile {}, region {}",
        settings.profile.as_deref().unwrap_or("(default chain)"),
        settings
            .region
            .as_deref()
            .unwrap_or("(from the AWS configuration)")
    );
    let _ = writeln!(out, "outputs:");
    for o in outputs {
        let _ = writeln!(out, "  - {o}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runner_region_is_the_configured_one_else_the_sdks_variables() {
        let env = |k: &str| match k {
            "AWS_REGION" => Some("cn-north-1".to_string()),
            "AWS_DEFAULT_REGION" => Some("us-gov-west-1".to_string()),
            _ => None,
        };
        assert_eq!(
            runner_region(Some("eu-west-1"), env).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(runner_region(None, env).as_deref(), Some("cn-north-1"));
        let only_default =
            |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "us-gov-west-1".to_string());
        assert_eq!(
            runner_region(None, only_default).as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(runner_region(None, |_| Some(String::new())), None);
    }
}
