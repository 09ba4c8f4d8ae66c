//! The report for people: a header, one table per check that fired, what was skipped or
//! could not be read, and a one-line summary.

use std::fmt::Write;

use super::{table, wrap, wrap_parts};
use crate::checks::lookup;
use crate::finding::{Finding, counted};
use crate::report::Report;

/// What the report says of a version whose support dates EKS has not published.
const UNKNOWN_DATES: &str =
    "unknown (EKS has not published its dates; DescribeClusterVersions gives them at run time)";

/// Columns a check's table shows between the resource and the message: `(header, details key)`.
fn extra_columns(code: &str) -> &'static [(&'static str, &'static str)] {
    match code {
        "K8S001" => &[("Nodes", "nodes")],
        "AWS001" | "AWS002" => &[
            ("Free IPs", "available_ips"),
            ("Subnets (free IPs)", "subnets"),
        ],
        "AWS003" | "AWS004" | "AWS005" => {
            &[("Usage", "usage"), ("Limit", "limit"), ("%", "percent")]
        }
        "EKS005" => &[
            ("Installed", "installed"),
            ("Target default", "target_default"),
            ("Unsupported on", "unsupported_on"),
        ],
        "EKS006" | "EKS007" => &[
            ("Template", "launch_template_name"),
            ("Used", "used_version"),
            ("Latest", "latest_version"),
            ("Default", "default_version"),
        ],
        "EKS008" => &[
            ("AMI type", "ami_type"),
            ("Nodes", "nodes"),
            ("OS image", "os_images"),
        ],
        "EKS009" | "EKS010" => &[("Status", "status"), ("Recommendation", "recommendation")],
        "EKS106" => &[
            ("Successor", "successor_status"),
            ("Distribution", "distribution_status"),
            ("Auto-activated by", "final_auto_activation"),
            ("Signing CA expires", "signing_ca_not_after"),
        ],
        "K8S101" => &[("Workloads", "workloads"), ("Replicas", "replicas")],
        "K8S102" => &[("Budgets", "budgets")],
        "K8S015" => &[("Volumes", "volumes")],
        "K8S103" => &[("Nodes", "nodes"), ("OS image", "os_images")],
        "K8S014" => &[("Nodes", "nodes"), ("Runtime", "runtimes")],
        _ => &[],
    }
}

