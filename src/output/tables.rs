//! The `findings` and `clusters` tables as code: one declaration of each table's columns
//! (name, Arrow type, Glue type, meaning), from which the Parquet schema, the JSON lines and
//! `eksup schema` (Glue JSON / Athena DDL) all come.
//!
//! Compatibility rule: columns are only ever appended; a rename or type change needs a new
//! `schema_version` and a new table.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::report::Report;

/// Written into every row's `schema_version` column.
pub const SCHEMA_VERSION: i32 = 1;

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Int32,
    Int64,
    /// Milliseconds, UTC.
    Timestamp,
    Date,
}

impl ColumnType {
    pub fn arrow(self) -> DataType {
        match self {
            Self::String => DataType::Utf8,
            Self::Int32 => DataType::Int32,
            Self::Int64 => DataType::Int64,
            Self::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            Self::Date => DataType::Date32,
        }
    }

    pub fn glue(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Int32 => "int",
            Self::Int64 => "bigint",
            Self::Timestamp => "timestamp",
            Self::Date => "date",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnType,
    pub nullable: bool,
    pub comment: &'static str,
}

const fn col(
    name: &'static str,
    kind: ColumnType,
    nullable: bool,
    comment: &'static str,
) -> Column {
    Column {
        name,
        kind,
        nullable,
        comment,
    }
}

use ColumnType::{Date, Int32, Int64, String as Str, Timestamp};

/// A table: its name (also the S3 prefix) and columns, in order: the identifying
/// [`LEADING`] columns, the table's own, [`TRAILING`], then the columns appended since
/// (so files written before them keep every column at its place).
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub comment: &'static str,
    own_columns: &'static [Column],
    appended: &'static [Column],
}

/// The columns every table starts with: which run and which cluster a row belongs to.
const LEADING: &[Column] = &[
    col(
        "schema_version",
        Int32,
        false,
        "version of this table's columns",
    ),
    col(
        "run_id",
        Str,
        false,
        "the run that wrote the row (UUIDv7, time-ordered)",
    ),
    col("run_time", Timestamp, false, "when the run started"),
    col("account_id", Str, true, "AWS account of the cluster"),
    col("region", Str, true, "AWS region of the cluster"),
    col("cluster_name", Str, false, "cluster name"),
    col("cluster_arn", Str, true, "cluster ARN"),
];

/// The columns every table ends with.
const TRAILING: &[Column] = &[col("tool_version", Str, false, "eksup version")];

pub static FINDINGS: Table = Table {
    name: "findings",
    comment: "One row per finding per cluster per run.",
    own_columns: &[
        col(
            "current_version",
            Str,
            false,
            "control-plane Kubernetes version, e.g. 1.31",
        ),
        col(
            "target_version",
            Str,
            false,
            "version the findings are evaluated for",
        ),
        col("code", Str, false, "check code, e.g. K8S002"),
        col("title", Str, false, "check title"),
        col("remediation", Str, false, "required or recommended"),
        col("category", Str, false, "aws, eks or kubernetes"),
        col(
            "resource_kind",
            Str,
            false,
            "kind of the resource the finding is about",
        ),
        col(
            "resource_namespace",
            Str,
            false,
            "namespace; empty for cluster-scoped resources",
        ),
        col("resource_name", Str, false, "resource name"),
        col("message", Str, false, "what is wrong and what to do"),
        col(
            "details",
            Str,
            false,
            "check-specific facts as a JSON object",
        ),
    ],
    appended: &[],
};

