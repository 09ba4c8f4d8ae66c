//! `eksup run`: the scheduled batch job. It analyzes each target, then writes one batch of
//! rows (findings, clusters), the full reports, and JSON lines on stdout.
//!
//! A target that cannot be read still gets a `clusters` row with `status = error`; a sink
//! that fails is reported and the others are still written; either makes the exit code 3.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{SubsecRound, Utc};
use uuid::Uuid;

use crate::analyze::{self, Input, Selection};
use crate::cli::{ClusterArgs, RunArgs};
use crate::config::{self, Settings, TargetSettings};
use crate::error::{Error, exit};
use crate::sink::s3::{S3Settings, S3Sink};
use crate::sink::{self, Batch, Layout, Sinks};
use crate::tables;

/// tracing target of the JSON lines `eksup run` prints on stdout.
pub const EVENTS: &str = "eksup::events";

/// Whether the command line names a target itself (the one-target shortcut).
fn flags_name_a_target(a: &ClusterArgs) -> bool {
    a.cluster.is_some()
        || a.snapshot.is_some()
        || a.kubeconfig.is_some()
        || a.context.is_some()
        || a.in_cluster
        || a.no_aws
}

/// The targets: the flags' one target, else `targets` from the configuration, else the
/// top-level `cluster` (the in-cluster CronJob sets EKSUP_CLUSTER and EKSUP_IN_CLUSTER).
fn selections(args: ClusterArgs, cwd: &Path) -> Result<(Vec<Selection>, Settings), Error> {
    if flags_name_a_target(&args) {
        let (selection, settings) = Selection::resolve(args, cwd)?;
        return Ok((vec![selection], settings));
    }
    let as_of = args.as_of;
    let file = config::find_file(args.config.as_deref(), cwd);
    let mut settings = config::load(file.as_deref(), None)?;
    // Flags that are not a target themselves still win over the configuration's defaults.
    settings.region = args.region.or(settings.region);
    settings.profile = args.profile.or(settings.profile);
    settings.target_version = args
        .target_version
        .map(|v| v.to_string())
        .or(settings.target_version);
    let mut list: Vec<TargetSettings> = settings.targets.clone();
    if list.is_empty() && (settings.cluster.is_some() || settings.in_cluster) {
        list.push(TargetSettings {
            cluster: settings.cluster.clone(),
            region: settings.region.clone(),
            profile: settings.profile.clone(),
            kubeconfig: settings.kubeconfig.clone(),
            context: settings.context.clone(),
            in_cluster: settings.in_cluster,
            no_aws: settings.no_aws,
            ..Default::default()
        });
    }
    if list.is_empty() {
        return Err(Error::Usage(
            "no target: pass --cluster/--snapshot, set EKSUP_CLUSTER, or list `targets` in the configuration".into(),
        ));
    }
    let selections = list
        .iter()
        .map(|t| Selection::for_target(t, &settings, as_of))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok((selections, settings))
}

fn target_label(selection: &Selection) -> (String, Option<String>) {
    match &selection.input {
        Input::Cluster(t) => (
            t.cluster.clone().unwrap_or_else(|| "in-cluster".into()),
            t.region.clone(),
        ),
        Input::Snapshot(p) => (p.display().to_string(), None),
    }
}

fn emit_events(report: &crate::report::Report, row: &tables::ClusterRow, stdout: bool) {
    if !stdout {
        return;
    }
    let m = &report.metadata;
    for f in &report.findings {
        tracing::info!(
            target: EVENTS,
            event = "finding",
            run_id = %m.run_id,
            account_id = m.account_id.as_deref().unwrap_or_default(),
            region = m.region.as_deref().unwrap_or_default(),
            cluster = %m.cluster_name,
            current_version = %m.current_version,
            target_version = %m.target_version,
            code = %f.code,
            title = %f.title,
            remediation = f.remediation.as_str(),
            category = f.category.as_str(),
            resource_kind = %f.resource_kind,
            resource_namespace = %f.resource_namespace,
            resource_name = %f.resource_name,
            "{}",
            f.message
        );
    }
    emit_summary(row, true);
}

