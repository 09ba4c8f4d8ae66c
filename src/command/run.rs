//! `eksup run`: the flags over the settings → the work and the run's options; `--dry-run`
//! prints the plan; otherwise [`crate::run::batch::run`] does it.

use std::path::{Path, PathBuf};

use super::{Error, settings};
use crate::cli::{ClusterArgs, RunArgs};
use crate::config::Settings;
use crate::error::exit;
use crate::output::sink::s3::S3Settings;
use crate::plan;
use crate::run::analyze::Evaluation;
use crate::run::batch::{self, Options, Outputs};
use crate::run::fleet::Shard;

/// Whether the command line names a cluster itself (the one-cluster shortcut).
fn flags_name_a_cluster(a: &ClusterArgs) -> bool {
    a.cluster.is_some()
        || a.snapshot.is_some()
        || a.kubeconfig.is_some()
        || a.context.is_some()
        || a.in_cluster
        || a.no_aws
}

/// Where a run writes when no output is configured.
const DEFAULT_DIRECTORY: &str = "eksup-out";

/// Where the run writes: `--output-dir` and `--s3` over `outputs`.
fn outputs(
    settings: &Settings,
    output_dir: Option<PathBuf>,
    s3: Option<String>,
    no_stdout: bool,
) -> Result<Outputs, Error> {
    let outputs = &settings.outputs;
    let s3 = match s3 {
        Some(url) => {
            let mut s = S3Settings::from_url(&url).map_err(Error::usage)?;
            if let Some(configured) = &outputs.s3 {
                s.kms_key_id = configured.kms_key_id.clone();
                s.expected_bucket_owner = configured.expected_bucket_owner.clone();
                s.force_path_style = configured.force_path_style;
                s.multipart_threshold_bytes = configured.multipart_threshold_bytes;
            }
            Some(s)
        }
        None => outputs.s3.clone(),
    };
    // With no output configured at all, write locally so a first run is useful anywhere.
    // `stdout: true` alone is an output: the CronJob's JSON lines on a read-only root.
    let stdout_asked = !no_stdout && outputs.stdout == Some(true);
    let nothing_configured = s3.is_none() && outputs.emf.is_none() && !stdout_asked;
    let directory = output_dir
        .or(outputs.directory.clone())
        .or_else(|| nothing_configured.then(|| PathBuf::from(DEFAULT_DIRECTORY)));
    Ok(Outputs {
        directory,
        stdout: !no_stdout && outputs.stdout.unwrap_or(true),
        emf: outputs.emf.clone(),
        fleet_page: outputs.fleet_page,
        batch: outputs.batch,
        s3,
    })
}

/// `writer`, else the host name: names this writer's objects.
fn writer_name(settings: &Settings) -> String {
    settings
        .writer
        .clone()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "eksup".into())
}

pub async fn run(args: RunArgs, cwd: &Path) -> Result<u8, Error> {
    let settings = settings(&args.cluster, cwd)?;
    let work = plan::run_work(
        &settings,
        flags_name_a_cluster(&args.cluster),
        args.cluster.snapshot.as_deref(),
    )?;
    let shard = Shard::resolve(args.shard, |k| std::env::var(k).ok()).map_err(Error::usage)?;
    let outputs = outputs(&settings, args.output_dir, args.s3, args.no_stdout)?;
    if args.dry_run {
        print!(
            "{}",
            plan::describe(&work, shard, &settings, &outputs.describe())
        );
        return Ok(exit::OK);
    }
    let mut writer = writer_name(&settings);
    if shard.count > 1 {
        writer = format!("{writer}-shard-{}-of-{}", shard.index, shard.count);
    }
    let options = Options {
        outputs,
        shard,
        writer,
        profile: settings.profile.clone(),
        region: settings.region.clone(),
        grace: std::time::Duration::from_secs(
            settings
                .shutdown_grace_seconds
                .unwrap_or(crate::run::shutdown::DEFAULT_GRACE_SECONDS),
        ),
        how: Evaluation {
            checks: settings.checks.clone(),
            collect: settings.collect,
            as_of: args.cluster.as_of,
            ignore_recommended: false,
        },
    };
    Ok(batch::run(work, options).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::OutputSettings;
    use crate::output::sink::emf::EmfSettings;

    fn written(outputs_section: OutputSettings, dir: Option<&str>, no_stdout: bool) -> Outputs {
        let settings = Settings {
            outputs: outputs_section,
            ..Default::default()
        };
        outputs(&settings, dir.map(PathBuf::from), None, no_stdout).unwrap()
    }

    /// `./eksup-out` only when nothing at all says where to write: a stdout-only
    /// configuration (the base CronJob's, on a read-only root) writes no file.
    #[test]
    fn the_local_directory_is_the_default_only_without_any_output() {
        let local = Some(PathBuf::from(DEFAULT_DIRECTORY));
        let o = written(OutputSettings::default(), None, false);
        assert_eq!((o.directory, o.stdout), (local.clone(), true));

        let stdout_only = OutputSettings {
            stdout: Some(true),
            ..Default::default()
        };
        let o = written(stdout_only.clone(), None, false);
        assert_eq!((o.directory, o.stdout), (None, true));
        // --no-stdout over `stdout: true` leaves nothing configured: write locally.
        let o = written(stdout_only, None, true);
        assert_eq!((o.directory, o.stdout), (local.clone(), false));

        let emf_only = OutputSettings {
            emf: Some(EmfSettings::default()),
            ..Default::default()
        };
        assert_eq!(written(emf_only, None, false).directory, None);
        let s3 = OutputSettings {
            s3: Some(S3Settings::from_url("s3://b/p").unwrap()),
            ..Default::default()
        };
        assert_eq!(written(s3, None, false).directory, None);
        // `stdout: false` and nothing else: the results still go somewhere.
        let quiet = OutputSettings {
            stdout: Some(false),
            ..Default::default()
        };
        let o = written(quiet, None, false);
        assert_eq!((o.directory, o.stdout), (local, false));
        let o = written(OutputSettings::default(), Some("out"), false);
        assert_eq!(o.directory, Some(PathBuf::from("out")));
    }
}
