//! The JSON lines `eksup run` prints on stdout for log aggregators: one `finding` event per
//! finding and one `cluster` event per cluster, with flat, stable field names. They are
//! tracing events of target [`TARGET`]; the logging set-up sends that target, and only it, to
//! stdout as JSON.

use crate::output::sink::manifest::Manifest;
use crate::output::tables::ClusterRow;
use crate::report::Report;

/// tracing target of the stdout events.
pub const TARGET: &str = "eksup::events";

/// One `finding` line per finding of the report, then its `cluster` line.
pub fn report(report: &Report, row: &ClusterRow, stdout: bool) {
    if !stdout {
        return;
    }
    let m = &report.metadata;
    for f in &report.findings {
        tracing::info!(
            target: TARGET,
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
    cluster(row, true);
}

/// The `cluster` line: one per cluster row, errors included.
pub fn cluster(row: &ClusterRow, stdout: bool) {
    if !stdout {
        return;
    }
    let rollback_window_ends = row
        .rollback_window_ends
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    tracing::info!(
        target: TARGET,
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
        readiness = %row.readiness,
        checks_run = row.checks_run,
        checks_skipped = row.checks_skipped,
        rollback_window_ends = rollback_window_ends.as_deref(),
        error = row.error.as_deref().unwrap_or_default(),
        "{} {} {}: {} required, {} recommended",
        row.cluster_name,
        row.status,
        row.readiness,
        row.required_findings,
        row.recommended_findings
    );
}

/// The `run` line at the end: how the run ended and what it wrote (its manifest, without
/// the file list), so a log aggregator sees an interrupted or failed run without S3.
pub fn run(m: &Manifest, stdout: bool) {
    if !stdout {
        return;
    }
    let status = serde_json::to_value(m.status).expect("serializes");
    let status = status.as_str().unwrap_or_default();
    let count = |s: &str| m.clusters.get(s).copied().unwrap_or(0);
    tracing::info!(
        target: TARGET,
        event = "run",
        run_id = %m.run_id,
        writer = %m.writer,
        shard = %m.shard,
        status,
        batches = m.batches,
        files = m.files.len(),
        cluster_rows = m.rows.clusters,
        finding_rows = m.rows.findings,
        clusters_ok = count("ok"),
        clusters_partial = count("partial"),
        clusters_error = count("error"),
        failed = m.failed.len(),
        signal = m.interrupted.as_ref().map_or("", |i| i.signal),
        "run {} {status}",
        m.run_id
    );
}
