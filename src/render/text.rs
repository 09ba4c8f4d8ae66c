//! The report for people: a header, one table per check that fired, what was skipped or
//! could not be read, and a one-line summary.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::checks::lookup;
use crate::finding::Finding;
use crate::report::Report;

const TABLE_WIDTH: u16 = 140;

pub fn render(report: &Report) -> String {
    let m = &report.metadata;
    let mut out = String::new();
    let place = [m.region.as_deref(), m.account_id.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", account ");
    let _ = writeln!(
        out,
        "eksup {} · cluster {}{}",
        m.tool_version,
        m.cluster_name,
        if place.is_empty() {
            String::new()
        } else {
            format!(" ({place})")
        }
    );
    let path: Vec<String> = m.upgrade_path.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        out,
        "Upgrade {} → {}{} · run {} · {}",
        m.current_version,
        m.target_version,
        if path.len() > 1 {
            format!(" (hops: {})", path.join(" → "))
        } else {
            String::new()
        },
        m.run_id,
        m.generated_at.format("%Y-%m-%d %H:%M:%S UTC")
    );

    for code in &report.summary.checks_with_findings {
        let rows: Vec<&Finding> = report.findings.iter().filter(|f| &f.code == code).collect();
        let title = rows.first().map(|f| f.title.as_str()).unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{code}  {title}  ({} finding{})",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        );
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(TABLE_WIDTH)
            .set_header(["Remediation", "Kind", "Resource", "Finding"]);
        for f in rows {
            table.add_row([
                f.remediation.as_str().to_string(),
                f.resource_kind.clone(),
                f.resource_path(),
                f.message.clone(),
            ]);
        }
        let _ = writeln!(out, "{table}");
        if let Some(check) = lookup(code) {
            let _ = writeln!(out, "Fix: {}\nSee: {}", check.advice, check.doc_url);
        }
    }

    if !report.skipped_checks.is_empty() {
        let _ = writeln!(out, "\nSkipped checks:");
        for s in &report.skipped_checks {
            let _ = writeln!(out, "  {}  {}", s.code, s.reason);
        }
    }
    if !report.collection_errors.is_empty() {
        let _ = writeln!(out, "\nCould not read (the report is partial):");
        for e in &report.collection_errors {
            let _ = writeln!(out, "  {}: {}", e.source, e.message);
        }
    }

    let s = &report.summary;
    let _ = writeln!(out);
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "No findings: no check found anything to fix before upgrading {} to {}.",
            m.cluster_name, m.target_version
        );
    } else {
        let _ = writeln!(
            out,
            "Summary: {} required, {} recommended finding(s) from {} check(s).",
            s.required,
            s.recommended,
            s.checks_with_findings.len()
        );
    }
    out
}
