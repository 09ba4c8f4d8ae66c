//! Sinks for `eksup run`: the same objects to a local directory and/or S3, and one JSON line
//! per finding and per cluster on stdout.
//!
//! A run writes its rows in batches, each one file per table and format (Parquet and JSON
//! lines), one report per cluster and its manifest. A failing object or sink is reported
//! and every other object is still written.

pub mod emf;
pub mod encode;
pub mod events;
pub mod layout;
pub mod local;
pub mod manifest;
pub mod s3;

use std::path::PathBuf;

use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::output::tables::{CLUSTERS, ClusterRow, FINDINGS, FindingRow, Table};
use crate::report::Report;
pub use layout::Layout;

/// `outputs.batch`: how often a run flushes its rows. A batch is written when it holds this
/// many clusters or its oldest row is this old, whichever comes first, so a run that is
/// killed loses at most the rows of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BatchSettings {
    /// Clusters per batch at most (default 100; at least 1).
    #[serde(deserialize_with = "at_least_one")]
    pub clusters: u32,
    /// Seconds a row waits at most before its batch is written (default 30; at least 1).
    #[serde(deserialize_with = "at_least_one_second")]
    pub seconds: u64,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            clusters: 100,
            seconds: 30,
        }
    }
}

fn at_least_one<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match u32::deserialize(d)? {
        0 => Err(serde::de::Error::custom("a batch holds at least 1 cluster")),
        n => Ok(n),
    }
}

fn at_least_one_second<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match u64::deserialize(d)? {
        0 => Err(serde::de::Error::custom("a batch waits at least 1 second")),
        n => Ok(n),
    }
}

/// One batch of rows: what a run flushes every `outputs.batch` clusters or seconds.
#[derive(Debug, Default)]
pub struct Batch {
    pub findings: Vec<FindingRow>,
    pub clusters: Vec<ClusterRow>,
}

/// One object to write: key, body and content type. The body is shared, not copied, by the
/// sinks that write it.
#[derive(Debug, Clone)]
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

/// A table file of a batch: its object, and what the run's manifest says of it.
#[derive(Debug)]
pub struct TableFile {
    pub object: Object,
    pub table: &'static str,
    pub format: &'static str,
    pub rows: usize,
}

/// A batch encoded: the files that could be made, and why the others could not.
#[derive(Debug, Default)]
pub struct Encoded {
    pub files: Vec<TableFile>,
    pub errors: Vec<String>,
}

/// Encodes batch number `n` into its table files: JSON lines and Parquet per table. A Parquet
/// file that cannot be encoded is an error of its own; the JSON lines of the same rows, and
/// the other table, are still made.
pub fn encode(batch: &Batch, layout: &Layout, n: u32) -> Encoded {
    encode_with(batch, layout, n, encode::parquet)
}

/// [`encode`] with the Parquet encoder given, so a failing one can be tested.
pub fn encode_with(
    batch: &Batch,
    layout: &Layout,
    n: u32,
    parquet: impl Fn(&Table, &[u8]) -> Result<Vec<u8>, String>,
) -> Encoded {
    let mut out = Encoded::default();
    let tables = [
        (
            &FINDINGS,
            encode::json_lines(&batch.findings),
            batch.findings.len(),
        ),
        (
            &CLUSTERS,
            encode::json_lines(&batch.clusters),
            batch.clusters.len(),
        ),
    ];
    for (table, json, rows) in tables {
        let key = layout.parquet(table.name, n);
        match parquet(table, &json) {
            Ok(body) => out.files.push(TableFile {
                object: Object {
                    key,
                    body: body.into(),
                    content_type: "application/vnd.apache.parquet",
                },
                table: table.name,
                format: "parquet",
                rows,
            }),
            Err(e) => out.errors.push(format!("cannot encode {key}: {e}")),
        }
        out.files.push(TableFile {
            object: Object {
                key: layout.json_lines(table.name, n),
                body: json.into(),
                content_type: "application/x-ndjson",
            },
            table: table.name,
            format: "jsonl",
            rows,
        });
    }
    out
}

/// Where a run writes.
pub struct Sinks {
    pub directory: Option<PathBuf>,
    pub s3: Option<s3::S3Sink>,
}

impl Sinks {
    /// No directory and no S3: the run's results go to stdout only.
    pub fn is_empty(&self) -> bool {
        self.directory.is_none() && self.s3.is_none()
    }
}

/// What was written where, and what failed.
#[derive(Debug, Default)]
pub struct Written {
    pub locations: Vec<String>,
    pub errors: Vec<String>,
    /// Keys that at least one sink could not write.
    pub failed_keys: std::collections::HashSet<String>,
}

