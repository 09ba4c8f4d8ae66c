//! CloudWatch Embedded Metric Format (EMF) lines for `eksup run`, so that CloudWatch alarms can
//! watch the fleet without querying Athena.
//!
//! With `outputs.emf` set, a run prints on stdout:
//! - one line per analyzed cluster, dimensions `AccountId`, `Region`, `ClusterName`:
//!   `DaysToEndOfStandardSupport` (when the version is in the support calendar),
//!   `RequiredFindings`, `RecommendedFindings` — when the cluster's batch is flushed;
//! - one line per run without dimensions, the fleet totals: `ClustersAnalyzed`,
//!   `ClustersErrored`, `ClustersWithinNotice`, `ClustersInExtendedSupport`,
//!   `ScopesUnreadable` — counted by [`crate::output::fleet`], as the page counts them, at
//!   the end of the run, with the run's status (`complete`, `interrupted`, `failed`).
//!
//! A cluster that could not be read has no per-cluster line (it has no findings to count, and
//! zero would read as "clean"); it counts in `ClustersErrored`. An account or region that
//! could not be read at all counts in `ScopesUnreadable`. The fleet totals carry no
//! dimension, so one alarm per condition covers every writer (central runner, shards,
//! in-cluster jobs): `terraform/modules/alerts` alarms on exactly these names.
//!
//! Pure: [`cluster_lines`] and [`totals_line`] turn rows into text; [`print`] only writes it.

use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use crate::output::fleet::{ClusterRecord, Fleet};
use crate::output::tables::ClusterRow;

/// Namespace used when `outputs.emf.namespace` is not set.
pub const DEFAULT_NAMESPACE: &str = "eksup";

/// Days before end of standard support from which a cluster counts in `ClustersWithinNotice`
/// when `outputs.emf.notice_days` is not set (as EKS101's default).
pub const DEFAULT_NOTICE_DAYS: u32 = 90;

/// Dimensions of the per-cluster metrics, in this order.
pub const CLUSTER_DIMENSIONS: [&str; 3] = ["AccountId", "Region", "ClusterName"];

/// Per-cluster metric names and units.
pub const CLUSTER_METRICS: [(&str, &str); 3] = [
    ("DaysToEndOfStandardSupport", "None"),
    ("RequiredFindings", "Count"),
    ("RecommendedFindings", "Count"),
];

/// Fleet-total metric names (unit `Count`), one line per run, no dimensions.
pub const FLEET_METRICS: [&str; 5] = [
    "ClustersAnalyzed",
    "ClustersErrored",
    "ClustersWithinNotice",
    "ClustersInExtendedSupport",
    "ScopesUnreadable",
];

/// The fleet-total money metric on the same line: what extended support adds to the fleet's
/// EKS bill per month, in US dollars (unit `None`; CloudWatch has no currency unit).
pub const FLEET_COST_METRIC: &str = "ExtendedSupportExtraCostPerMonth";

/// `outputs.emf`: print CloudWatch Embedded Metric Format lines on stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EmfSettings {
    /// CloudWatch namespace of every metric (default `eksup`; 1–255 characters, not `AWS/…`).
    #[serde(deserialize_with = "namespace")]
    #[schemars(with = "String")]
    pub namespace: String,
    /// A cluster whose standard support ends within this many days (and has not ended yet)
    /// counts in `ClustersWithinNotice` (default 90).
    pub notice_days: u32,
}

impl Default for EmfSettings {
    fn default() -> Self {
        Self {
            namespace: DEFAULT_NAMESPACE.into(),
            notice_days: DEFAULT_NOTICE_DAYS,
        }
    }
}

/// Rejects namespaces CloudWatch would refuse, when the configuration is read rather than
/// when the metrics silently fail to appear.
fn namespace<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() || s.chars().count() > 255 {
        return Err(serde::de::Error::custom(
            "a CloudWatch namespace has 1 to 255 characters",
        ));
    }
    if s.starts_with("AWS/") {
        return Err(serde::de::Error::custom(
            "namespaces starting with `AWS/` are reserved for AWS services",
        ));
    }
    Ok(s)
}

/// The fleet totals of one run: [`crate::output::fleet`]'s counts over the run's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FleetTotals {
    /// Clusters read and evaluated (status `ok` or `partial`).
    pub analyzed: u32,
    /// Clusters that could not be read (status `error`); whole accounts or regions are
    /// counted apart, in `unreadable_scopes`.
    pub errored: u32,
    /// Clusters whose standard support ends in `0..=notice_days` days.
    pub within_notice: u32,
    /// Clusters past the end of standard support (billed at the extended price).
    pub in_extended_support: u32,
    /// Accounts or regions that could not be read at all (`cluster_name = *` rows).
    pub unreadable_scopes: u32,
    /// What extended support adds per month for the clusters in it, in cents
    /// ([`crate::output::fleet::Totals::extended_extra_monthly_cents`]).
    pub extended_extra_monthly_cents: i64,
}

