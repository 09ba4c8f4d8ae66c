//! The analysis shared by `analyze` and `playbook`: options → snapshot (collected or loaded)
//! → checks → report; and the `analyze` command's output and exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::checks::{CheckSettings, evaluate};
use crate::cli::{AnalyzeArgs, ClusterArgs};
use crate::collect::{self, Target};
use crate::config::{self, FailOn, Format, Settings, TargetSettings};
use crate::error::{Error, exit};
use crate::finding::Remediation;
use crate::render::render;
use crate::report::Report;
use crate::snapshot::Snapshot;
use crate::version::{KubeVersion, SupportCalendar, resolve_target};

/// Where the snapshot comes from.
#[derive(Debug)]
pub enum Input {
    Cluster(Target),
    Snapshot(PathBuf),
}

/// Validated choice of cluster and evaluation: flags over environment over file over defaults.
#[derive(Debug)]
pub struct Selection {
    pub input: Input,
    pub target_version: Option<KubeVersion>,
    pub save_snapshot: Option<PathBuf>,
    /// The day support windows are measured from (default: today).
    pub as_of: Option<chrono::NaiveDate>,
    pub checks: CheckSettings,
}

impl Selection {
    /// The selection of one target; unset fields fall back to the top-level settings.
    pub fn for_target(
        t: &TargetSettings,
        settings: &Settings,
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<Self, Error> {
        let target_version = t
            .target_version
            .as_deref()
            .or(settings.target_version.as_deref())
            .map(str::parse)
            .transpose()?;
        let input = match &t.snapshot {
            Some(path) => Input::Snapshot(path.clone()),
            None => {
                let target = Target {
                    cluster: t.cluster.clone(),
                    region: t.region.clone().or(settings.region.clone()),
                    profile: t.profile.clone().or(settings.profile.clone()),
                    use_aws: !t.no_aws,
                    kubeconfig: t.kubeconfig.clone(),
                    context: t.context.clone(),
                    in_cluster: t.in_cluster,
                    target_version,
                };
                if target.use_aws && target.cluster.is_none() {
                    return Err(Error::Usage(
                        "no cluster given: pass --cluster NAME (or set `cluster` / EKSUP_CLUSTER), --snapshot FILE, or --no-aws with --kubeconfig".into(),
                    ));
                }
                Input::Cluster(target)
            }
        };
        Ok(Self {
            input,
            target_version,
            save_snapshot: None,
            as_of,
            checks: settings.checks.clone(),
        })
    }

    /// Reads the configuration (file from `--config` or the working directory, then the
    /// environment) and lays the flags over it.
    pub fn resolve(args: ClusterArgs, cwd: &Path) -> Result<(Self, Settings), Error> {
        let file = config::find_file(args.config.as_deref(), cwd);
        let settings = config::load(file.as_deref(), None)?;
        let target = TargetSettings {
            cluster: args.cluster.or(settings.cluster.clone()),
            region: args.region,
            profile: args.profile,
            target_version: args.target_version.map(|v| v.to_string()),
            kubeconfig: args.kubeconfig.or(settings.kubeconfig.clone()),
            context: args.context.or(settings.context.clone()),
            in_cluster: args.in_cluster || settings.in_cluster,
            no_aws: args.no_aws || settings.no_aws,
            snapshot: args.snapshot,
        };
        let mut selection = Self::for_target(&target, &settings, args.as_of)?;
        selection.save_snapshot = args.save_snapshot;
        Ok((selection, settings))
    }
}

/// A snapshot and the report evaluated from it.
#[derive(Debug)]
pub struct Analysis {
    pub snapshot: Snapshot,
    pub report: Report,
    pub as_of: chrono::NaiveDate,
}

/// Reads (or loads) the cluster, evaluates every check and builds the report.
pub async fn analyze(selection: &Selection, ignore_recommended: bool) -> Result<Analysis, Error> {
    let snapshot = match &selection.input {
        Input::Snapshot(path) => Snapshot::load(path)?,
        Input::Cluster(target) => collect::collect(target).await?,
    };
    // Saved before anything else can fail, so what was read is never lost.
    if let Some(path) = &selection.save_snapshot {
        snapshot.save(path)?;
        tracing::info!(path = %path.display(), "saved the snapshot");
    }
    let api_calendar = snapshot
        .aws
        .as_ref()
        .map(|a| a.cluster_versions.as_slice())
        .unwrap_or_default();
    let calendar = SupportCalendar::embedded().with_api(api_calendar);
    let target = resolve_target(
        snapshot.cluster.version,
        selection.target_version,
        &calendar,
    )?;
    let as_of = selection
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let evaluation = evaluate(&snapshot, target, &selection.checks, &calendar, as_of);
    let report = Report::new(
        &snapshot,
        target,
        evaluation,
        ignore_recommended,
        &calendar,
        as_of,
    );
    for e in &report.collection_errors {
        tracing::warn!(source = %e.source, "{}", e.message);
    }
    Ok(Analysis {
        snapshot,
        report,
        as_of,
    })
}

/// `eksup analyze`: prints the report and returns the exit code.
pub async fn run(args: AnalyzeArgs, cwd: &Path) -> Result<u8, Error> {
    let (selection, settings) = Selection::resolve(args.cluster, cwd)?;
    let ignore_recommended = args.ignore_recommended || settings.ignore_recommended;
    let format = args.format.or(settings.format).unwrap_or(Format::Text);
    let fail_on = args.fail_on.or(settings.fail_on);
    let Analysis { report, .. } = analyze(&selection, ignore_recommended).await?;
    write_output(&render(&report, format), args.output.as_deref())?;
    let failed = match fail_on {
        Some(FailOn::Required) => report.has_findings_at(Remediation::Required),
        Some(FailOn::Recommended) => report.has_findings_at(Remediation::Recommended),
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
