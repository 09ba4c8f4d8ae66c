//! `eksup playbook`: the report as a Markdown upgrade runbook, rendered from
//! `templates/playbook.md.j2` with [`context::Playbook`] as its data.

pub mod compute;
pub mod context;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};

pub use context::{Playbook, build};

const TEMPLATE: &str = include_str!("../../../templates/playbook.md.j2");
const TOC_MARKER: &str = "<!-- toc -->";

/// Renders the playbook. Undefined template variables are errors, so a template typo cannot
/// ship a half-filled command.
pub fn render(playbook: &Playbook) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("playbook.md", TEMPLATE)?;
    let body = env
        .get_template("playbook.md")?
        .render(Value::from(Serde(playbook)))?;
    Ok(with_toc(&tidy(&body)))
}

/// Collapses runs of blank lines left by template blocks into one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Replaces the marker with a table of contents of the `##` and `###` headings, built from
/// the rendered text itself so that every link points at a heading that exists.
fn with_toc(text: &str) -> String {
    let mut toc = String::from("## Contents\n\n");
    let mut in_fence = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let (indent, title) = if let Some(t) = line.strip_prefix("### ") {
            ("  ", t)
        } else if let Some(t) = line.strip_prefix("## ") {
            ("", t)
        } else {
            continue;
        };
        toc.push_str(&format!("{indent}- [{title}](#{})\n", slug(title)));
    }
    text.replacen(TOC_MARKER, toc.trim_end(), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_github() {
        assert_eq!(slug("Hop 1: 1.32 to 1.33"), "hop-1-132-to-133");
        assert_eq!(slug("K8S002: Too few replicas"), "k8s002-too-few-replicas");
        assert_eq!(slug("Addon vpc-cni (1.33)"), "addon-vpc-cni-133");
    }

    #[test]
    fn toc_skips_code_blocks_and_lists_sections() {
        let text = "# T\n\n<!-- toc -->\n\n## A b\n\n```sh\n## not a heading\n```\n\n### C.d\n";
        let out = with_toc(text);
        assert!(out.contains("- [A b](#a-b)\n  - [C.d](#cd)"), "{out}");
        assert!(!out.contains("(#not-a-heading)"));
    }
}
