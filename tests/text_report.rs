//! The text report of committed snapshots, as a person reads it in a terminal.

use std::path::Path;

use eksup::output::render::text;
use eksup::report::Report;
use eksup::run::analyze::{Evaluation, evaluate_snapshot};
use eksup::snapshot::Snapshot;

/// The report of a committed snapshot for its default target, as of `as_of`.
fn report_for(file: &str, as_of: &str) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let snapshot = Snapshot::load(&path).expect("snapshot loads");
    let how = Evaluation {
        as_of: Some(as_of.parse().unwrap()),
        ..Evaluation::default()
    };
    evaluate_snapshot(snapshot, None, &how).unwrap().report
}

/// A line that is one URL and nothing else cannot be wrapped without breaking the link.
fn is_bare_url(line: &str) -> bool {
    let word = line.trim();
    word.starts_with("https://") && !word.contains(' ')
}

#[test]
fn the_report_fits_80_and_120_columns() {
    for file in [
        "examples/snapshot.json",
        "tests/fixtures/snapshots/mixed-capacity.json",
        "tests/fixtures/snapshots/two-hop.json",
    ] {
        let report = report_for(file, "2026-06-01");
        for width in [80u16, 120] {
            let out = text::render(&report, width);
            for line in out.lines().filter(|l| !is_bare_url(l)) {
                let len = line.chars().count();
                assert!(
                    len <= usize::from(width),
                    "{file} at {width}: {len}: {line}"
                );
            }
            // Every finding's check still has its table.
            for code in &report.summary.checks_with_findings {
                assert!(
                    out.contains(&format!("{code}  ")),
                    "{file} at {width}: {code}"
                );
            }
        }
    }
}

#[test]
fn column_headers_stay_whole_at_the_default_width() {
    let report = report_for("examples/snapshot.json", "2026-06-01");
    let out = text::render(&report, eksup::output::render::DEFAULT_WIDTH);
    for header in [
        "Remediation",
        "Subnets (free IPs)",
        "Target default",
        "Unsupported on",
        "Recommendation",
        "OS image",
    ] {
        assert!(out.contains(header), "{header}");
    }
}

#[test]
fn counts_of_one_are_singular() {
    let mut report = report_for("examples/snapshot.json", "2026-06-01");
    let support = report
        .metadata
        .support
        .as_mut()
        .expect("the example has a calendar");
    support.days_to_end_of_standard_support = 1;
    support.days_to_end_of_extended_support = 2;
    let out = text::render(&report, 200);
    assert!(out.contains(" (1 day) · "), "{out}");
    assert!(out.contains(" (2 days) · "), "{out}");
    assert!(out.contains("(1 finding)\n"), "{out}");
    // The report's own lines (verdict, headings, summary; not the checks' messages).
    let own = out.lines().filter(|l| {
        l.starts_with("Readiness") || l.starts_with("Summary") || l.ends_with("finding)")
    });
    for line in own {
        assert!(!line.contains("(s)"), "{line}");
    }
    assert!(!out.contains(" 1 days") && !out.contains("(1 findings)"));
}

#[test]
fn the_header_and_the_summary_count_the_same_checks() {
    let report = report_for("examples/snapshot.json", "2026-06-01");
    let out = text::render(&report, 200);
    let run = report.metadata.checks_run;
    let fired = report.summary.checks_with_findings.len();
    assert!(fired < run, "the example has checks that found nothing");
    let first = out.lines().next().unwrap();
    assert!(first.contains(&format!(" · {run} checks run, ")), "{first}");
    let summary = out.lines().last().unwrap();
    assert_eq!(
        summary,
        format!(
            "Summary: {} required and {} recommended findings, reported by {fired} of the {run} checks run.",
            report.summary.required, report.summary.recommended
        )
    );
}
