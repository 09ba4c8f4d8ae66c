//! Rows as JSON lines and as Parquet. The Parquet file is decoded from the very JSON lines
//! written next to it, against the table's declared Arrow schema, so the two can never
//! disagree and a row that does not fit the schema is an error, not a silent cast.

use std::io::Cursor;

use arrow::json::ReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::Serialize;

use crate::output::tables::Table;

/// Rows per Arrow batch / Parquet row group slice while encoding.
const BATCH_ROWS: usize = 8192;

pub fn json_lines<T: Serialize>(rows: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 512);
    for row in rows {
        serde_json::to_writer(&mut out, row).expect("rows serialize");
        out.push(b'\n');
    }
    out
}

/// Parquet (zstd) of `json_lines` under `table`'s schema.
pub fn parquet(table: &Table, json_lines: &[u8]) -> Result<Vec<u8>, String> {
    let schema = table.arrow_schema();
    let reader = ReaderBuilder::new(schema.clone())
        .with_batch_size(BATCH_ROWS)
        .build(Cursor::new(json_lines))
        .map_err(|e| format!("{}: {e}", table.name))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid level"),
        ))
        .set_created_by(format!("eksup {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut out = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut out, schema, Some(props)).map_err(|e| e.to_string())?;
    for batch in reader {
        let batch = batch.map_err(|e| format!("{}: {e}", table.name))?;
        writer.write(&batch).map_err(|e| e.to_string())?;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::tables::{CLUSTERS, ClusterRow, SCHEMA_VERSION, error_row};
    use bytes::Bytes;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    #[test]
    fn parquet_reads_back_with_the_declared_schema() {
        let t = chrono::Utc::now();
        let mut ok = ClusterRow {
            schema_version: SCHEMA_VERSION,
            run_id: "r".into(),
            run_time: t,
            cluster_name: "a".into(),
            status: "ok".into(),
            end_of_standard_support: chrono::NaiveDate::from_ymd_opt(2026, 12, 2),
            days_to_end_of_standard_support: Some(9),
            ..Default::default()
        };
        ok.tool_version = "x".into();
        let rows = vec![ok, error_row("r", t, None, None, "b", "boom".into(), 5)];
        let bytes = parquet(&CLUSTERS, &json_lines(&rows)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes)).unwrap();
        assert_eq!(reader.schema().as_ref(), CLUSTERS.arrow_schema().as_ref());
        let batches: Vec<_> = reader.build().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    }
}
