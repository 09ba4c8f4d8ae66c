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