pub static CLUSTERS: Table = Table {
    name: "clusters",
    comment: "One row per cluster per run, also for clusters that could not be read (status = error).",
    own_columns: &[
        col(
            "status",
            Str,
            false,
            "ok, partial (a source could not be read) or error (the cluster could not be read)",
        ),
        col(
            "error",
            Str,
            true,
            "why the cluster or a source could not be read",
        ),
        col(
            "current_version",
            Str,
            true,
            "control-plane Kubernetes version",
        ),
        col(
            "target_version",
            Str,
            true,
            "version the findings are evaluated for",
        ),
        col("platform_version", Str, true, "EKS platform version"),
        col("support_status", Str, true, "standard, extended or ended"),
        col(
            "end_of_standard_support",
            Date,
            true,
            "end of standard support of current_version",
        ),
        col(
            "end_of_extended_support",
            Date,
            true,
            "end of extended support of current_version",
        ),
        col(
            "days_to_end_of_standard_support",
            Int32,
            true,
            "days from run_time; negative once passed",
        ),
        col(
            "days_to_end_of_extended_support",
            Int32,
            true,
            "days from run_time; negative once passed",
        ),
        col("calendar_source", Str, true, "eks-api or embedded"),
        col("nodes", Int32, true, "Kubernetes nodes"),
        col("node_groups", Int32, true, "managed node groups"),
        col(
            "self_managed_node_groups",
            Int32,
            true,
            "self-managed Auto Scaling groups",
        ),
        col("fargate_profiles", Int32, true, "Fargate profiles"),
        col("addons", Int32, true, "EKS addons"),
        col(
            "required_findings",
            Int32,
            false,
            "findings that block the upgrade",
        ),
        col(
            "recommended_findings",
            Int32,
            false,
            "findings worth fixing",
        ),
        col(
            "collection_errors",
            Int32,
            false,
            "sources that could not be read",
        ),
        col("duration_ms", Int64, false, "time spent on this cluster"),
    ],
    appended: &[
        col(
            "readiness",
            Str,
            false,
            "blocked (a required finding), unknown (a check that can block could not run; every status=error row) or ready; null in partitions written before it: read as unknown",
        ),
        col(
            "checks_run",
            Int32,
            true,
            "checks evaluated; null when the cluster could not be analyzed",
        ),
        col(
            "checks_skipped",
            Int32,
            true,
            "checks skipped (disabled, out of range, or data not collected); null when the cluster could not be analyzed",
        ),
        col(
            "ca_successor_status",
            Str,
            true,
            "a successor certificate authority not yet signing (EKS106): NOT_USED or ACTIVATING; null when no rotation is under way or the CAs were not read",
        ),
        col(
            "ca_successor_distribution",
            Str,
            true,
            "the successor CA's distribution by EKS to the components it manages: IN_PROGRESS, COMPLETE, FAILED or DELETING",
        ),
        col(
            "ca_next_auto_activation",
            Date,
            true,
            "the successor CA's next scheduled auto-activation on or after the day the run judged (firstAutoActivation while ahead, else finalAutoActivation)",
        ),
        col(
            "ca_signing_expires",
            Date,
            true,
            "validity.notAfter of the signing CA during a rotation",
        ),
        col(
            "rollback_window_ends",
            Timestamp,
            true,
            "until when EKS can roll the control plane back one minor: the latest successful version update's createdAt + 7 days (past once closed); null when no version update to the current version is on record",
        ),
        col(
            "extended_support_extra_cents_per_month",
            Int64,
            true,
            "what extended support adds to this cluster's EKS bill per month, in US cents, at the list prices of data/eks-prices.csv ($0.60 - $0.10 per cluster-hour x 730 hours = 36500 past the end of standard support; 0 before); null when the version's dates are unknown",
        ),
        col(
            "target_support_status",
            Str,
            true,
            "standard, extended or ended for target_version as of run_time; unknown when EKS has not published its dates (never guessed)",
        ),
        col(
            "target_end_of_standard_support",
            Date,
            true,
            "end of standard support of target_version; null when unknown",
        ),
    ],
};

pub static TABLES: [&Table; 2] = [&FINDINGS, &CLUSTERS];

impl Table {
    /// Every column, in order.
    pub fn columns(&self) -> impl Iterator<Item = &'static Column> {
        LEADING
            .iter()
            .chain(self.own_columns)
            .chain(TRAILING)
            .chain(self.appended)
    }

    pub fn arrow_schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(
            self.columns()
                .map(|c| Field::new(c.name, c.kind.arrow(), c.nullable))
                .collect::<Vec<_>>(),
        ))
    }
}

/// A row of `findings`; field order and names are the table's columns.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingRow {
    pub schema_version: i32,
    pub run_id: String,
    pub run_time: DateTime<Utc>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub cluster_name: String,
    pub cluster_arn: Option<String>,
    pub current_version: String,
    pub target_version: String,
    pub code: String,
    pub title: String,
    pub remediation: String,
    pub category: String,
    pub resource_kind: String,
    pub resource_namespace: String,
    pub resource_name: String,
    pub message: String,
    pub details: String,
    pub tool_version: String,
}

/// A row of `clusters`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClusterRow {
    pub schema_version: i32,
    pub run_id: String,
    pub run_time: DateTime<Utc>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub cluster_name: String,
    pub cluster_arn: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub current_version: Option<String>,
    pub target_version: Option<String>,
    pub platform_version: Option<String>,
    pub support_status: Option<String>,
    pub end_of_standard_support: Option<NaiveDate>,
    pub end_of_extended_support: Option<NaiveDate>,
    pub days_to_end_of_standard_support: Option<i32>,
    pub days_to_end_of_extended_support: Option<i32>,
    pub calendar_source: Option<String>,
    pub nodes: Option<i32>,
    pub node_groups: Option<i32>,
    pub self_managed_node_groups: Option<i32>,
    pub fargate_profiles: Option<i32>,
    pub addons: Option<i32>,
    pub required_findings: i32,
    pub recommended_findings: i32,
    pub collection_errors: i32,
    pub duration_ms: i64,
    pub tool_version: String,
    pub readiness: String,
    pub checks_run: Option<i32>,
    pub checks_skipped: Option<i32>,
    pub ca_successor_status: Option<String>,
    pub ca_successor_distribution: Option<String>,
    pub ca_next_auto_activation: Option<NaiveDate>,
    pub ca_signing_expires: Option<NaiveDate>,
    pub rollback_window_ends: Option<DateTime<Utc>>,
    pub extended_support_extra_cents_per_month: Option<i64>,
    pub target_support_status: Option<String>,
    pub target_end_of_standard_support: Option<NaiveDate>,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The `findings` rows of one report.
