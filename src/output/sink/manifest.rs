//! The run's manifest, `runs/dt=…/<run_id>.<writer>.json`: written before any cluster is
//! read (`running`, with the plan) and rewritten when the run ends (`complete`,
//! `interrupted` or `failed`, with every file written and its rows, and what failed). A run
//! killed outright leaves `running` behind, which says so. Readers that need a whole run
//! join on it; the latest-state view does not need to.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{BatchSettings, Layout, Object};

/// How the run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    /// Every cluster was analyzed (some may have error rows) and every file written.
    Complete,
    /// A signal stopped the run: the clusters not started have no rows.
    Interrupted,
    /// A file could not be written.
    Failed,
}

/// One table file written by every sink of the run.
#[derive(Debug, Clone, Serialize)]
pub struct File {
    pub key: String,
    pub table: &'static str,
    pub format: &'static str,
    pub batch: u32,
    pub rows: usize,
    pub bytes: usize,
}

/// Rows written per table (each row once, whatever the formats).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Rows {
    pub clusters: usize,
    pub findings: usize,
}

/// What a signal did to the run.
#[derive(Debug, Clone, Serialize)]
pub struct Interruption {
    /// `SIGTERM` or `SIGINT`.
    pub signal: &'static str,
    pub at: DateTime<Utc>,
    /// How long the clusters in flight were given to finish.
    pub grace_seconds: u64,
    /// Clusters in flight when the grace period ended: each has an error row.
    pub cut_off: Vec<String>,
}

/// The manifest of one run of one writer.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub run_id: String,
    pub writer: String,
    pub shard: String,
    pub tool_version: &'static str,
    pub status: Status,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// What the run set out to do: the clusters or the fleet, the outputs.
    pub plan: serde_json::Value,
    pub batch: BatchSettings,
    /// Batches flushed.
    pub batches: u32,
    /// Rows in the files written.
    pub rows: Rows,
    /// Cluster rows by status (`ok`, `partial`, `error`), whether or not their file was written.
    pub clusters: std::collections::BTreeMap<String, usize>,
    /// Full cluster reports written.
    pub reports: usize,
    pub files: Vec<File>,
    /// Every write or encoding that failed, naming its object.
    pub failed: Vec<String>,
    pub interrupted: Option<Interruption>,
}

impl Manifest {
    pub fn object(&self, layout: &Layout) -> Object {
        Object {
            key: layout.manifest(),
            body: serde_json::to_vec_pretty(self)
                .expect("a manifest serializes")
                .into(),
            content_type: "application/json",
        }
    }
}
