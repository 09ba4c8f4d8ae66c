//! `eksup playbook`: one cluster (or snapshot) → a Markdown upgrade runbook filled with its
//! findings.

use std::path::Path;

use super::{Error, write_output};
use crate::cli::PlaybookArgs;
use crate::error::exit;
use crate::output::playbook;
use crate::run::analyze::analyze;

pub async fn run(args: PlaybookArgs, cwd: &Path) -> Result<u8, Error> {
    let (job, mut how, _) = super::analyze::one_job(&args.cluster, cwd)?;
    // The playbook lists every finding, recommended ones included.
    how.ignore_recommended = false;
    let analysis = analyze(&job, &how, args.cluster.save_snapshot.as_deref()).await?;
    let report = &analysis.report;
    let text = playbook::render(&playbook::build(&analysis.snapshot, report, analysis.as_of))
        .map_err(|e| crate::run::Error::Render(e.to_string()))?;
    let path = args.output.unwrap_or_else(|| {
        format!(
            "{}-v{}-upgrade.md",
            report.metadata.cluster_name, report.metadata.target_version
        )
        .into()
    });
    write_output(&text, Some(&path))?;
    if path.as_os_str() != "-" {
        eprintln!("wrote {}", path.display());
    }
    Ok(exit::OK)
}
