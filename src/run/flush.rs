//! Rows leave the run in batches while it goes (DESIGN.md, "Fleet mode"): a batch is
//! written when it holds `outputs.batch.clusters` clusters or its oldest row has waited
//! `outputs.batch.seconds`, whichever comes first, so a run that is killed loses at most
//! one batch. Batches are encoded and written by a task of their own, one after another,
//! while the analysis goes on; each file is written whole or not at all, and a file that
//! fails does not stop the others.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::output::sink::emf::{self, EmfSettings};
use crate::output::sink::manifest::{File, Rows};
use crate::output::sink::{self, Batch, BatchSettings, Layout, Sinks};
use crate::output::tables::{ClusterRow, FindingRow};

/// What the batches wrote, for the manifest.
#[derive(Debug, Default)]
pub struct Flushed {
    pub batches: u32,
    pub files: Vec<File>,
    pub rows: Rows,
    pub errors: Vec<String>,
}

/// Where and how the batches are written.
pub struct Target {
    pub sinks: Arc<Sinks>,
    pub layout: Layout,
    pub emf: Option<EmfSettings>,
    pub run_time: DateTime<Utc>,
}

/// Collects rows and hands a batch to the writer task when one is due.
pub struct Flusher {
    settings: BatchSettings,
    pending: Batch,
    /// When the oldest pending row arrived.
    oldest: Option<Instant>,
    next: u32,
    tx: mpsc::Sender<(u32, Batch)>,
    task: JoinHandle<Flushed>,
}

impl Flusher {
    pub fn start(target: Target, settings: BatchSettings) -> Self {
        // One batch being written and one waiting: beyond that the analysis waits, so rows
        // never pile up in memory behind a slow sink.
        let (tx, rx) = mpsc::channel(1);
        Self {
            settings,
            pending: Batch::default(),
            oldest: None,
            next: 0,
            tx,
            task: tokio::spawn(write_batches(target, rx)),
        }
    }

    /// Adds a cluster's rows; writes the batch when it is full.
    pub async fn push(&mut self, cluster: ClusterRow, findings: Vec<FindingRow>) {
        self.oldest.get_or_insert_with(Instant::now);
        self.pending.clusters.push(cluster);
        self.pending.findings.extend(findings);
        if self.pending.clusters.len() >= self.settings.clusters as usize {
            self.flush().await;
        }
    }

    /// When the pending rows must be written, if there are any.
    pub fn due(&self) -> Option<Instant> {
        self.oldest
            .map(|t| t + Duration::from_secs(self.settings.seconds))
    }

    /// Hands the pending rows, if any, to the writer task.
    pub async fn flush(&mut self) {
        if self.pending.clusters.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        self.oldest = None;
        let n = self.next;
        self.next += 1;
        // The task only ends when the channel closes, which happens in `finish`.
        let _ = self.tx.send((n, batch)).await;
    }

    /// Writes the last batch and waits for every batch to be written.
    pub async fn finish(mut self) -> Flushed {
        self.flush().await;
        drop(self.tx);
        match self.task.await {
            Ok(flushed) => flushed,
            Err(e) => Flushed {
                errors: vec![format!("the task writing the batches failed: {e}")],
                ..Flushed::default()
            },
        }
    }
}

async fn write_batches(target: Target, mut rx: mpsc::Receiver<(u32, Batch)>) -> Flushed {
    let mut out = Flushed::default();
    while let Some((n, batch)) = rx.recv().await {
        let encoded = sink::encode(&batch, &target.layout, n);
        out.errors.extend(encoded.errors);
        let objects: Vec<sink::Object> = encoded.files.iter().map(|f| f.object.clone()).collect();
        let written = sink::write(&objects, &target.sinks).await;
        for f in &encoded.files {
            if written.failed_keys.contains(&f.object.key) {
                continue;
            }
            // The Parquet files are the tables; a row counts once, whatever the formats.
            if f.format == "parquet" {
                match f.table {
                    "clusters" => out.rows.clusters += f.rows,
                    _ => out.rows.findings += f.rows,
                }
            }
            out.files.push(File {
                key: f.object.key.clone(),
                table: f.table,
                format: f.format,
                batch: n,
                rows: f.rows,
                bytes: f.object.body.len(),
            });
        }
        for location in &written.locations {
            tracing::info!("wrote {location}");
        }
        out.errors.extend(written.errors);
        out.batches += 1;
        if let Some(settings) = &target.emf {
            emf::print(&emf::cluster_lines(
                settings,
                target.run_time,
                &batch.clusters,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::tables::error_row;

    fn row(name: &str) -> ClusterRow {
        error_row("run", Utc::now(), None, None, name, "x".into(), 1)
    }

    /// A batch is written when it is full, and the rest at the end; every file is named by
    /// its batch and the manifest's counts add up.
    #[tokio::test]
    async fn full_batches_are_written_at_once_and_the_rest_at_the_end() {
        let dir = crate::testing::TempDir::new("eksup-flush");
        let sinks = Arc::new(Sinks {
            directory: Some(dir.to_path_buf()),
            s3: None,
        });
        let target = Target {
            sinks,
            layout: Layout::new("", Utc::now(), "run", "w"),
            emf: None,
            run_time: Utc::now(),
        };
        let mut f = Flusher::start(
            target,
            BatchSettings {
                clusters: 2,
                seconds: 3600,
            },
        );
        assert_eq!(f.due(), None, "nothing pending");
        f.push(row("a"), Vec::new()).await;
        assert!(f.due().is_some());
        f.push(row("b"), Vec::new()).await;
        assert_eq!(f.due(), None, "a full batch was handed over");
        f.push(row("c"), Vec::new()).await;
        let flushed = f.finish().await;
        assert_eq!(flushed.batches, 2);
        assert_eq!(flushed.rows.clusters, 3);
        assert!(flushed.errors.is_empty(), "{:?}", flushed.errors);
        let mut keys: Vec<(String, usize)> = flushed
            .files
            .iter()
            .filter(|f| f.table == "clusters")
            .map(|f| (f.key.rsplit('/').next().unwrap().to_string(), f.rows))
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                ("run-0000.w.jsonl".to_string(), 2),
                ("run-0000.w.parquet".to_string(), 2),
                ("run-0001.w.jsonl".to_string(), 1),
                ("run-0001.w.parquet".to_string(), 1)
            ]
        );
        for f in &flushed.files {
            assert!(dir.join(&f.key).is_file(), "{}", f.key);
        }
    }
}
