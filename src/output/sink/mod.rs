//! Sinks for `eksup run`: the same objects to a local directory and/or S3, and one JSON line
//! per finding and per cluster on stdout.
//!
//! One run writes one file per table (Parquet and JSON lines) and one report per cluster.
//! A failing sink is reported and the others are still written.

pub mod emf;
pub mod encode;
pub mod events;
pub mod layout;
pub mod local;
pub mod s3;

use std::path::PathBuf;

use bytes::Bytes;
use futures::StreamExt;

use crate::output::tables::{CLUSTERS, ClusterRow, FINDINGS, FindingRow};
use crate::report::Report;
pub use layout::Layout;

/// Everything one run produced.
#[derive(Debug, Default)]
pub struct Batch {
    pub findings: Vec<FindingRow>,
    pub clusters: Vec<ClusterRow>,
    pub reports: Vec<Report>,
}

/// One object to write: key, body and content type. The body is shared, not copied, by the
/// sinks that write it.
#[derive(Debug)]
pub struct Object {
    pub key: String,
    pub body: Bytes,
    pub content_type: &'static str,
}

/// The full report of one cluster, as its object of the layout.
pub fn report_object(report: &Report, layout: &Layout) -> Object {
    let m = &report.metadata;
    Object {
        key: layout.cluster_report(
            m.account_id.as_deref(),
            m.region.as_deref(),
            &m.cluster_name,
        ),
        body: serde_json::to_vec_pretty(report)
            .expect("a report serializes")
            .into(),
        content_type: "application/json",
    }
}

/// Encodes the batch into the objects of the layout.
pub fn encode(batch: &Batch, layout: &Layout) -> Result<Vec<Object>, String> {
    let findings_json = encode::json_lines(&batch.findings);
    let clusters_json = encode::json_lines(&batch.clusters);
    let mut objects = vec![
        Object {
            key: layout.parquet(FINDINGS.name),
            body: encode::parquet(&FINDINGS, &findings_json)?.into(),
            content_type: "application/vnd.apache.parquet",
        },
        Object {
            key: layout.parquet(CLUSTERS.name),
            body: encode::parquet(&CLUSTERS, &clusters_json)?.into(),
            content_type: "application/vnd.apache.parquet",
        },
        Object {
            key: layout.json_lines(FINDINGS.name),
            body: findings_json.into(),
            content_type: "application/x-ndjson",
        },
        Object {
            key: layout.json_lines(CLUSTERS.name),
            body: clusters_json.into(),
            content_type: "application/x-ndjson",
        },
    ];
    for report in &batch.reports {
        objects.push(report_object(report, layout));
    }
    Ok(objects)
}

/// Where a run writes.
pub struct Sinks {
    pub directory: Option<PathBuf>,
    pub s3: Option<s3::S3Sink>,
}

/// What was written where, and what failed.
#[derive(Debug, Default)]
pub struct Written {
    pub locations: Vec<String>,
    pub errors: Vec<String>,
}

/// Writes every object to every sink; S3 PUTs run a few at a time.
pub async fn write(objects: &[Object], sinks: &Sinks) -> Written {
    let mut out = Written::default();
    if let Some(dir) = &sinks.directory {
        for o in objects {
            match local::put(dir, &o.key, &o.body) {
                Ok(()) => out.locations.push(dir.join(&o.key).display().to_string()),
                Err(e) => out.errors.push(format!("cannot write {e}")),
            }
        }
    }
    if let Some(s3) = &sinks.s3 {
        let results: Vec<(String, Result<(), String>)> = futures::stream::iter(objects)
            .map(|o| async move {
                (
                    o.key.clone(),
                    s3.put(&o.key, o.body.clone(), o.content_type).await,
                )
            })
            .buffer_unordered(4)
            .collect()
            .await;
        for (key, result) in results {
            match result {
                Ok(()) => out
                    .locations
                    .push(format!("s3://{}/{key}", s3.settings.bucket)),
                Err(e) => out.errors.push(format!("cannot write {e}")),
            }
        }
    }
    out
}
