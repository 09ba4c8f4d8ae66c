//! The page: [`model::FleetView`] plus the charts, rendered from `templates/report.html.j2`.
//!
//! The template's name ends in `.html.j2`, so minijinja escapes every value for HTML; the
//! only markup passed through unescaped (`|safe`) is the charts' SVG, which plotters writes
//! and whose text it escapes itself.

use std::collections::BTreeMap;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use super::charts;
use super::model::{self, FleetView};
use crate::checks::catalogue;

const TEMPLATE: &str = include_str!("../../../templates/report.html.j2");
const NAME: &str = "report.html.j2";

/// A chart and its text alternative: a caption that says what it shows and the same data
/// as a table.
#[derive(Debug, Serialize)]
struct Chart {
    id: &'static str,
    title: &'static str,
    summary: String,
    svg: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

#[derive(Debug, Serialize)]
struct Advice {
    title: &'static str,
    advice: &'static str,
    doc_url: &'static str,
}

#[derive(Debug, Serialize)]
struct Page<'a> {
    source: &'a str,
    generated_at: String,
    tool_version: &'static str,
    view: &'a FleetView,
    extended_month: String,
    standard_month: String,
    extra_month: String,
    extended_per_hour: String,
    standard_per_hour: String,
    charts: Vec<Chart>,
    advice: BTreeMap<String, Advice>,
}

/// `123456` cents → `$1,234.56`.
pub fn dollars(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("${grouped}.{:02}", cents % 100)
}

