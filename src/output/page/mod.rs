//! `eksup report`: the fleet as one self-contained HTML page, from the `clusters` and
//! `findings` tables `eksup run` wrote (a local tree or S3), for the people who schedule
//! upgrades and would rather look at a page than write SQL.
//!
//! | module | job |
//! |---|---|
//! | [`store`] | lists and reads only the `dt=` partitions of the window (local or S3) |
//! | [`rows`] | Parquet → records, by column name (older files lack newer columns) |
//! | [`model`] | latest row per cluster, verdicts, support windows, headline figures (pure) |
//! | [`charts`] | the charts as inline SVG (plotters) |
//! | [`html`] | the HTML page from `templates/report.html.j2` (auto-escaped) |
//!
//! Only the findings a page shows are read: the `findings` files of the runs that wrote each
//! cluster's latest row (same partition and file name as its `clusters` file), and of those
//! only the required findings of that cluster.

pub mod charts;
pub mod html;
pub mod model;
pub mod rows;
pub mod store;

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::output::fleet::{ClusterRecord, Fleet};
use model::{FleetView, Window};
pub use store::Store;

/// Why no page could be made: what was asked cannot be read (exit 2), or reading or
/// rendering failed (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

/// Days read when none are asked for (`--days`, and the page `eksup run` writes).
pub const DEFAULT_DAYS: u32 = 14;

/// Default file name of `eksup report`.
pub const DEFAULT_OUTPUT: &str = "eksup-report.html";

/// Reads the window's tables from `store` and renders the page.
pub async fn generate(store: &Store, window: Window, as_of: NaiveDate) -> Result<String, Error> {
    let view = read(store, window, as_of).await?;
    html::render(&view, &store.describe()).map_err(Error::Failed)
}

/// Reads the window's tables from `store` into what the page shows (the facts of
/// [`crate::output::fleet`], every cluster and its required findings).
pub async fn read(store: &Store, window: Window, as_of: NaiveDate) -> Result<FleetView, Error> {
    let days = window.days();
    let failed = |e: String| Error::Failed(format!("cannot read {}: {e}", store.describe()));
    let cluster_files = store.list("clusters", &days).await.map_err(failed)?;
    if cluster_files.is_empty() {
        return Err(Error::Usage(format!(
            "no clusters table under {} for {} to {} (dt= partitions): check --from, --days and --as-of",
            store.describe(),
            window.first,
            window.last
        )));
    }
    let bodies = store.read_all(&cluster_files).await.map_err(failed)?;
    let mut rows = Vec::new();
    for (entry, body) in cluster_files.iter().zip(bodies) {
        rows.extend(
            rows::clusters(body, &entry.key, entry.dt, &entry.file_name).map_err(Error::Usage)?,
        );
    }

    // The findings of each cluster's latest run, and nothing else.
    let fleet = Fleet::of(&rows);
    let latest: Vec<&ClusterRecord> = fleet.clusters.iter().map(|c| c.latest).collect();
    let files: HashSet<(NaiveDate, &str)> = latest
        .iter()
        .map(|r| (r.dt, r.file_name.as_str()))
        .collect();
    let wanted: HashSet<(&str, Option<&str>, Option<&str>, &str)> = latest
        .iter()
        .map(|r| {
            (
                r.run_id.as_str(),
                r.account_id.as_deref(),
                r.region.as_deref(),
                r.cluster_name.as_str(),
            )
        })
        .collect();
    let mut finding_days: Vec<NaiveDate> = files.iter().map(|(d, _)| *d).collect();
    finding_days.sort();
    finding_days.dedup();
    let finding_files: Vec<_> = store
        .list("findings", &finding_days)
        .await
        .map_err(failed)?
        .into_iter()
        .filter(|e| files.contains(&(e.dt, e.file_name.as_str())))
        .collect();
    let bodies = store.read_all(&finding_files).await.map_err(failed)?;
    let mut findings = Vec::new();
    for (entry, body) in finding_files.iter().zip(bodies) {
        findings.extend(
            rows::findings(body, &entry.key, |f| {
                f.remediation == "required"
                    && wanted.contains(&(
                        f.run_id.as_str(),
                        f.account_id.as_deref(),
                        f.region.as_deref(),
                        f.cluster_name.as_str(),
                    ))
            })
            .map_err(Error::Usage)?,
        );
    }
    Ok(model::build_from(&rows, &fleet, findings, as_of, window))
}