impl FleetTotals {
    pub fn of(clusters: &[ClusterRow], as_of: NaiveDate, notice_days: u32) -> Self {
        let records: Vec<ClusterRecord> = clusters.iter().map(ClusterRecord::from).collect();
        let fleet = Fleet::of(&records);
        let totals = fleet.totals(as_of, None);
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Self {
            analyzed: n(totals.analyzed),
            errored: n(totals.errored),
            within_notice: n(fleet.within(as_of, i64::from(notice_days))),
            in_extended_support: n(totals.extended),
            unreadable_scopes: n(totals.unreadable_scopes),
            extended_extra_monthly_cents: totals.extended_extra_monthly_cents,
        }
    }

    fn values(self) -> [u32; 5] {
        [
            self.analyzed,
            self.errored,
            self.within_notice,
            self.in_extended_support,
            self.unreadable_scopes,
        ]
    }
}

fn directive(namespace: &str, dimensions: &[&str], metrics: &[(&str, &str)]) -> Value {
    json!({
        "Namespace": namespace,
        "Dimensions": [dimensions],
        "Metrics": metrics
            .iter()
            .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
            .collect::<Vec<_>>(),
    })
}

fn document(timestamp: i64, directive: Value, members: Map<String, Value>) -> String {
    let mut root = members;
    root.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp, "CloudWatchMetrics": [directive]}),
    );
    serde_json::to_string(&Value::Object(root)).expect("a JSON object serializes")
}

/// The properties every line carries besides its metrics, for CloudWatch Logs Insights.
fn properties(run_id: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("event".into(), "metrics".into());
    m.insert("run_id".into(), run_id.into());
    m
}

fn cluster_line(namespace: &str, timestamp: i64, c: &ClusterRow) -> String {
    let mut m = properties(&c.run_id);
    let values = [
        c.days_to_end_of_standard_support,
        Some(c.required_findings),
        Some(c.recommended_findings),
    ];
    let metrics: Vec<(&str, &str)> = CLUSTER_METRICS
        .iter()
        .zip(values)
        .filter_map(|(&metric, value)| {
            let value = value?;
            m.insert(metric.0.into(), value.into());
            Some(metric)
        })
        .collect();
    let dimension_values = [
        c.account_id.as_deref().unwrap_or("unknown"),
        c.region.as_deref().unwrap_or("unknown"),
        c.cluster_name.as_str(),
    ];
    for (key, value) in CLUSTER_DIMENSIONS.iter().zip(dimension_values) {
        m.insert((*key).into(), value.into());
    }
    m.insert("status".into(), c.status.clone().into());
    m.insert("current_version".into(), c.current_version.clone().into());
    m.insert("target_version".into(), c.target_version.clone().into());
    m.insert("support_status".into(), c.support_status.clone().into());
    document(
        timestamp,
        directive(namespace, &CLUSTER_DIMENSIONS, &metrics),
        m,
    )
}

fn fleet_line(
    namespace: &str,
    timestamp: i64,
    run_id: &str,
    totals: FleetTotals,
    notice_days: u32,
    run_status: Option<&str>,
) -> String {
    let mut m = properties(run_id);
    if let Some(status) = run_status {
        m.insert("run_status".into(), status.into());
    }
    for (name, value) in FLEET_METRICS.iter().zip(totals.values()) {
        m.insert((*name).into(), value.into());
    }
    // Dollars with cents, e.g. 730.0 for two clusters at $365.00.
    let dollars = totals.extended_extra_monthly_cents as f64 / 100.0;
    m.insert(FLEET_COST_METRIC.into(), dollars.into());
    m.insert("notice_days".into(), notice_days.into());
    let metrics: Vec<(&str, &str)> = FLEET_METRICS
        .iter()
        .map(|n| (*n, "Count"))
        .chain([(FLEET_COST_METRIC, "None")])
        .collect();
    document(timestamp, directive(namespace, &[], &metrics), m)
}

/// The EMF lines of one run: one per analyzed cluster, then the fleet totals as of `as_of`
/// (the day the run measured support windows from). `run_time` is every metric's
/// timestamp, so the metrics line up with the rows in S3.
pub fn lines(
    settings: &EmfSettings,
    run_id: &str,
    run_time: DateTime<Utc>,
    as_of: NaiveDate,
    clusters: &[ClusterRow],
) -> Vec<String> {
    let mut out = cluster_lines(settings, run_time, clusters);
    out.push(totals_line(
        settings, run_id, run_time, as_of, clusters, None,
    ));
    out
}

