//! Where the tables are read from: a local output directory or an S3 prefix, both in the
//! layout `eksup run` writes. Only the `TABLE/dt=YYYY-MM-DD/` partitions asked for are listed
//! (never the whole bucket), so the cost of a report grows with its window, not with history.

use std::path::PathBuf;

use aws_sdk_s3::Client;
use bytes::Bytes;
use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};

/// Listing and reading calls to S3 in flight at once.
const S3_CONCURRENCY: usize = 8;

/// An object of one partition: its key (or path) and the file name that ties a `clusters`
/// file to the `findings` file of the same run and writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub dt: NaiveDate,
    pub file_name: String,
}

pub enum Store {
    Local(PathBuf),
    S3 {
        client: Client,
        bucket: String,
        prefix: String,
    },
}

/// `PREFIX/TABLE/dt=DAY/` (no leading slash; the bare prefix may be empty).
pub fn partition_prefix(prefix: &str, table: &str, dt: NaiveDate) -> String {
    let p = prefix.trim_matches('/');
    let rest = format!("{table}/dt={}/", dt.format("%Y-%m-%d"));
    if p.is_empty() {
        rest
    } else {
        format!("{p}/{rest}")
    }
}

fn parquet_entry(key: String, dt: NaiveDate) -> Option<Entry> {
    let file_name = key.rsplit('/').next()?.to_string();
    file_name
        .ends_with(".parquet")
        .then_some(Entry { key, dt, file_name })
}

impl Store {
    pub fn describe(&self) -> String {
        match self {
            Self::Local(dir) => dir.display().to_string(),
            Self::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// The Parquet files of `table` in the partitions `days`, sorted by key.
    pub async fn list(&self, table: &str, days: &[NaiveDate]) -> Result<Vec<Entry>, String> {
        let mut out = match self {
            Self::Local(dir) => {
                let mut out = Vec::new();
                for &dt in days {
                    let part = dir.join(partition_prefix("", table, dt));
                    let read = match std::fs::read_dir(&part) {
                        Ok(r) => r,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(format!("{}: {e}", part.display())),
                    };
                    for f in read {
                        let f = f.map_err(|e| format!("{}: {e}", part.display()))?;
                        let path = f.path().display().to_string();
                        out.extend(parquet_entry(path, dt));
                    }
                }
                out
            }
            Self::S3 {
                client,
                bucket,
                prefix,
            } => {
                let lists = futures::stream::iter(days.iter().copied())
                    .map(|dt| {
                        let key_prefix = partition_prefix(prefix, table, dt);
                        async move {
                            let keys = list_keys(client, bucket, &key_prefix).await?;
                            Ok::<_, String>(
                                keys.into_iter()
                                    .filter_map(|k| parquet_entry(k, dt))
                                    .collect::<Vec<_>>(),
                            )
                        }
                    })
                    .buffer_unordered(S3_CONCURRENCY)
                    .try_collect::<Vec<_>>()
                    .await?;
                lists.into_iter().flatten().collect()
            }
        };
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Reads `entries`, a few at a time on S3; results in the order given.
    pub async fn read_all(&self, entries: &[Entry]) -> Result<Vec<Bytes>, String> {
        match self {
            Self::Local(_) => entries
                .iter()
                .map(|e| {
                    std::fs::read(&e.key)
                        .map(Bytes::from)
                        .map_err(|err| format!("{}: {err}", e.key))
                })
                .collect(),
            Self::S3 { client, bucket, .. } => {
                futures::stream::iter(entries)
                    .map(|e| get(client, bucket, &e.key))
                    .buffered(S3_CONCURRENCY)
                    .try_collect()
                    .await
            }
        }
    }
}

async fn list_keys(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            format!(
                "s3://{bucket}/{prefix}: {}",
                crate::error::aws_message("ListObjectsV2", "s3:ListBucket", &e)
            )
        })?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(String::from)),
        );
    }
    Ok(keys)
}

async fn get(client: &Client, bucket: &str, key: &str) -> Result<Bytes, String> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            format!(
                "s3://{bucket}/{key}: {}",
                crate::error::aws_message("GetObject", "s3:GetObject", &e)
            )
        })?;
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| format!("s3://{bucket}/{key}: {e}"))?;
    Ok(body.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_prefixes_follow_the_layout() {
        let d = NaiveDate::from_ymd_opt(2026, 7, 6).unwrap();
        assert_eq!(
            partition_prefix("/eksup/v1/", "clusters", d),
            "eksup/v1/clusters/dt=2026-07-06/"
        );
        assert_eq!(
            partition_prefix("", "findings", d),
            "findings/dt=2026-07-06/"
        );
    }

    #[test]
    fn only_parquet_files_are_entries() {
        let d = NaiveDate::from_ymd_opt(2026, 7, 6).unwrap();
        assert_eq!(
            parquet_entry("p/clusters/dt=2026-07-06/r-w.parquet".into(), d)
                .unwrap()
                .file_name,
            "r-w.parquet"
        );
        assert!(parquet_entry("p/clusters/dt=2026-07-06/r-w.partial".into(), d).is_none());
    }
}
