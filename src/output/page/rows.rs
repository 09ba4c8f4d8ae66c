//! The `clusters` and `findings` Parquet files read back into plain records, by column name.
//!
//! Columns are only ever appended to the tables (see [`crate::output::tables`]), so a reader must
//! cope with files written before a column existed: every column but the identifying ones is
//! optional here, and a missing column reads as null. Values are cast to the type this reader
//! wants, so a file whose writer chose a wider integer or string type still reads.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Date32Type, Int64Type, TimeUnit, TimestampMillisecondType};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub use crate::output::fleet::ClusterRecord;

/// A required finding of a cluster's latest run (a `findings` row).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FindingRecord {
    pub run_id: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub cluster_name: String,
    pub code: String,
    pub title: String,
    pub remediation: String,
    pub resource_kind: String,
    pub resource_namespace: String,
    pub resource_name: String,
    pub message: String,
}

/// One record batch with its columns looked up by name and cast once.
struct Columns<'a> {
    batch: &'a RecordBatch,
    what: &'a str,
}

impl Columns<'_> {
    fn get(&self, name: &str, to: &DataType) -> Result<Option<ArrayRef>, String> {
        let Some(col) = self.batch.column_by_name(name) else {
            return Ok(None);
        };
        arrow::compute::cast(col, to)
            .map(Some)
            .map_err(|e| format!("{}: column {name} cannot be read as {to}: {e}", self.what))
    }

    fn required(&self, name: &str, to: &DataType) -> Result<ArrayRef, String> {
        self.get(name, to)?.ok_or_else(|| {
            format!(
                "{}: no column {name}: not a table written by eksup run",
                self.what
            )
        })
    }
}

fn strings(a: &Option<ArrayRef>, i: usize) -> Option<String> {
    let a = a.as_ref()?;
    (!a.is_null(i)).then(|| a.as_string::<i32>().value(i).to_string())
}

fn int(a: &Option<ArrayRef>, i: usize) -> Option<i64> {
    let a = a.as_ref()?;
    (!a.is_null(i)).then(|| a.as_primitive::<Int64Type>().value(i))
}

fn date(a: &Option<ArrayRef>, i: usize) -> Option<NaiveDate> {
    let a = a.as_ref()?;
    if a.is_null(i) {
        return None;
    }
    a.as_primitive::<Date32Type>().value_as_date(i)
}

const UTF8: DataType = DataType::Utf8;
const I64: DataType = DataType::Int64;

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// Opens one Parquet file, reading only the columns in `wanted` that it has.
fn batches(body: Bytes, what: &str, wanted: &[&str]) -> Result<Vec<RecordBatch>, String> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(body)
        .map_err(|e| format!("{what}: not a readable Parquet file: {e}"))?;
    let indices: Vec<usize> = wanted
        .iter()
        .filter_map(|n| builder.schema().index_of(n).ok())
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
    builder
        .with_projection(mask)
        .build()
        .map_err(|e| format!("{what}: {e}"))?
        .map(|b| b.map_err(|e| format!("{what}: {e}")))
        .collect()
}

const CLUSTER_COLUMNS: &[&str] = &[
    "run_id",
    "run_time",
    "account_id",
    "region",
    "cluster_name",
    "status",
    "error",
    "current_version",
    "target_version",
    "end_of_standard_support",
    "end_of_extended_support",
    "required_findings",
    "recommended_findings",
    "collection_errors",
    "readiness",
    "checks_run",
    "checks_skipped",
    "rollback_window_ends",
];

/// The rows of one `clusters` file of partition `dt`.
pub fn clusters(
    body: Bytes,
    what: &str,
    dt: NaiveDate,
    file_name: &str,
) -> Result<Vec<ClusterRecord>, String> {
    let mut out = Vec::new();
    for batch in batches(body, what, CLUSTER_COLUMNS)? {
        let c = Columns {
            batch: &batch,
            what,
        };
        let run_id = Some(c.required("run_id", &UTF8)?);
        let run_time = c.required("run_time", &timestamp())?;
        let name = Some(c.required("cluster_name", &UTF8)?);
        let status = Some(c.required("status", &UTF8)?);
        let account = c.get("account_id", &UTF8)?;
        let region = c.get("region", &UTF8)?;
        let error = c.get("error", &UTF8)?;
        let current = c.get("current_version", &UTF8)?;
        let target = c.get("target_version", &UTF8)?;
        let eoss = c.get("end_of_standard_support", &DataType::Date32)?;
        let eoes = c.get("end_of_extended_support", &DataType::Date32)?;
        let required = c.get("required_findings", &I64)?;
        let recommended = c.get("recommended_findings", &I64)?;
        let collection_errors = c.get("collection_errors", &I64)?;
        let readiness = c.get("readiness", &UTF8)?;
        let checks_run = c.get("checks_run", &I64)?;
        let checks_skipped = c.get("checks_skipped", &I64)?;
        let rollback = c.get("rollback_window_ends", &timestamp())?;
        let times = run_time.as_primitive::<TimestampMillisecondType>();
        for i in 0..batch.num_rows() {
            let (Some(run_time), Some(cluster_name)) = (
                (!times.is_null(i))
                    .then(|| DateTime::from_timestamp_millis(times.value(i)))
                    .flatten(),
                strings(&name, i),
            ) else {
                return Err(format!("{what}: row {i} has no run_time or cluster_name"));
            };
            out.push(ClusterRecord {
                dt,
                file_name: file_name.to_string(),
                run_id: strings(&run_id, i).unwrap_or_default(),
                run_time,
                account_id: strings(&account, i),
                region: strings(&region, i),
                cluster_name,
                status: strings(&status, i).unwrap_or_default(),
                error: strings(&error, i),
                current_version: strings(&current, i),
                target_version: strings(&target, i),
                end_of_standard_support: date(&eoss, i),
                end_of_extended_support: date(&eoes, i),
                required_findings: int(&required, i).unwrap_or(0),
                recommended_findings: int(&recommended, i).unwrap_or(0),
                collection_errors: int(&collection_errors, i).unwrap_or(0),
                readiness: strings(&readiness, i),
                checks_run: int(&checks_run, i),
                checks_skipped: int(&checks_skipped, i),
                rollback_window_ends: rollback.as_ref().and_then(|a| {
                    let a = a.as_primitive::<TimestampMillisecondType>();
                    (!a.is_null(i))
                        .then(|| DateTime::from_timestamp_millis(a.value(i)))
                        .flatten()
                }),
            });
        }
    }
    Ok(out)
}