/// The per-cluster lines of one batch: printed when the batch is flushed, so a run that is
/// killed has printed the metrics of exactly the clusters whose rows it wrote.
pub fn cluster_lines(
    settings: &EmfSettings,
    run_time: DateTime<Utc>,
    clusters: &[ClusterRow],
) -> Vec<String> {
    let timestamp = run_time.timestamp_millis();
    clusters
        .iter()
        .filter(|c| c.status != "error")
        .map(|c| cluster_line(&settings.namespace, timestamp, c))
        .collect()
}

/// The fleet totals over every cluster row of the run. `run_status` (`complete`,
/// `interrupted`, `failed`) is a property, so a dashboard can tell a short count from an
/// interrupted run apart from a fleet that shrank.
pub fn totals_line(
    settings: &EmfSettings,
    run_id: &str,
    run_time: DateTime<Utc>,
    as_of: NaiveDate,
    clusters: &[ClusterRow],
    run_status: Option<&str>,
) -> String {
    fleet_line(
        &settings.namespace,
        run_time.timestamp_millis(),
        run_id,
        FleetTotals::of(clusters, as_of, settings.notice_days),
        settings.notice_days,
        run_status,
    )
}

/// Prints EMF lines on stdout. A closed stdout is not an error worth failing a run whose
/// results are already written.
pub fn print(lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let mut text = lines.join("\n");
    text.push('\n');
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        tracing::warn!("cannot print the EMF metrics on stdout: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, status: &str, days: Option<i32>, support: Option<&str>) -> ClusterRow {
        ClusterRow {
            run_id: "0192-run".into(),
            account_id: Some("111111111111".into()),
            region: Some("eu-west-1".into()),
            cluster_name: name.into(),
            status: status.into(),
            current_version: Some("1.33".into()),
            target_version: Some("1.34".into()),
            days_to_end_of_standard_support: days,
            end_of_standard_support: days.map(|d| day() + chrono::TimeDelta::days(i64::from(d))),
            end_of_extended_support: days
                .map(|d| day() + chrono::TimeDelta::days(i64::from(d) + 365)),
            support_status: support.map(str::to_string),
            required_findings: 2,
            recommended_findings: 5,
            ..ClusterRow::default()
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-07-06T06:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn day() -> NaiveDate {
        at().date_naive()
    }

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn totals_count_each_condition_once() {
        let rows = [
            row("soon", "ok", Some(23), Some("standard")),
            row("edge", "partial", Some(0), Some("standard")),
            row("later", "ok", Some(91), Some("standard")),
            row("extended", "ok", Some(-105), Some("extended")),
            row("unknown-version", "ok", None, None),
            row("down", "error", None, None),
        ];
        assert_eq!(
            FleetTotals::of(&rows, day(), 90),
            FleetTotals {
                analyzed: 5,
                errored: 1,
                within_notice: 2,
                in_extended_support: 1,
                unreadable_scopes: 0,
                // One cluster past standard support: ($0.60 − $0.10) × 730 hours.
                extended_extra_monthly_cents: 36_500,
            }
        );
        assert_eq!(FleetTotals::of(&rows, day(), 91).within_notice, 3);
        // A whole account that could not be read is a scope, not an errored cluster.
        let mut scope = rows.to_vec();
        scope.push(row("*", "error", None, None));
        let t = FleetTotals::of(&scope, day(), 90);
        assert_eq!((t.errored, t.unreadable_scopes, t.analyzed), (1, 1, 5));
    }

    #[test]
    fn one_line_per_analyzed_cluster_then_the_fleet_totals() {
        let rows = [
            row("soon", "ok", Some(23), Some("standard")),
            row("down", "error", None, None),
        ];
        let out = lines(&EmfSettings::default(), "0192-run", at(), day(), &rows);
        assert_eq!(out.len(), 2, "no per-cluster line for the errored cluster");
        let cluster = parse(&out[0]);
        assert_eq!(cluster["_aws"]["Timestamp"], 1_783_317_600_123_i64);
        let d = &cluster["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(d["Namespace"], "eksup");
        assert_eq!(
            d["Dimensions"],
            json!([["AccountId", "Region", "ClusterName"]])
        );
        assert_eq!(
            d["Metrics"],
            json!([
                {"Name": "DaysToEndOfStandardSupport", "Unit": "None"},
                {"Name": "RequiredFindings", "Unit": "Count"},
                {"Name": "RecommendedFindings", "Unit": "Count"},
            ])
        );
        assert_eq!(
            (
                &cluster["AccountId"],
                &cluster["Region"],
                &cluster["ClusterName"]
            ),
            (&json!("111111111111"), &json!("eu-west-1"), &json!("soon"))
        );
        assert_eq!(cluster["DaysToEndOfStandardSupport"], 23);
        assert_eq!(cluster["RequiredFindings"], 2);
        assert_eq!(cluster["RecommendedFindings"], 5);

        let fleet = parse(&out[1]);
        let d = &fleet["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(d["Dimensions"], json!([[]]));
        let names: Vec<&str> = d["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names[..5], FLEET_METRICS);
        assert_eq!(names[5], FLEET_COST_METRIC);
        assert_eq!(d["Metrics"][5]["Unit"], "None");
        assert_eq!(
            fleet[FLEET_COST_METRIC], 0.0,
            "no cluster in extended support"
        );
        assert_eq!(
            [
                &fleet["ClustersAnalyzed"],
                &fleet["ClustersErrored"],
                &fleet["ClustersWithinNotice"],
                &fleet["ClustersInExtendedSupport"]
            ],
            [&json!(1), &json!(1), &json!(1), &json!(0)]
        );
        assert_eq!(fleet["run_id"], "0192-run");
    }

    #[test]
    fn a_version_outside_the_calendar_has_no_days_metric_and_no_null_member() {
        let out = lines(
            &EmfSettings::default(),
            "r",
            at(),
            day(),
            &[row("new", "ok", None, None)],
        );
        let line = parse(&out[0]);
        let metrics = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert_eq!(metrics.len(), 2);
        assert!(line.get("DaysToEndOfStandardSupport").is_none());
    }

    #[test]
    fn missing_account_and_region_become_unknown_dimension_values() {
        let mut r = row("local", "ok", Some(10), Some("standard"));
        r.account_id = None;
        r.region = None;
        let line = parse(&lines(&EmfSettings::default(), "r", at(), day(), &[r])[0]);
        assert_eq!(
            (&line["AccountId"], &line["Region"]),
            (&json!("unknown"), &json!("unknown"))
        );
    }

    #[test]
    fn the_namespace_is_configurable_and_validated() {
        let s: EmfSettings = serde_json::from_str(r#"{"namespace": "fleet/eksup"}"#).unwrap();
        assert_eq!(
            s,
            EmfSettings {
                namespace: "fleet/eksup".into(),
                notice_days: 90
            }
        );
        let out = lines(&s, "r", at(), day(), &[]);
        assert_eq!(
            parse(&out[0])["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "fleet/eksup"
        );
        for bad in [r#"{"namespace": ""}"#, r#"{"namespace": "AWS/EKS"}"#] {
            let e = serde_json::from_str::<EmfSettings>(bad).unwrap_err();
            assert!(e.to_string().contains("namespace"), "{e}");
        }
        assert!(serde_json::from_str::<EmfSettings>(r#"{"namespce": "x"}"#).is_err());
    }

    #[test]
    fn outputs_emf_is_read_from_the_configuration_file() {
        let dir = crate::testing::TempDir::new("eksup-emf");
        let path = dir.join("eksup.yaml");
        std::fs::write(
            &path,
            "outputs:\n  emf: {namespace: fleet, notice_days: 30}\n",
        )
        .unwrap();
        let s = crate::config::load(Some(&path), Some(vec![])).unwrap();
        assert_eq!(
            s.outputs.emf,
            Some(EmfSettings {
                namespace: "fleet".into(),
                notice_days: 30
            })
        );
        std::fs::write(&path, "outputs:\n  emf: {namespace: 'AWS/EKS'}\n").unwrap();
        let e = crate::config::load(Some(&path), Some(vec![]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("outputs.emf.namespace") && e.contains("reserved"),
            "{e}"
        );
    }

    /// Two clusters past standard support (one of them past extended support too, still
    /// billed until EKS upgrades it) add 2 × $365.00 per month.
    #[test]
    fn the_fleet_line_carries_the_extra_cost_in_dollars() {
        let rows = [
            row("old", "ok", Some(-10), Some("extended")),
            row("older", "ok", Some(-400), Some("ended")),
            row("fine", "ok", Some(200), Some("standard")),
        ];
        let out = lines(&EmfSettings::default(), "r", at(), day(), &rows);
        let fleet = parse(out.last().unwrap());
        assert_eq!(fleet[FLEET_COST_METRIC], 730.0);
        assert_eq!(fleet["ClustersInExtendedSupport"], 2);
    }
}
