//! Object keys of the S3 layout (DESIGN.md, "S3 layout and tables"). Pure, so the layout is
//! unit-tested without any store.
//!
//! ```text
//! PREFIX/findings/dt=YYYY-MM-DD/<run_id>-<batch>.<writer>.parquet
//! PREFIX/clusters/dt=YYYY-MM-DD/<run_id>-<batch>.<writer>.parquet
//! PREFIX/json/findings/dt=YYYY-MM-DD/<run_id>-<batch>.<writer>.jsonl
//! PREFIX/json/clusters/dt=YYYY-MM-DD/<run_id>-<batch>.<writer>.jsonl
//! PREFIX/cluster-reports/dt=YYYY-MM-DD/<account>/<region>/<cluster>/<run_id>.<writer>.json
//! PREFIX/runs/dt=YYYY-MM-DD/<run_id>.<writer>.json      (the run's manifest, written first and last)
//! PREFIX/fleet-page/latest.html, PREFIX/fleet-page/dt=YYYY-MM-DD/<run_id>.html  (outputs.fleet_page)
//! ```
//!
//! Every key a writer puts ends in `.<writer>.<extension>`, and a writer's name holds no dot
//! (see [`writer_segment`]), so the IAM resource pattern `*.<writer>.parquet` matches that
//! writer's keys and no other's: a writer can be confined to its own objects exactly. Only the
//! fleet page, written by the central runner alone, carries no writer name.

use chrono::{DateTime, Utc};

/// The partition and file-name parts shared by every object of one run.
#[derive(Debug, Clone)]
pub struct Layout {
    prefix: String,
    dt: String,
    run_id: String,
    writer: String,
}

/// Keeps a key segment to characters that are safe in S3 keys and Hive paths.
fn segment(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "_".into()
    } else {
        cleaned
    }
}

/// A writer's name as its keys carry it: letters, digits, `-` and `_`; anything else (a dot
/// above all, the delimiter before it) becomes `_`. The IAM policies that confine a writer
/// name it the same way (`terraform/modules/cluster-writer`).
pub fn writer_segment(writer: &str) -> String {
    segment(writer).replace('.', "_")
}

impl Layout {
    pub fn new(prefix: &str, run_time: DateTime<Utc>, run_id: &str, writer: &str) -> Self {
        Self {
            prefix: prefix.trim_matches('/').to_string(),
            dt: run_time.format("%Y-%m-%d").to_string(),
            run_id: run_id.to_string(),
            writer: writer_segment(writer),
        }
    }

    fn join(&self, rest: String) -> String {
        if self.prefix.is_empty() {
            rest
        } else {
            format!("{}/{rest}", self.prefix)
        }
    }

    /// The writer's name as it appears in its keys.
    pub fn writer(&self) -> &str {
        &self.writer
    }

    /// `findings/dt=…/<run>-<batch>.<writer>.parquet` for table `findings` or `clusters`;
    /// the batch has 4 digits (`0000`), the width the IAM patterns of
    /// `terraform/modules/object-keys` match exactly.
    pub fn parquet(&self, table: &str, batch: u32) -> String {
        self.join(format!(
            "{table}/dt={}/{}-{batch:04}.{}.parquet",
            self.dt, self.run_id, self.writer
        ))
    }

    pub fn json_lines(&self, table: &str, batch: u32) -> String {
        self.join(format!(
            "json/{table}/dt={}/{}-{batch:04}.{}.jsonl",
            self.dt, self.run_id, self.writer
        ))
    }

    /// The run's manifest: written before any cluster is read, so a wrong bucket, owner,
    /// key or permission fails the run at once (and a started run leaves a trace), and
    /// rewritten when the run ends.
    pub fn manifest(&self) -> String {
        self.join(format!(
            "runs/dt={}/{}.{}.json",
            self.dt, self.run_id, self.writer
        ))
    }

    /// The fleet's HTML page: the latest one, overwritten by each run, and this run's copy.
    pub fn fleet_pages(&self) -> [String; 2] {
        [
            self.join("fleet-page/latest.html".into()),
            self.join(format!("fleet-page/dt={}/{}.html", self.dt, self.run_id)),
        ]
    }

    /// One cluster's full JSON report.
    pub fn cluster_report(
        &self,
        account: Option<&str>,
        region: Option<&str>,
        cluster: &str,
    ) -> String {
        self.join(format!(
            "cluster-reports/dt={}/{}/{}/{}/{}.{}.json",
            self.dt,
            segment(account.unwrap_or("unknown")),
            segment(region.unwrap_or("unknown")),
            segment(cluster),
            self.run_id,
            self.writer
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_layout() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T01:02:03Z")
            .unwrap()
            .with_timezone(&Utc);
        let l = Layout::new("/eksup/v1/", t, "0192-abc", "runner pod/1");
        assert_eq!(
            l.parquet("findings", 0),
            "eksup/v1/findings/dt=2026-11-23/0192-abc-0000.runner_pod_1.parquet"
        );
        assert_eq!(
            l.json_lines("clusters", 12),
            "eksup/v1/json/clusters/dt=2026-11-23/0192-abc-0012.runner_pod_1.jsonl"
        );
        assert_eq!(
            l.cluster_report(Some("012345678901"), Some("eu-west-1"), "prod"),
            "eksup/v1/cluster-reports/dt=2026-11-23/012345678901/eu-west-1/prod/0192-abc.runner_pod_1.json"
        );
        assert_eq!(
            l.manifest(),
            "eksup/v1/runs/dt=2026-11-23/0192-abc.runner_pod_1.json"
        );
        assert_eq!(
            l.fleet_pages(),
            [
                "eksup/v1/fleet-page/latest.html".to_string(),
                "eksup/v1/fleet-page/dt=2026-11-23/0192-abc.html".to_string()
            ]
        );
        // A dot in the name would let `*.<writer>.parquet` match another writer's keys.
        assert_eq!(
            writer_segment("pod.eu-west-1.internal"),
            "pod_eu-west-1_internal"
        );
        assert_eq!(Layout::new("", t, "r", "a.b").writer(), "a_b");
        let bare = Layout::new("", t, "r", "w");
        assert_eq!(
            bare.parquet("clusters", 3),
            "clusters/dt=2026-11-23/r-0003.w.parquet"
        );
        assert_eq!(
            bare.cluster_report(None, None, "x"),
            "cluster-reports/dt=2026-11-23/unknown/unknown/x/r.w.json"
        );
    }
}