fn emit_summary(row: &tables::ClusterRow, stdout: bool) {
    if !stdout {
        return;
    }
    tracing::info!(
        target: EVENTS,
        event = "cluster",
        run_id = %row.run_id,
        account_id = row.account_id.as_deref().unwrap_or_default(),
        region = row.region.as_deref().unwrap_or_default(),
        cluster = %row.cluster_name,
        status = %row.status,
        current_version = row.current_version.as_deref().unwrap_or_default(),
        target_version = row.target_version.as_deref().unwrap_or_default(),
        required = row.required_findings,
        recommended = row.recommended_findings,
        days_to_end_of_standard_support = row.days_to_end_of_standard_support,
        error = row.error.as_deref().unwrap_or_default(),
        "{} {}: {} required, {} recommended",
        row.cluster_name,
        row.status,
        row.required_findings,
        row.recommended_findings
    );
}

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

/// `eksup run`; returns the exit code.
pub async fn run(args: RunArgs, cwd: &Path) -> Result<u8, Error> {
    let RunArgs {
        cluster,
        output_dir,
        s3,
        no_stdout,
    } = args;
    let (selections, settings) = selections(cluster, cwd)?;
    let outputs = &settings.outputs;
    let s3_settings = match s3 {
        Some(url) => {
            let mut s = S3Settings::from_url(&url).map_err(Error::Usage)?;
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
    let directory: Option<PathBuf> = output_dir.or(outputs.directory.clone()).or_else(|| {
        // With no output configured at all, write locally so the job is useful anywhere.
        s3_settings.is_none().then(|| PathBuf::from("eksup-out"))
    });
    let stdout = !no_stdout && outputs.stdout.unwrap_or(true);

    let run_id = Uuid::now_v7();
    // Milliseconds, the precision of the Parquet column, so JSON lines and Parquet agree.
    let run_time = Utc::now().trunc_subsecs(3);
    let mut batch = Batch::default();
    let mut failed_targets = 0;
    for selection in &selections {
        let started = Instant::now();
        match analyze::analyze(selection, false).await {
            Ok(mut analysis) => {
                analysis.report.metadata.run_id = run_id;
                let elapsed = started.elapsed().as_millis() as i64;
                let row =
                    tables::cluster_row(&analysis.report, &analysis.snapshot, run_time, elapsed);
                emit_events(&analysis.report, &row, stdout);
                batch
                    .findings
                    .extend(tables::finding_rows(&analysis.report, run_time));
                batch.clusters.push(row);
                batch.reports.push(analysis.report);
            }
            Err(e)
                if e.exit_code() == exit::USAGE
                    && matches!(selection.input, Input::Snapshot(_)) =>
            {
                return Err(e);
            }
            Err(e) => {
                failed_targets += 1;
                let (name, region) = target_label(selection);
                tracing::error!("{name}: {e}");
                let row = tables::error_row(
                    &run_id.to_string(),
                    run_time,
                    &name,
                    region,
                    e.to_string(),
                    started.elapsed().as_millis() as i64,
                );
                emit_summary(&row, stdout);
                batch.clusters.push(row);
            }
        }
    }

    let layout = Layout::new(
        s3_settings.as_ref().map_or("", |s| s.prefix.as_str()),
        run_time,
        &run_id.to_string(),
        &writer_name(&settings),
    );
    let objects = sink::encode(&batch, &layout).map_err(Error::Render)?;
    let s3_sink = match s3_settings {
        Some(s) => {
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .load()
                .await;
            Some(S3Sink::new(&sdk, s))
        }
        None => None,
    };
    let written = sink::write(
        &objects,
        &Sinks {
            directory: directory.clone(),
            s3: s3_sink,
        },
    )
    .await;
    for e in &written.errors {
        eprintln!("error: {e}");
    }
    sink::emf::emit(
        outputs.emf.as_ref(),
        &run_id.to_string(),
        run_time,
        &batch.clusters,
    );
    let ok = batch
        .clusters
        .iter()
        .filter(|c| c.status != "error")
        .count();
    eprintln!(
        "run {run_id}: {ok} of {} cluster(s) analyzed, {} finding(s); wrote {} object(s){}",
        batch.clusters.len(),
        batch.findings.len(),
        written.locations.len(),
        directory
            .map(|d| format!(" under {}", d.display()))
            .unwrap_or_default()
    );
    for location in &written.locations {
        tracing::info!("wrote {location}");
    }
    Ok(if failed_targets > 0 || !written.errors.is_empty() {
        exit::FAILURE
    } else {
        exit::OK
    })
}

/// `eksup schema`.
pub fn schema(format: crate::cli::SchemaFormat) -> String {
    match format {
        crate::cli::SchemaFormat::GlueJson => {
            let mut s = serde_json::to_string_pretty(&tables::glue_json()).expect("serializes");
            s.push('\n');
            s
        }
        crate::cli::SchemaFormat::Ddl => tables::athena_ddl(),
    }
}
