//! Command-line arguments (clap). Parsing only; [`crate::command`] lays them over the
//! configuration and hands plain values down.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::render::Format;
use crate::report::FailOn;
use crate::version::KubeVersion;

const EXAMPLES: &str = "\
Examples:
  # Analyze a cluster for the next minor version, using the default AWS credentials
  eksup analyze --cluster prod --region eu-west-1

  # Gate a CI pipeline on required findings for a two-hop upgrade (1.33 → 1.35), as JSON
  eksup analyze --cluster prod --target-version 1.35 --format json --fail-on required

  # Kubernetes checks only, through a kubeconfig context (EKS Anywhere, other distributions)
  eksup analyze --no-aws --kubeconfig ~/.kube/config --context edge-1

  # Save what was read, and analyze it later without network access
  eksup analyze --cluster prod --save-snapshot prod.json
  eksup analyze --snapshot prod.json --format json
";

const PLAYBOOK_EXAMPLES: &str = "\
Examples:
  # Write prod-v1.34-upgrade.md for a 1.33 cluster (the next minor version)
  eksup playbook --cluster prod --region eu-west-1

  # A two-hop playbook (1.33 → 1.35) from a saved snapshot, to stdout
  eksup playbook --snapshot prod.json --target-version 1.35 --output -
";

const RUN_EXAMPLES: &str = "\
Examples:
  # The bundled example, written to ./eksup-out (no AWS account needed)
  eksup run --snapshot examples/snapshot.json

  # One cluster to S3, as the in-cluster CronJob does (credentials from IRSA / Pod Identity)
  EKSUP_CLUSTER=prod EKSUP_IN_CLUSTER=true eksup run --s3 s3://fleet-reports/eksup

  # Everything from a configuration file (a clusters list or a fleet, outputs)
  eksup run --config /etc/eksup/config.yaml

  # Check a fleet configuration and print the plan, without calling any API
  eksup run --config fleet.yaml --dry-run

  # Shard 2 of 8 of a fleet (an Indexed Job sets JOB_COMPLETION_INDEX instead)
  eksup run --config fleet.yaml --shard 2/8
";

/// Upgrade-readiness analysis for Amazon EKS clusters.
#[derive(Debug, Parser)]
#[command(name = "eksup", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less log output on stderr (errors only).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read one cluster, evaluate every check for the target version, print a report.
    #[command(after_help = EXAMPLES)]
    Analyze(Box<AnalyzeArgs>),
    /// Write a Markdown upgrade playbook for the cluster, filled with its findings.
    #[command(after_help = PLAYBOOK_EXAMPLES)]
    Playbook(Box<PlaybookArgs>),
    /// The scheduled job: analyze the configured clusters and write Parquet and JSON tables
    /// (local directory and/or S3) and JSON lines on stdout.
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// Print the table schemas (for Glue / Athena) as Glue JSON or DDL.
    Schema(SchemaArgs),
    /// List the checks eksup runs.
    Checks(ChecksArgs),
    /// Print the read-only ClusterRole and Role eksup needs (YAML), from the table of what
    /// the collector reads.
    Rbac,
    /// Write the fleet as one self-contained HTML page (headline figures, charts, every
    /// cluster) from the tables `eksup run` wrote to a directory or S3.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
}

const REPORT_EXAMPLES: &str = "\
Examples:
  # The last 14 days of a local output tree, to eksup-report.html
  eksup report --from eksup-out

  # From S3, as the fleet looked on 1 July, the 30 days before it
  eksup report --from s3://fleet-reports/eksup --days 30 --as-of 2026-07-01 --output fleet.html
