//! The analysis shared by `analyze`, `playbook` and `run`: a job → snapshot (collected or
//! loaded) → checks → report.

use std::path::Path;

use crate::checks::{CheckSettings, evaluate};
use crate::collect;
use crate::collect::kube::Reads;
use crate::collect::kube::settings::CollectSettings;
use crate::report::Report;
use crate::run::{Error, Job, Source};
use crate::snapshot::Snapshot;
use crate::version::{KubeVersion, SupportCalendar, resolve_target};

/// How a cluster is read and its snapshot evaluated: the same for every cluster of a run.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub checks: CheckSettings,
    /// How much of the Kubernetes API is read (`collect:`).
    pub collect: CollectSettings,
    /// The day support windows are measured from (default: today).
    pub as_of: Option<chrono::NaiveDate>,
    pub ignore_recommended: bool,
}

/// A snapshot and the report evaluated from it.
#[derive(Debug)]
pub struct Analysis {
    pub snapshot: Snapshot,
    pub report: Report,
    pub as_of: chrono::NaiveDate,
}

impl Evaluation {
    /// What each cluster's collection reads.
    pub fn reads(&self) -> Reads {
        Reads::new(&self.checks, &self.collect)
    }
}

/// Reads (or loads) the job's cluster, saves the snapshot if asked, and evaluates it.
pub async fn analyze(
    job: &Job,
    how: &Evaluation,
    save_snapshot: Option<&Path>,
) -> Result<Analysis, Error> {
    let snapshot = match &job.source {
        Source::Snapshot(path) => Snapshot::load(path)?,
        Source::Cluster(cluster) => {
            collect::collect(cluster, job.target_version, how.reads()).await?
        }
    };
    // Saved before anything else can fail, so what was read is never lost.
    if let Some(path) = save_snapshot {
        snapshot.save(path)?;
        tracing::info!(path = %path.display(), "saved the snapshot");
    }
    evaluate_snapshot(snapshot, job.target_version, how)
}

/// Evaluates every check on a snapshot and builds the report.
pub fn evaluate_snapshot(
    snapshot: Snapshot,
    target_version: Option<KubeVersion>,
    how: &Evaluation,
) -> Result<Analysis, Error> {
    let api_calendar = snapshot
        .aws
        .as_ref()
        .map(|a| a.cluster_versions.as_slice())
        .unwrap_or_default();
    let calendar = SupportCalendar::embedded().with_api(api_calendar);
    let target = resolve_target(snapshot.cluster.version, target_version, &calendar)?;
    let as_of = how.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let evaluation = evaluate(&snapshot, target, &how.checks, &calendar, as_of);
    let report = Report::new(
        &snapshot,
        target,
        evaluation,
        how.ignore_recommended,
        &calendar,
        as_of,
    );
    for e in &report.collection_errors {
        tracing::warn!(cluster = %report.metadata.cluster_name, source = %e.source, "{}", e.message);
    }
    Ok(Analysis {
        snapshot,
        report,
        as_of,
    })
}
