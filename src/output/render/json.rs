//! The report as pretty-printed JSON; the field names are the stable interface documented
//! in docs/analyze-and-playbook.md.

use crate::report::Report;

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("a report always serializes");
    out.push('\n');
    out
}
