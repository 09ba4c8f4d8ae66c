//! eksup: upgrade-readiness analysis for Amazon EKS clusters.
//!
//! # Layout
//!
//! Data flows one way: **collect** (all I/O) → [`snapshot::Snapshot`] (plain data) →
//! [`checks::evaluate`] (pure) → [`report::Report`] → **render**.
//!
//! | module | job |
//! |---|---|
//! | [`cli`] | command-line arguments (clap); parsing only |
//! | [`config`] | the one settings value: defaults < file < `EKSUP_*` environment < flags, validated at load |
//! | [`plan`] | settings → validated work: one job, a list of jobs, or a fleet; `--dry-run`'s description |
//! | [`analyze`] | the analysis every command shares (job → snapshot → report) and the `analyze` command |
//! | [`fleet`] | fleet mode: accounts × regions, AssumeRole, discovery, shards, progress and summary |
//! | [`fleet_report`] | `eksup report`: the tables of a window → one self-contained HTML page (figures, SVG charts, every cluster) |
//! | [`collect`] | the only I/O: EKS, EC2, Auto Scaling and Service Quotas ([`collect::aws`]), the native EKS token ([`collect::auth`]), the Kubernetes API read with least load ([`collect::kube`]) |
//! | [`snapshot`] | what the checks read, as owned serde data; saved and loaded as JSON |
//! | [`checks`] | the catalogue and one module per area; pure functions over a snapshot |
//! | [`finding`] | the one flat finding row every output is built from |
//! | [`report`] | run metadata + findings + skipped checks + collection errors |
//! | [`rbac`] | what eksup reads from the Kubernetes API: the collector's paths and the RBAC `eksup rbac` prints |
//! | [`playbook`] | the Markdown upgrade playbook: context from snapshot + report, rendered from `templates/playbook.md.j2` |
//! | [`render`] | the report as text tables or JSON; the check catalogue as text or Markdown |
//! | [`run`] | the scheduled job: clusters or a fleet → bounded concurrent analyses → one batch of rows → sinks; JSON lines on stdout |
//! | [`tables`] | the `findings` and `clusters` tables as code (columns, Arrow/Glue types, DDL) |
//! | [`sink`] | object layout, Parquet/JSON-lines encoding, local directory and S3 writers |
//! | [`version`] | Kubernetes versions, upgrade hops, the EKS support calendar (API over embedded table) |
//! | [`error`] | the top-level error, its exit codes, and an error with its causes as one line |

pub mod analyze;
pub mod checks;
pub mod cli;
pub mod collect;
pub mod config;
pub mod error;
pub mod finding;
pub mod fleet;
pub mod fleet_report;
pub mod plan;
pub mod playbook;
pub mod rbac;
pub mod render;
pub mod report;
pub mod run;
pub mod sink;
pub mod snapshot;
pub mod tables;
pub mod version;

use std::io::IsTerminal;

use cli::{Cli, Command};
use error::{Error, exit};

/// Sets up logging: human logs on stderr from `-v`/`-q` (or `RUST_LOG`), and — for
/// `eksup run` (`events_to_stdout`) — the JSON lines of [`run::EVENTS`] on stdout, one object
/// per line with flat, stable field names for log aggregators.
pub fn init_logging(verbose: u8, quiet: bool, events_to_stdout: bool) {
    use tracing_subscriber::filter::filter_fn;
    use tracing_subscriber::prelude::*;

    // Dependencies (kube, the AWS SDK) log every retried attempt; eksup reports the outcome
    // itself, so their logs only show from -v on.
    let directives = match (quiet, verbose) {
        (true, _) => "off,eksup=error",
        (false, 0) => "off,eksup=warn",
        (false, 1) => "warn,eksup=info",
        (false, 2) => "info,eksup=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(directives));
    let human = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(filter)
        .with_filter(filter_fn(|m| m.target() != run::EVENTS));
    let events = events_to_stdout.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .with_writer(std::io::stdout)
            .with_filter(filter_fn(|m| m.target() == run::EVENTS))
    });
    tracing_subscriber::registry()
        .with(human)
        .with(events)
        .init();
}

fn working_dir() -> Result<std::path::PathBuf, Error> {
    std::env::current_dir()
        .map_err(|e| Error::Usage(format!("cannot read the working directory: {e}")))
}

/// Runs the parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Analyze(args) => analyze::run(*args, &working_dir()?).await,
        Command::Playbook(args) => {
            let (job, mut how, _) = analyze::one_job(&args.cluster, &working_dir()?)?;
            // The playbook lists every finding, recommended ones included.
            how.ignore_recommended = false;
            let analysis =
                analyze::analyze(&job, &how, args.cluster.save_snapshot.as_deref()).await?;
            let report = &analysis.report;
            let text =
                playbook::render(&playbook::build(&analysis.snapshot, report, analysis.as_of))
                    .map_err(|e| Error::Render(e.to_string()))?;
            let path = args.output.unwrap_or_else(|| {
                format!(
                    "{}-v{}-upgrade.md",
                    report.metadata.cluster_name, report.metadata.target_version
                )
                .into()
            });
            analyze::write_output(&text, Some(&path))?;
            if path.as_os_str() != "-" {
                eprintln!("wrote {}", path.display());
            }
            Ok(exit::OK)
        }
        Command::Run(args) => run::run(*args, &working_dir()?).await,
        Command::Schema(args) => {
            print!("{}", run::schema(args.format));
            Ok(exit::OK)
        }
        Command::Checks(args) => {
            let out = match args.format {
                cli::CatalogueFormat::Text => render::catalogue::text(),
                cli::CatalogueFormat::Markdown => render::catalogue::markdown(),
            };
            print!("{out}");
            Ok(exit::OK)
        }
        Command::Rbac => {
            print!("{}", rbac::manifests());
            Ok(exit::OK)
        }
        Command::Report(args) => fleet_report::run(args).await,
    }
}
