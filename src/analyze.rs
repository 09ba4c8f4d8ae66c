//! `eksup analyze`: options → snapshot (collected or loaded) → checks → report → output.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::checks::{CheckSettings, evaluate};
use crate::cli::AnalyzeArgs;
use crate::collect::{self, Target};
use crate::config::{self, FailOn, Format};
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

/// Validated options of one `analyze` run: flags over environment over file over defaults.
#[derive(Debug)]
pub struct Options {
    pub input: Input,
    pub target_version: Option<KubeVersion>,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub ignore_recommended: bool,
    pub fail_on: Option<FailOn>,
    pub save_snapshot: Option<PathBuf>,
    /// The day support windows are measured from (default: today).
    pub as_of: Option<chrono::NaiveDate>,
    pub checks: CheckSettings,
}

impl Options {
    pub fn resolve(args: AnalyzeArgs, cwd: &Path) -> Result<Self, Error> {
        let file = config::find_file(args.config.as_deref(), cwd);
        let settings = config::load(file.as_deref(), None)?;
        let target_version = match args.target_version {
            Some(v) => Some(v),
            None => settings
                .target_version
                .as_deref()
                .map(str::parse)
                .transpose()?,
        };
        let input = match args.snapshot {
            Some(path) => Input::Snapshot(path),
            None => {
                let target = Target {
                    cluster: args.cluster.or(settings.cluster),
                    region: args.region.or(settings.region),
                    profile: args.profile.or(settings.profile),
                    use_aws: !(args.no_aws || settings.no_aws),
                    kubeconfig: args.kubeconfig.or(settings.kubeconfig),
                    context: args.context.or(settings.context),
                    in_cluster: args.in_cluster || settings.in_cluster,
                    target_version,
                };
                if target.use_aws && target.cluster.is_none() {
                    return Err(Error::Usage(
                        "no cluster given: pass --cluster NAME, --snapshot FILE, or --no-aws with --kubeconfig".into(),
                    ));
                }
                Input::Cluster(target)
            }
        };
        Ok(Self {
            input,
            target_version,
            format: args.format.or(settings.format).unwrap_or(Format::Text),
            output: args.output,
            ignore_recommended: args.ignore_recommended || settings.ignore_recommended,
            fail_on: args.fail_on.or(settings.fail_on),
            save_snapshot: args.save_snapshot,
            as_of: args.as_of,
            checks: settings.checks,
        })
    }
}

/// Runs `analyze` and returns the exit code.
pub async fn run(options: Options) -> Result<u8, Error> {
    let snapshot = match &options.input {
        Input::Snapshot(path) => Snapshot::load(path)?,
        Input::Cluster(target) => collect::collect(target).await?,
    };
    // Saved before anything else can fail, so what was read is never lost.
    if let Some(path) = &options.save_snapshot {
        snapshot.save(path)?;
        tracing::info!(path = %path.display(), "saved the snapshot");
    }
    let api_calendar = snapshot
        .aws
        .as_ref()
        .map(|a| a.cluster_versions.as_slice())
        .unwrap_or_default();
    let calendar = SupportCalendar::embedded().with_api(api_calendar);
    let target = resolve_target(snapshot.cluster.version, options.target_version, &calendar)?;
    let today = options
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let evaluation = evaluate(&snapshot, target, &options.checks, &calendar, today);
    let report = Report::new(
        &snapshot,
        target,
        evaluation,
        options.ignore_recommended,
        &calendar,
        today,
    );
    write_output(&render(&report, options.format), options.output.as_deref())?;
    for e in &report.collection_errors {
        tracing::warn!(source = %e.source, "{}", e.message);
    }
    let failed = match options.fail_on {
        Some(FailOn::Required) => report.has_findings_at(Remediation::Required),
        Some(FailOn::Recommended) => report.has_findings_at(Remediation::Recommended),
        None => false,
    };
    Ok(if failed { exit::FINDINGS } else { exit::OK })
}

fn write_output(text: &str, path: Option<&Path>) -> Result<(), Error> {
    match path {
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