";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The output of `eksup run`: its local directory, or s3://BUCKET/PREFIX.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub from: String,
    /// Days of results to read, ending with --as-of (each cluster's latest row is shown).
    #[arg(long, value_name = "N", default_value_t = crate::output::page::DEFAULT_DAYS, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,
    /// The report's day: the last day read, and the day support windows are measured from
    /// (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<chrono::NaiveDate>,
    /// `html`: the page; `json`: what it shows, as data (the fleet figures, every cluster
    /// with its verdict, support window and required findings, the unreadable scopes).
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormat,
    /// Write to FILE (default: eksup-report.html for the page, stdout for JSON); `-` for stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// AWS shared-config profile for S3 (the runner's own credentials).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// AWS region for S3 (default: the AWS configuration's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Path-style S3 addressing, for S3-compatible endpoints.
    #[arg(long)]
    pub force_path_style: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Json,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// `markdown`: the table of docs/reference/checks.md.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CatalogueFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CatalogueFormat {
    Text,
    Markdown,
}

/// Which cluster to read (or which snapshot to load) and how to evaluate it; shared by
/// `analyze` and `playbook`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Name of the EKS cluster.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// AWS region of the cluster (default: the AWS configuration's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS shared-config profile to use.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Kubernetes version to upgrade to, e.g. 1.35 (default: the control plane's next minor).
    #[arg(long, value_name = "1.NN", value_parser = clap::value_parser!(KubeVersion))]
    pub target_version: Option<KubeVersion>,
    /// Configuration file (default: .eksup.yaml, .eksup.yml, .eksup.toml or eksup.toml here).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Reach Kubernetes through this kubeconfig instead of the EKS endpoint.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Use the pod's service account to reach Kubernetes (when eksup runs in the cluster).
    #[arg(long)]
    pub in_cluster: bool,
    /// Do not call AWS: run the Kubernetes checks alone (needs --kubeconfig/--context or --in-cluster).
    #[arg(long)]
    pub no_aws: bool,
    /// Analyze a saved snapshot instead of reading a cluster (no network).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cluster", "region", "profile", "kubeconfig", "context", "in_cluster", "no_aws", "save_snapshot"])]
    pub snapshot: Option<PathBuf>,
    /// Save what was read to FILE, for offline analysis or a bug report.
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,
    /// Measure support windows from this day instead of today (plan ahead: "as of 2027-01-01").
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Leave recommended findings out of the report.
    #[arg(long)]
    pub ignore_recommended: bool,
    /// Exit with code 1 when a finding at this level (or a more severe one) exists; `unknown`:
    /// when the verdict is not `ready` (blocked, or a check that can block could not run).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Args)]
pub struct PlaybookArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Write the playbook to FILE (default: <cluster>-v<target>-upgrade.md); `-` for stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Write the tables and reports under DIR (default when no output is configured: ./eksup-out).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Write the tables and reports to S3.
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    pub s3: Option<String>,
    /// Do not print JSON lines on stdout.
    #[arg(long)]
    pub no_stdout: bool,
    /// Run shard I of N (0-based) of the fleet's (account, region) pairs. Default: from
    /// JOB_COMPLETION_INDEX/JOB_COMPLETIONS (Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX/SIZE.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::run::fleet::Shard>,
    /// Validate the configuration and print the plan (clusters or fleet, shard, outputs)
    /// without calling any API.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[arg(long, value_enum, default_value = "glue-json")]
    pub format: SchemaFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFormat {
    GlueJson,
    Ddl,
}

#[cfg(test)]
mod tests {
    /// `--help`'s examples with a `--target-version` tell the docs' story (a 1.33 cluster,
    /// 1.34 next, 1.35 two hops ahead): each such command is in the usage page and README.
    #[test]
    fn help_examples_match_the_docs() {
        let usage = include_str!("../docs/analyze-and-playbook.md");
        let readme = include_str!("../README.md");
        let commands: Vec<&str> = [super::EXAMPLES, super::PLAYBOOK_EXAMPLES]
            .iter()
            .flat_map(|e| e.lines())
            .map(str::trim)
            .filter(|l| l.starts_with("eksup ") && l.contains("--target-version"))
            .collect();
        assert_eq!(commands.len(), 2, "{commands:?}");
        for command in commands {
            assert!(
                usage.contains(command),
                "not in docs/analyze-and-playbook.md: {command}"
            );
        }
        assert!(readme.contains(
            "eksup analyze --cluster prod --target-version 1.35 --format json --fail-on required"
        ));
    }
}