pub fn finding_rows(report: &Report, run_time: DateTime<Utc>) -> Vec<FindingRow> {
    let m = &report.metadata;
    report
        .findings
        .iter()
        .map(|f| FindingRow {
            schema_version: SCHEMA_VERSION,
            run_id: m.run_id.to_string(),
            run_time,
            account_id: m.account_id.clone(),
            region: m.region.clone(),
            cluster_name: m.cluster_name.clone(),
            cluster_arn: m.cluster_arn.clone(),
            current_version: m.current_version.to_string(),
            target_version: m.target_version.to_string(),
            code: f.code.clone(),
            title: f.title.clone(),
            remediation: f.remediation.as_str().to_string(),
            category: f.category.as_str().to_string(),
            resource_kind: f.resource_kind.clone(),
            resource_namespace: f.resource_namespace.clone(),
            resource_name: f.resource_name.clone(),
            message: f.message.clone(),
            details: f.details.to_string(),
            tool_version: m.tool_version.clone(),
        })
        .collect()
}

/// The `clusters` row of one analyzed cluster, its dates judged as of `as_of` (the day the
/// report was evaluated for).
pub fn cluster_row(
    report: &Report,
    snapshot: &crate::snapshot::Snapshot,
    run_time: DateTime<Utc>,
    as_of: NaiveDate,
    duration_ms: i64,
) -> ClusterRow {
    let m = &report.metadata;
    let aws = snapshot.aws.as_ref();
    let partial = !report.collection_errors.is_empty();
    let rotation = aws
        .and_then(|a| a.certificate_authorities.as_deref())
        .and_then(crate::checks::eks::ca_rotation);
    ClusterRow {
        schema_version: SCHEMA_VERSION,
        run_id: m.run_id.to_string(),
        run_time,
        account_id: m.account_id.clone(),
        region: m.region.clone(),
        cluster_name: m.cluster_name.clone(),
        cluster_arn: m.cluster_arn.clone(),
        status: if partial { "partial" } else { "ok" }.into(),
        error: partial.then(|| {
            report
                .collection_errors
                .iter()
                .map(|e| format!("{}: {}", e.source, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        }),
        current_version: Some(m.current_version.to_string()),
        target_version: Some(m.target_version.to_string()),
        platform_version: m.platform_version.clone(),
        support_status: m.support.as_ref().map(|s| s.status.as_str().into()),
        end_of_standard_support: m.support.as_ref().map(|s| s.end_of_standard_support),
        end_of_extended_support: m.support.as_ref().map(|s| s.end_of_extended_support),
        days_to_end_of_standard_support: m
            .support
            .as_ref()
            .map(|s| s.days_to_end_of_standard_support as i32),
        days_to_end_of_extended_support: m
            .support
            .as_ref()
            .map(|s| s.days_to_end_of_extended_support as i32),
        calendar_source: m.support.as_ref().map(|s| s.source.as_str().into()),
        nodes: Some(count(snapshot.kubernetes.nodes.len())),
        node_groups: aws.map(|a| count(a.node_groups.len())),
        self_managed_node_groups: aws.map(|a| count(a.self_managed_groups.len())),
        fargate_profiles: aws.map(|a| count(a.fargate_profiles.len())),
        addons: aws.map(|a| count(a.addons.len())),
        required_findings: count(report.summary.required),
        recommended_findings: count(report.summary.recommended),
        collection_errors: count(report.collection_errors.len()),
        duration_ms,
        tool_version: m.tool_version.clone(),
        readiness: m.readiness.as_str().into(),
        checks_run: Some(count(m.checks_run)),
        checks_skipped: Some(count(m.checks_skipped)),
        ca_successor_status: rotation.map(|r| r.successor.signing_status.clone()),
        ca_successor_distribution: rotation.and_then(|r| r.successor.distribution_status.clone()),
        ca_next_auto_activation: rotation.and_then(|r| r.next_auto_activation(as_of)),
        ca_signing_expires: rotation.and_then(|r| r.signing_expires()),
        rollback_window_ends: m.rollback.as_ref().map(|r| r.available_until),
        extended_support_extra_cents_per_month: m.support.as_ref().map(|s| {
            crate::price::Prices::embedded().extra_cents_per_month(s.status.bills_extended())
        }),
        target_support_status: Some(
            m.target_support
                .as_ref()
                .map_or("unknown", |s| s.status.as_str())
                .into(),
        ),
        target_end_of_standard_support: m
            .target_support
            .as_ref()
            .map(|s| s.end_of_standard_support),
    }
}

/// The `clusters` row of a cluster that could not be read: silence is a problem, not "no
/// findings".
pub fn error_row(
    run_id: &str,
    run_time: DateTime<Utc>,
    account_id: Option<String>,
    region: Option<String>,
    cluster: &str,
    error: String,
    duration_ms: i64,
) -> ClusterRow {
    ClusterRow {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.to_string(),
        run_time,
        account_id,
        region,
        cluster_name: cluster.to_string(),
        status: "error".into(),
        error: Some(error),
        duration_ms,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        // Nothing was evaluated: never "ready".
        readiness: crate::checks::Readiness::Unknown.as_str().into(),
        ..ClusterRow::default()
    }
}

/// `eksup schema --format glue-json`: each table's columns as Glue `Column` objects.
pub fn glue_json() -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for t in TABLES {
        let columns: Vec<serde_json::Value> = t
            .columns()
            .map(|c| {
                serde_json::json!({
                    "Name": c.name,
                    "Type": c.kind.glue(),
                    "Comment": c.comment,
                    "Parameters": {"eksup.nullable": c.nullable.to_string()},
                })
            })
            .collect();
        out.insert(t.name.to_string(), serde_json::Value::Array(columns));
    }
    out.insert("schema_version".into(), SCHEMA_VERSION.into());
    serde_json::Value::Object(out)
}

/// `eksup schema --format ddl`: Athena DDL for both tables, partitioned by `dt` with
/// partition projection, over `${bucket}`/`${prefix}` placeholders for the deployment.
pub fn athena_ddl() -> String {
    let mut out = String::new();
    for t in TABLES {
        let cols: Vec<String> = t
            .columns()
            .map(|c| {
                format!(
                    "  `{}` {} COMMENT '{}'",
                    c.name,
                    c.kind.glue(),
                    c.comment.replace('\'', "''")
                )
            })
            .collect();
        out.push_str(&format!(
            "-- {comment}\nCREATE EXTERNAL TABLE IF NOT EXISTS {name} (\n{cols}\n)\nPARTITIONED BY (`dt` string)\nSTORED AS PARQUET\nLOCATION 's3://${{bucket}}/${{prefix}}/{name}/'\nTBLPROPERTIES (\n  'projection.enabled' = 'true',\n  'projection.dt.type' = 'date',\n  'projection.dt.format' = 'yyyy-MM-dd',\n  'projection.dt.range' = '2024-01-01,NOW',\n  'projection.dt.interval' = '1',\n  'projection.dt.interval.unit' = 'DAYS',\n  'storage.location.template' = 's3://${{bucket}}/${{prefix}}/{name}/dt=${{dt}}/'\n);\n\n",
            comment = t.comment,
            name = t.name,
            cols = cols.join(",\n"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row's keys in the order it serializes them. `serde_json::Value` would sort them
    /// (no `preserve_order`), so read the JSON text's map keys as they come.
    fn keys_of<T: Serialize + Default>() -> Vec<String> {
        struct Keys(Vec<String>);
        impl<'de> serde::Deserialize<'de> for Keys {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Keys;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Keys, A::Error> {
                        let mut keys = Vec::new();
                        while let Some((k, serde::de::IgnoredAny)) = map.next_entry()? {
                            keys.push(k);
                        }
                        Ok(Keys(keys))
                    }
                }
                d.deserialize_map(V)
            }
        }
        let text = serde_json::to_string(&T::default()).unwrap();
        serde_json::from_str::<Keys>(&text).unwrap().0
    }

    fn declared(t: &Table) -> Vec<String> {
        t.columns().map(|c| c.name.to_string()).collect()
    }

    #[test]
    fn row_structs_match_the_declared_columns_in_order() {
        assert_eq!(keys_of::<ClusterRow>(), declared(&CLUSTERS));
        assert_eq!(keys_of::<FindingRow>(), declared(&FINDINGS));
    }

    #[test]
    fn columns_are_unique_and_start_with_the_schema_version() {
        for t in TABLES {
            let mut names: Vec<&str> = t.columns().map(|c| c.name).collect();
            assert_eq!(names[0], "schema_version");
            names.sort();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{}", t.name);
        }
    }

    #[test]
    fn ddl_uses_partition_projection_on_dt() {
        let ddl = athena_ddl();
        assert!(ddl.contains("CREATE EXTERNAL TABLE IF NOT EXISTS findings ("));
        assert!(ddl.contains("'projection.dt.type' = 'date'"));
        assert!(ddl.contains("`days_to_end_of_standard_support` int"));
    }
}