/// A details value as a table cell; subnets read as `id (free IPs)`.
fn cell(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| match (v.get("id"), v.get("available_ips")) {
                (Some(id), Some(free)) => format!("{} ({free})", cell(id)),
                _ => cell(v),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The report fitted to `width` columns: tables shrink and wrap their cells, prose wraps at
/// words (a URL longer than a line is left whole).
pub fn render(report: &Report, width: u16) -> String {
    let m = &report.metadata;
    let mut out = String::new();
    let line = |parts: &[&str]| wrap_parts(parts, width, "  ");
    // The verdict first: a fleet operator reading many reports wants the answer up top.
    let verdict = report.verdict_line();
    let _ = writeln!(out, "{}", line(&verdict.split(" · ").collect::<Vec<_>>()));
    // "(us-east-1, account 1111…)", with whichever of the two is known.
    let place: Vec<String> = [
        m.region.clone(),
        m.account_id.as_ref().map(|a| format!("account {a}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let place = if place.is_empty() {
        String::new()
    } else {
        format!(" ({})", place.join(", "))
    };
    let _ = writeln!(
        out,
        "{}",
        line(&[
            &format!("eksup {}", m.tool_version),
            &format!("cluster {}{place}", m.cluster_name)
        ])
    );
    let path: Vec<String> = m.upgrade_path.iter().map(ToString::to_string).collect();
    if let Some(support) = &m.support {
        let _ = writeln!(
            out,
            "{}",
            line(&[
                &format!(
                    "Support for {}: {}",
                    m.current_version,
                    support.status.as_str()
                ),
                &format!(
                    "standard support ends {} ({})",
                    support.end_of_standard_support,
                    counted(support.days_to_end_of_standard_support, "day", "days"),
                ),
                &format!(
                    "extended support ends {} ({})",
                    support.end_of_extended_support,
                    counted(support.days_to_end_of_extended_support, "day", "days"),
                ),
                &format!("calendar: {}", support.source.as_str()),
            ])
        );
    }
    if m.support.is_none() {
        let text = line(&[&format!(
            "Support for {}: {UNKNOWN_DATES}",
            m.current_version
        )]);
        let _ = writeln!(out, "{text}");
    }
    if m.target_version != m.current_version {
        let head = format!("Support for {} (target):", m.target_version);
        let text = match &m.target_support {
            Some(s) => line(&[
                &format!("{head} standard support ends {}", s.end_of_standard_support),
                &format!("extended support ends {}", s.end_of_extended_support),
            ]),
            None => line(&[&format!("{head} {UNKNOWN_DATES}")]),
        };
        let _ = writeln!(out, "{text}");
    }
    let _ = writeln!(
        out,
        "{}",
        line(&[
            &format!(
                "Upgrade {} → {}{}",
                m.current_version,
                m.target_version,
                if path.len() > 1 {
                    format!(" (hops: {})", path.join(" → "))
                } else {
                    String::new()
                },
            ),
            &format!("run {}", m.run_id),
            &m.generated_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        ])
    );

    for code in &report.summary.checks_with_findings {
        let rows: Vec<&Finding> = report.findings.iter().filter(|f| &f.code == code).collect();
        let title = rows.first().map(|f| f.title.as_str()).unwrap_or_default();
        let heading = format!(
            "{code}  {title}  ({})",
            counted(rows.len(), "finding", "findings")
        );
        let _ = writeln!(out, "\n{}", wrap(&heading, width, "        "));
        let extra = extra_columns(code);
        let mut header = vec!["Remediation", "Kind", "Resource"];
        header.extend(extra.iter().map(|(h, _)| *h));
        header.push("Finding");
        // A list cell (subnets, node groups) wraps between its entries, not inside one.
        let mut least = vec![0; header.len()];
        for f in &rows {
            for (i, (_, key)) in extra.iter().enumerate() {
                let widest = cell(&f.details[*key])
                    .split(", ")
                    .map(|entry| entry.chars().count())
                    .max()
                    .unwrap_or(0);
                least[3 + i] = least[3 + i].max(widest);
            }
        }
        let mut table = table(&header, &least, width);
        for f in rows {
            let mut row = vec![
                f.remediation.as_str().to_string(),
                f.resource_kind.clone(),
                f.resource_path(),
            ];
            row.extend(extra.iter().map(|(_, key)| cell(&f.details[*key])));
            row.push(f.message.clone());
            table.add_row(row);
        }
        let _ = writeln!(out, "{table}");
        if let Some(check) = lookup(code) {
            let _ = writeln!(
                out,
                "{}\n{}",
                wrap(&format!("Fix: {}", check.advice), width, "     "),
                wrap(&format!("See: {}", check.doc_url), width, "     ")
            );
        }
    }

    if !report.skipped_checks.is_empty() {
        let _ = writeln!(out, "\nSkipped checks:");
        for s in &report.skipped_checks {
            let cause = match s.cause {
                crate::checks::SkipCause::NotApplicable => "",
                crate::checks::SkipCause::NotCollected => " [not collected]",
            };
            let label = s.label();
            let indent = " ".repeat(4 + label.chars().count());
            let entry = format!("  {label}  {}{cause}", s.reason);
            let _ = writeln!(out, "{}", wrap(&entry, width, &indent));
        }
    }
    if !report.collection_errors.is_empty() {
        let _ = writeln!(out, "\nCould not read (the report is partial):");
        for e in &report.collection_errors {
            let entry = format!("  {}: {}", e.source, e.message);
            let _ = writeln!(out, "{}", wrap(&entry, width, "    "));
        }
    }

    let s = &report.summary;
    let _ = writeln!(out);
    if report.findings.is_empty() {
        let text = format!(
            "No findings: no check found anything to fix before upgrading {} to {}.",
            m.cluster_name, m.target_version
        );
        let _ = writeln!(out, "{}", wrap(&text, width, "  "));
    } else {
        // The header counts the checks that ran; this, those of them that found something.
        let text = format!(
            "Summary: {} required and {} recommended {}, reported by {} of the {} run.",
            s.required,
            s.recommended,
            if s.required + s.recommended == 1 {
                "finding"
            } else {
                "findings"
            },
            s.checks_with_findings.len(),
            counted(m.checks_run, "check", "checks"),
        );
        let _ = writeln!(out, "{}", wrap(&text, width, "  "));
    }
    out
}
