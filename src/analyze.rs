//! The analysis shared by `analyze`, `playbook` and `run`: a job → snapshot (collected or
//! loaded) → checks → report; and the `analyze` command's output and exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::checks::{CheckSettings, Readiness, evaluate};
use crate::cli::AnalyzeArgs;
use crate::collect;
use crate::config::{FailOn, Format};
use crate::error::{Error, exit};
use crate::finding::Remediation;
use crate::plan::{self, Job, Source};
use crate::render::render;
use crate::report::Report;
use crate::snapshot::Snapshot;
use crate::version::{KubeVersion, SupportCalendar, resolve_target};

/// How a snapshot is evaluated: the same for every cluster of a run.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub checks: CheckSettings,
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

/// Reads (or loads) the job's cluster, saves the snapshot if asked, and evaluates it.
pub async fn analyze(
    job: &Job,
    how: &Evaluation,
    save_snapshot: Option<&Path>,
) -> Result<Analysis, Error> {
    let snapshot = match &job.source {
        Source::Snapshot(path) => Snapshot::load(path)?,
        Source::Cluster(cluster) => {
            collect::collect(cluster, job.target_version, (&how.checks).into()).await?
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

/// The one job of `analyze` and `playbook`, with how to evaluate it and where to save the
/// snapshot.
pub fn one_job(
    args: &crate::cli::ClusterArgs,
    cwd: &Path,
) -> Result<(Job, Evaluation, crate::config::Settings), Error> {
    let settings = plan::settings(args, cwd)?;
    let job = plan::single_job(&settings, args.snapshot.as_deref())?;
    let how = Evaluation {
        checks: settings.checks.clone(),
        as_of: args.as_of,
        ignore_recommended: settings.ignore_recommended,
    };
    Ok((job, how, settings))
}

/// `eksup analyze`: prints the report and returns the exit code.
pub async fn run(args: AnalyzeArgs, cwd: &Path) -> Result<u8, Error> {
    let (job, mut how, settings) = one_job(&args.cluster, cwd)?;
    how.ignore_recommended |= args.ignore_recommended;
    let format = args.format.or(settings.format).unwrap_or(Format::Text);
    let fail_on = args.fail_on.or(settings.fail_on);
    let save: Option<PathBuf> = args.cluster.save_snapshot.clone();
    let Analysis { report, .. } = analyze(&job, &how, save.as_deref()).await?;
    write_output(&render(&report, format), args.output.as_deref())?;
    let failed = match fail_on {
        Some(FailOn::Required) => report.has_findings_at(Remediation::Required),
        Some(FailOn::Recommended) => report.has_findings_at(Remediation::Recommended),
        Some(FailOn::Unknown) => report.metadata.readiness != Readiness::Ready,
        None => false,
    };
    Ok(if failed { exit::FINDINGS } else { exit::OK })
}

/// Writes `text` to `path`, or to stdout when `path` is `None` or `-`.
pub fn write_output(text: &str, path: Option<&Path>) -> Result<(), Error> {
    match path.filter(|p| p.as_os_str() != "-") {
        Some(p) => std::fs::write(p, text).map_err(|source| Error::Output {
            path: p.display().to_string(),
            source,
        }),
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`eksup … | head`) is not an error worth a non-zero exit.
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
                    path: "stdout".into(),
                    source: e,
                }),
                _ => Ok(()),
            }
        }
    }
}
