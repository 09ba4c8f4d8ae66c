//! The check catalogue as a text table (`eksup checks`), a Markdown table
//! (`eksup checks --format markdown`), and the generated reference page
//! `docs/reference/checks.md` ([`reference`], kept in sync by `tests/reference_docs.rs`).

use crate::checks::{Check, catalogue};

fn levels(c: &Check) -> String {
    c.levels
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn applies(c: &Check) -> String {
    c.min_target
        .map_or("all targets".into(), |v| format!("targets ≥ {v}"))
}

/// The catalogue as a table fitted to `width` columns.
pub fn text(width: u16) -> String {
    let mut table = super::table(
        &[
            "Code",
            "Title",
            "Remediation",
            "Applies to",
            "Covers",
            "What to do",
        ],
        &[],
        width,
    );
    for c in catalogue() {
        table.add_row([
            c.code.to_string(),
            c.title.to_string(),
            levels(c),
            applies(c),
            c.covers.describe().to_string(),
            c.advice.to_string(),
        ]);
    }
    format!("{table}\n")
}

pub fn markdown() -> String {
    let mut out = String::from(
        "| Code | Title | Remediation | Applies to | Covers | What to do |\n|---|---|---|---|---|---|\n",
    );
    for c in catalogue() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            c.code,
            c.title,
            levels(c),
            applies(c),
            c.covers.describe(),
            c.advice.replace('|', "\\|")
        ));
    }
    out
}

/// What a check reads: its own sources, then those of the workloads it covers, each once.
fn reads(c: &Check) -> String {
    let mut out: Vec<&str> = Vec::new();
    for s in c.sources() {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        return "the cluster description only".into();
    }
    out.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `docs/reference/checks.md`: every check of the catalogue with its levels, targets, what it
/// covers and reads, what to do and where to read more.
pub fn reference() -> String {
    let mut out = String::from(
        "# Check reference\n\n\
         <!-- Generated from the catalogue (src/checks/catalogue.rs); do not edit. Regenerate with \
         `EKSUP_BLESS=1 cargo test --test reference_docs`. -->\n\n\
         Each check has a stable code, the remediation levels it can report, the target \
         versions it applies to, what it covers and the sources it reads. A check whose source \
         could not be read is listed as skipped (`not_collected`), never as clean; a check \
         that can report `required` and was skipped makes the verdict `unknown`. \
         `eksup checks` prints the same catalogue in the terminal.\n\n\
         ReplicaSets are listed with `labelSelector=!pod-template-hash`, so the ReplicaSets a \
         Deployment made (checked through the Deployment) are never read. A ReplicaSet \
         orphaned from a Deployment deleted with `--cascade=orphan` keeps that label and is \
         not checked either; `collect: {replicasets: all}` lists every ReplicaSet and checks \
         those too ([ReplicaSets by label](../performance.md#replicasets-by-label)).\n\n",
    );
    out.push_str(&markdown());
    for c in catalogue() {
        out.push_str(&format!("\n## {} — {}\n\n", c.code, c.title));
        out.push_str(&format!("- **Category:** {}\n", c.category.as_str()));
        out.push_str(&format!("- **Remediation:** {}\n", levels(c)));
        out.push_str(&format!("- **Applies to:** {}\n", applies(c)));
        out.push_str(&format!("- **Covers:** {}\n", c.covers.describe()));
        out.push_str(&format!("- **Reads:** {}\n", reads(c)));
        if let Some(why) = c.not_on_local_outposts {
            out.push_str(&format!(
                "- **EKS local clusters on Outposts:** skipped ({why})\n"
            ));
        }
        out.push_str(&format!("\n{}\n\nMore: <{}>\n", c.advice, c.doc_url));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_page_has_a_section_per_check_with_its_sources() {
        let page = reference();
        for c in catalogue() {
            let heading = format!("\n## {} — {}\n", c.code, c.title);
            assert_eq!(page.matches(&heading).count(), 1, "{}", c.code);
            let section = &page[page.find(&heading).unwrap()..];
            let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
            for s in c.needs {
                assert!(section.contains(&format!("`{s}`")), "{}: {s}", c.code);
            }
            assert!(section.contains(c.doc_url), "{}", c.code);
        }
    }

    #[test]
    fn the_text_table_fits_80_and_120_columns() {
        for width in [80u16, 120] {
            let table = text(width);
            for line in table.lines() {
                let len = line.chars().count();
                assert!(len <= usize::from(width), "{len} > {width}: {line}");
            }
            for c in catalogue() {
                assert!(table.contains(c.code), "{}", c.code);
            }
        }
    }

    #[test]
    fn every_check_is_listed_once() {
        let md = markdown();
        for c in catalogue() {
            assert_eq!(
                md.matches(&format!("| {} |", c.code)).count(),
                1,
                "{}",
                c.code
            );
        }
    }
}