/// Gives the chart's `<svg>` its role and accessible name (the figure's caption).
fn labelled(svg: String, id: &str) -> String {
    svg.replacen(
        "<svg ",
        &format!(r#"<svg role="img" aria-labelledby="{id}-caption" "#),
        1,
    )
}

fn charts(v: &FleetView) -> Result<Vec<Chart>, String> {
    let by_account = model::versions_by_account(&v.clusters);
    let versions = charts::sorted_versions(by_account.values().flat_map(|m| m.keys()));
    let mut version_rows = Vec::new();
    for (account, counts) in &by_account {
        for ver in &versions {
            if let Some(n) = counts.get(ver) {
                let ver = if ver.is_empty() { "unknown" } else { ver };
                version_rows.push(vec![account.clone(), ver.to_string(), n.to_string()]);
            }
        }
    }
    let by_code = model::required_by_code(&v.clusters);
    let mut timeline_rows: Vec<Vec<String>> = v
        .clusters
        .iter()
        .filter_map(|c| {
            let d = c.end_of_standard_support?;
            Some(vec![
                d.to_string(),
                c.name.clone(),
                match (&c.current_version, c.version_from) {
                    (Some(ver), Some(from)) => format!("{ver} (from the run of {from})"),
                    (ver, _) => ver.clone().unwrap_or_default(),
                },
                c.verdict.as_str().to_string(),
            ])
        })
        .collect();
    timeline_rows.sort();
    let f = &v.figures;
    let total_required: usize = by_code.iter().map(|r| r.1).sum();
    Ok(vec![
        Chart {
            id: "chart-versions",
            title: "Kubernetes versions by account",
            summary: format!(
                "{} clusters in {} accounts run {} Kubernetes versions ({}).",
                f.clusters,
                f.accounts,
                versions.len(),
                versions
                    .iter()
                    .map(|v| if v.is_empty() { "unknown" } else { v })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            svg: labelled(charts::versions_by_account(&by_account)?, "chart-versions"),
            headers: vec!["Account", "Version", "Clusters"],
            rows: version_rows,
        },
        Chart {
            id: "chart-timeline",
            title: "End of standard support, by verdict",
            summary: format!(
                "One mark per cluster at its version's end of standard support: {} blocked, {} unknown, {} ready; {} within 30 days and {} within 90 days of {}.",
                f.blocked, f.unknown, f.ready, f.within_30, f.within_90, v.as_of
            ),
            svg: labelled(
                charts::support_timeline(&v.clusters, v.as_of)?,
                "chart-timeline",
            ),
            headers: vec!["End of standard support", "Cluster", "Version", "Verdict"],
            rows: timeline_rows,
        },
        Chart {
            id: "chart-codes",
            title: "Required findings by check code",
            summary: format!(
                "{total_required} required findings in the latest runs, under {} check codes.",
                by_code.len()
            ),
            svg: labelled(charts::required_by_code(&by_code)?, "chart-codes"),
            headers: vec!["Check", "Required findings", "Clusters"],
            rows: by_code
                .iter()
                .map(|(code, n, cs)| vec![code.clone(), n.to_string(), cs.to_string()])
                .collect(),
        },
        Chart {
            id: "chart-days",
            title: "Findings per day",
            summary: format!(
                "Required and recommended findings of each cluster's latest run of the day, {} to {}.",
                v.window_first, v.window_last
            ),
            svg: labelled(charts::findings_per_day(&v.per_day)?, "chart-days"),
            headers: vec!["Day", "Clusters reporting", "Required", "Recommended"],
            rows: v
                .per_day
                .iter()
                .map(|d| {
                    vec![
                        d.dt.to_string(),
                        d.clusters.to_string(),
                        d.required.to_string(),
                        d.recommended.to_string(),
                    ]
                })
                .collect(),
        },
    ])
}

/// Renders the page; `source` names where the tables were read.
pub fn render(view: &FleetView, source: &str) -> Result<String, String> {
    let f = &view.figures;
    let advice = view
        .clusters
        .iter()
        .flat_map(|c| &c.findings)
        .filter_map(|fd| catalogue::lookup(&fd.code).map(|c| (fd.code.clone(), c)))
        .map(|(code, c)| {
            (
                code,
                Advice {
                    title: c.title,
                    advice: c.advice,
                    doc_url: c.doc_url,
                },
            )
        })
        .collect();
    let page = Page {
        source,
        generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        tool_version: env!("CARGO_PKG_VERSION"),
        view,
        extended_month: dollars(f.extended_monthly_cents),
        standard_month: dollars(f.standard_monthly_cents),
        extra_month: dollars(f.extended_extra_monthly_cents),
        extended_per_hour: dollars(crate::price::Prices::embedded().extended_cents_per_hour),
        standard_per_hour: dollars(crate::price::Prices::embedded().standard_cents_per_hour),
        charts: charts(view)?,
        advice,
    };
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| format!("report template: {e}"))?,
    );
    env.add_template(NAME, TEMPLATE)
        .map_err(|e| format!("report template: {e}"))?;
    env.get_template(NAME)
        .and_then(|t| t.render(Value::from(Serde(&page))))
        .map_err(|e| format!("cannot render the report: {e}"))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::output::page::model::{Window, build};
    use crate::output::page::rows::{ClusterRecord, FindingRecord};

    #[test]
    fn dollars_group_thousands() {
        assert_eq!(dollars(43_800), "$438.00");
        assert_eq!(dollars(123_456_789), "$1,234,567.89");
        assert_eq!(dollars(5), "$0.05");
    }

    #[test]
    fn data_is_escaped_and_every_section_is_there() {
        let day = NaiveDate::from_ymd_opt(2026, 7, 6).unwrap();
        let rec = ClusterRecord {
            dt: day,
            run_id: "r".into(),
            run_time: day.and_hms_opt(6, 0, 0).unwrap().and_utc(),
            account_id: Some("111111111111".into()),
            region: Some("us-east-1".into()),
            cluster_name: "<script>alert(1)</script>".into(),
            status: "partial".into(),
            error: Some("kubernetes/pods: </table> broke".into()),
            current_version: Some("1.33".into()),
            end_of_standard_support: NaiveDate::from_ymd_opt(2026, 7, 29),
            required_findings: 1,
            ..Default::default()
        };
        let finding = FindingRecord {
            run_id: "r".into(),
            account_id: rec.account_id.clone(),
            region: rec.region.clone(),
            cluster_name: rec.cluster_name.clone(),
            code: "K8S002".into(),
            title: "t".into(),
            remediation: "required".into(),
            resource_kind: "Deployment".into(),
            resource_namespace: "ns".into(),
            resource_name: "a\"b".into(),
            message: "x </table> y".into(),
        };
        let v = build(&[rec], vec![finding], day, Window::ending(day, 14));
        let html = render(&v, "s3://b/<p>").unwrap();
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(!html.contains("x </table>") && !html.contains(": </table>"));
        assert!(!html.contains("s3://b/<p>"));
        for id in [
            "chart-versions",
            "chart-timeline",
            "chart-codes",
            "chart-days",
        ] {
            assert!(
                html.contains(&format!(r#"aria-labelledby="{id}-caption""#)),
                "{id}"
            );
        }
        assert!(html.contains(r##"href="#c-1""##) && html.contains(r#"id="c-1""#));
    }

    #[test]
    fn a_version_from_an_earlier_run_says_so() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 7, d).unwrap();
        let ok = ClusterRecord {
            dt: day(5),
            run_id: "r5".into(),
            run_time: day(5).and_hms_opt(6, 0, 0).unwrap().and_utc(),
            account_id: Some("111111111111".into()),
            region: Some("us-east-1".into()),
            cluster_name: "flaky".into(),
            status: "ok".into(),
            current_version: Some("1.32".into()),
            end_of_standard_support: NaiveDate::from_ymd_opt(2026, 3, 23),
            ..Default::default()
        };
        let err = ClusterRecord {
            dt: day(6),
            run_id: "r6".into(),
            run_time: day(6).and_hms_opt(6, 0, 0).unwrap().and_utc(),
            status: "error".into(),
            error: Some("cannot be read".into()),
            current_version: None,
            end_of_standard_support: None,
            ..ok.clone()
        };
        let v = build(&[ok, err], vec![], day(6), Window::ending(day(6), 14));
        let html = render(&v, "out").unwrap();
        // The table cell, the cluster's section and the timeline chart's table.
        assert_eq!(
            html.matches("1.32 <small>(from the run of 2026-07-05)</small>")
                .count(),
            1,
            "{html}"
        );
        assert!(html.contains("1.32 (from the run of 2026-07-05: the latest run errored)"));
        assert!(
            html.contains("1.32 (from the run of 2026-07-05)</td>"),
            "{html}"
        );
    }
}