const FINDING_COLUMNS: &[&str] = &[
    "run_id",
    "account_id",
    "region",
    "cluster_name",
    "code",
    "title",
    "remediation",
    "resource_kind",
    "resource_namespace",
    "resource_name",
    "message",
];

/// The rows of one `findings` file for which `keep` holds (the report keeps only the
/// required findings of each cluster's latest run, so the rest is dropped as it is read).
pub fn findings(
    body: Bytes,
    what: &str,
    keep: impl Fn(&FindingRecord) -> bool,
) -> Result<Vec<FindingRecord>, String> {
    let mut out = Vec::new();
    for batch in batches(body, what, FINDING_COLUMNS)? {
        let c = Columns {
            batch: &batch,
            what,
        };
        // The columns that identify a finding must be there; the rest read as empty if not.
        let must = |n: &str| c.required(n, &UTF8).map(Some);
        let (run_id, name, code, remediation) = (
            must("run_id")?,
            must("cluster_name")?,
            must("code")?,
            must("remediation")?,
        );
        let account = c.get("account_id", &UTF8)?;
        let region = c.get("region", &UTF8)?;
        let title = c.get("title", &UTF8)?;
        let kind = c.get("resource_kind", &UTF8)?;
        let namespace = c.get("resource_namespace", &UTF8)?;
        let resource = c.get("resource_name", &UTF8)?;
        let message = c.get("message", &UTF8)?;
        let text = |a: &Option<ArrayRef>, i| strings(a, i).unwrap_or_default();
        for i in 0..batch.num_rows() {
            let f = FindingRecord {
                run_id: text(&run_id, i),
                account_id: strings(&account, i),
                region: strings(&region, i),
                cluster_name: text(&name, i),
                code: text(&code, i),
                title: text(&title, i),
                remediation: text(&remediation, i),
                resource_kind: text(&kind, i),
                resource_namespace: text(&namespace, i),
                resource_name: text(&resource, i),
                message: text(&message, i),
            };
            if keep(&f) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::sink::encode;
    use crate::output::tables::{self, CLUSTERS, ClusterRow};

    fn row(name: &str) -> ClusterRow {
        ClusterRow {
            schema_version: tables::SCHEMA_VERSION,
            run_id: "r1".into(),
            run_time: DateTime::from_timestamp_millis(1_783_296_000_000).unwrap(),
            cluster_name: name.into(),
            status: "ok".into(),
            current_version: Some("1.33".into()),
            end_of_standard_support: NaiveDate::from_ymd_opt(2026, 7, 29),
            required_findings: 3,
            ..Default::default()
        }
    }

    #[test]
    fn reads_back_what_the_writer_wrote_and_missing_columns_as_null() {
        let json = encode::json_lines(&[row("a"), row("<b>")]);
        let body = encode::parquet(&CLUSTERS, &json).unwrap();
        let dt = NaiveDate::from_ymd_opt(2026, 7, 6).unwrap();
        let got = clusters(body.into(), "test", dt, "r1-w.parquet").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].cluster_name, "<b>");
        assert_eq!(got[0].required_findings, 3);
        assert_eq!(
            got[0].end_of_standard_support,
            row("a").end_of_standard_support
        );
        assert_eq!(got[0].run_time, row("a").run_time);
        // Written before the verdict columns existed (or by this version): null, not an error.
        if CLUSTERS.columns().all(|c| c.name != "readiness") {
            assert_eq!(got[0].readiness, None);
        }
    }

    #[test]
    fn findings_are_filtered_as_they_are_read() {
        let row = |code: &str, remediation: &str| tables::FindingRow {
            schema_version: tables::SCHEMA_VERSION,
            run_id: "r1".into(),
            cluster_name: "a".into(),
            code: code.into(),
            remediation: remediation.into(),
            message: "x </table>".into(),
            details: "{}".into(),
            ..Default::default()
        };
        let json = encode::json_lines(&[row("K8S002", "required"), row("K8S005", "recommended")]);
        let body = encode::parquet(&tables::FINDINGS, &json).unwrap();
        let got = findings(body.into(), "test", |f| f.remediation == "required").unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].code.as_str(), got[0].message.as_str()),
            ("K8S002", "x </table>")
        );
        assert_eq!(got[0].account_id, None);
    }

    #[test]
    fn a_file_that_is_not_parquet_is_a_clear_error() {
        let dt = NaiveDate::from_ymd_opt(2026, 7, 6).unwrap();
        let err = clusters(Bytes::from_static(b"nope"), "x.parquet", dt, "x").unwrap_err();
        assert!(
            err.contains("x.parquet: not a readable Parquet file"),
            "{err}"
        );
    }
}