/// Writes every object to every sink; S3 PUTs run a few at a time.
pub async fn write(objects: &[Object], sinks: &Sinks) -> Written {
    let mut out = Written::default();
    if let Some(dir) = &sinks.directory {
        for o in objects {
            match local::put(dir, &o.key, &o.body) {
                Ok(()) => out.locations.push(dir.join(&o.key).display().to_string()),
                Err(e) => {
                    out.errors.push(format!("cannot write {e}"));
                    out.failed_keys.insert(o.key.clone());
                }
            }
        }
    }
    if let Some(s3) = &sinks.s3 {
        // Owned (the bodies are shared, not copied), so the future can run on a task of its own.
        let results: Vec<(String, Result<(), String>)> = futures::stream::iter(objects.to_vec())
            .map(|o| async move {
                let result = s3.put(&o.key, o.body, o.content_type).await;
                (o.key, result)
            })
            .buffer_unordered(4)
            .collect()
            .await;
        for (key, result) in results {
            match result {
                Ok(()) => out
                    .locations
                    .push(format!("s3://{}/{key}", s3.settings.bucket)),
                Err(e) => {
                    out.errors.push(format!("cannot write {e}"));
                    out.failed_keys.insert(key);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str, body: &str) -> Object {
        Object {
            key: key.into(),
            body: Bytes::copy_from_slice(body.as_bytes()),
            content_type: "application/json",
        }
    }

    fn settings(bucket: &str) -> s3::S3Settings {
        s3::S3Settings {
            force_path_style: true,
            ..s3::S3Settings::from_url(&format!("s3://{bucket}")).unwrap()
        }
    }

    /// A Parquet file that cannot be encoded is one error naming its key; the JSON lines of
    /// the same rows and the other table's files are still made, with their row counts.
    #[test]
    fn a_parquet_failure_drops_only_that_file() {
        let t = chrono::Utc::now();
        let batch = Batch {
            clusters: vec![crate::output::tables::error_row(
                "r",
                t,
                None,
                None,
                "a",
                "x".into(),
                1,
            )],
            findings: Vec::new(),
        };
        let layout = Layout::new("p", t, "r", "w");
        let encoded = encode_with(&batch, &layout, 7, |table, json| {
            if table.name == "findings" {
                Err("injected".into())
            } else {
                encode::parquet(table, json)
            }
        });
        let dt = t.format("%Y-%m-%d");
        assert_eq!(
            encoded.errors,
            [format!(
                "cannot encode p/findings/dt={dt}/r-0007.w.parquet: injected"
            )]
        );
        let made: Vec<(&str, &str, usize)> = encoded
            .files
            .iter()
            .map(|f| (f.table, f.format, f.rows))
            .collect();
        assert_eq!(
            made,
            [
                ("findings", "jsonl", 0),
                ("clusters", "parquet", 1),
                ("clusters", "jsonl", 1)
            ]
        );
        let clean = encode(&batch, &layout, 7);
        assert!(clean.errors.is_empty());
        assert_eq!(clean.files.len(), 4);
    }

    /// The directory cannot hold `blocked/…` (a file is where its directory should be) and
    /// S3 refuses `denied/…`: each sink still writes every other object, and each error
    /// names its key.
    #[tokio::test]
    async fn a_failing_object_or_sink_does_not_stop_the_others() {
        let server = crate::testing::http::start(|r| {
            if r.uri.contains("/denied/") {
                let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>no writes here</Message></Error>";
                (403, "application/xml", xml.into())
            } else {
                (200, "application/xml", String::new())
            }
        })
        .await;
        let sdk = crate::testing::http::sdk_config(&server.url);
        let sinks = Sinks {
            directory: None,
            s3: Some(s3::S3Sink::new(s3::client(&sdk, true), settings("reports"))),
        };
        let dir = std::env::temp_dir().join(format!("eksup-sink-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("blocked"), "a file, not a directory").unwrap();
        let sinks = Sinks {
            directory: Some(dir.clone()),
            ..sinks
        };
        let objects = [
            object("a/first.json", "1"),
            object("blocked/second.json", "2"),
            object("denied/third.json", "3"),
            object("z/last.json", "4"),
        ];
        let written = write(&objects, &sinks).await;

        // The directory: every object but the blocked one, and an error naming its path.
        for (key, body) in [
            ("a/first.json", "1"),
            ("denied/third.json", "3"),
            ("z/last.json", "4"),
        ] {
            assert_eq!(
                std::fs::read_to_string(dir.join(key)).unwrap(),
                body,
                "{key}"
            );
        }
        // S3: every object but the denied one was PUT, with its body.
        let mut puts: Vec<(String, String)> = server
            .requests()
            .into_iter()
            .filter(|r| r.method == "PUT" && !r.uri.contains("/denied/"))
            .map(|r| {
                let body = String::from_utf8_lossy(&r.body).to_string();
                (r.uri.split('?').next().unwrap().to_string(), body)
            })
            .collect();
        puts.sort();
        let keys: Vec<&str> = puts.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "/reports/a/first.json",
                "/reports/blocked/second.json",
                "/reports/z/last.json"
            ]
        );
        let mut locations = written.locations.clone();
        locations.sort();
        let d = dir.display();
        let mut expected = vec![
            format!("{d}/a/first.json"),
            format!("{d}/denied/third.json"),
            format!("{d}/z/last.json"),
            "s3://reports/a/first.json".to_string(),
            "s3://reports/blocked/second.json".to_string(),
            "s3://reports/z/last.json".to_string(),
        ];
        expected.sort();
        assert_eq!(locations, expected);
        assert_eq!(written.errors.len(), 2, "{:?}", written.errors);
        assert!(
            written.errors[0].starts_with(&format!(
                "cannot write {d}/blocked/second.json: cannot create {d}/blocked: "
            )),
            "{}",
            written.errors[0]
        );
        assert_eq!(
            written.errors[1],
            "cannot write s3://reports/denied/third.json: PutObject denied: add s3:PutObject to eksup's IAM policy"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
