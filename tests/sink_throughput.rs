//! Encoding throughput and size for a 50,000-finding batch: rows per second and bytes per
//! finding, Parquet (zstd) against JSON lines. Prints the figures; asserts that Parquet is
//! the smaller and that every row survives.

use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use eksup::output::sink::encode;
use eksup::output::tables::{FINDINGS, FindingRow, SCHEMA_VERSION};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const ROWS: usize = 50_000;

fn rows() -> Vec<FindingRow> {
    let run_time = Utc::now();
    let codes = [
        ("K8S002", "Too few replicas"),
        (
            "K8S005",
            "No pod anti-affinity or topology spread constraints",
        ),
        ("K8S006", "Container without a readinessProbe"),
        ("AWS001", "Free IPs in data-plane subnets"),
    ];
    (0..ROWS)
        .map(|i| {
            let (code, title) = codes[i % codes.len()];
            FindingRow {
                schema_version: SCHEMA_VERSION,
                run_id: "019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6071".into(),
                run_time,
                account_id: Some(format!("{:012}", 111122223333u64 + (i % 20) as u64)),
                region: Some(["us-east-1", "eu-west-1", "ap-southeast-2"][i % 3].into()),
                cluster_name: format!("cluster-{:03}", i % 60),
                cluster_arn: Some(format!(
                    "arn:aws:eks:us-east-1:111122223333:cluster/cluster-{:03}",
                    i % 60
                )),
                current_version: "1.31".into(),
                target_version: "1.32".into(),
                code: code.into(),
                title: title.into(),
                remediation: if i % 3 == 0 {
                    "recommended"
                } else {
                    "required"
                }
                .into(),
                category: "kubernetes".into(),
                resource_kind: "Deployment".into(),
                resource_namespace: format!("team-{:02}", i % 40),
                resource_name: format!("service-{i:05}"),
                message:
                    "replicas is 1; run at least 2 so a node drain cannot take every replica down"
                        .into(),
                details: format!(
                    r#"{{"replicas":1,"floor":1,"min_replicas":2,"autoscaler":null,"index":{i}}}"#
                ),
                tool_version: env!("CARGO_PKG_VERSION").into(),
            }
        })
        .collect()
}

#[test]
fn fifty_thousand_findings() {
    let rows = rows();
    let start = Instant::now();
    let json = encode::json_lines(&rows);
    let json_time = start.elapsed();
    let start = Instant::now();
    let parquet = encode::parquet(&FINDINGS, &json).unwrap();
    let parquet_time = start.elapsed();
    let read_back: usize = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(parquet.clone()))
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum();
    assert_eq!(read_back, ROWS);
    let per_sec = |d: std::time::Duration| (ROWS as f64 / d.as_secs_f64()).round();
    println!(
        "{ROWS} findings: JSON lines {} bytes ({:.0} B/finding, {} rows/s); Parquet zstd {} bytes ({:.1} B/finding, {} rows/s including JSON decode)",
        json.len(),
        json.len() as f64 / ROWS as f64,
        per_sec(json_time),
        parquet.len(),
        parquet.len() as f64 / ROWS as f64,
        per_sec(parquet_time),
    );
    assert!(
        parquet.len() * 5 < json.len(),
        "Parquet with zstd is several times smaller"
    );
}
