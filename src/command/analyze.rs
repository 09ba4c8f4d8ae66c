//! `eksup analyze`: one cluster (or snapshot) → the report as text or JSON, and the
//! `--fail-on` gate as exit code 1.

use std::path::Path;

use super::{Error, settings, write_output};
use crate::cli::{AnalyzeArgs, ClusterArgs};
use crate::config::Settings;
use crate::error::exit;
use crate::output::render::{Format, render};
use crate::plan;
use crate::run::Job;
use crate::run::analyze::{Analysis, Evaluation, analyze};

/// The one job of `analyze` and `playbook`, with how to evaluate it, and the settings it
/// came from.
pub fn one_job(args: &ClusterArgs, cwd: &Path) -> Result<(Job, Evaluation, Settings), Error> {
    let settings = settings(args, cwd)?;
    let job = plan::single_job(&settings, args.snapshot.as_deref())?;
    let how = Evaluation {
        checks: settings.checks.clone(),
        collect: settings.collect,
        as_of: args.as_of,
        ignore_recommended: settings.ignore_recommended,
    };
    Ok((job, how, settings))
}

/// Prints the report and returns the exit code.
pub async fn run(args: AnalyzeArgs, cwd: &Path) -> Result<u8, Error> {
    let (job, mut how, settings) = one_job(&args.cluster, cwd)?;
    how.ignore_recommended |= args.ignore_recommended;
    let format = args.format.or(settings.format).unwrap_or(Format::Text);
    let fail_on = args.fail_on.or(settings.fail_on);
    let save = args.cluster.save_snapshot.as_deref();
    let Analysis { report, .. } = analyze(&job, &how, save).await?;
    write_output(&render(&report, format), args.output.as_deref())?;
    let failed = fail_on.is_some_and(|gate| report.fails(gate));
    Ok(if failed { exit::FINDINGS } else { exit::OK })
}
