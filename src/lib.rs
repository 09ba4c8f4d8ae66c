//! eksup: upgrade-readiness analysis for Amazon EKS clusters.
//!
//! # Layout
//!
//! Data flows one way: **collect** (all I/O) → [`snapshot::Snapshot`] (plain data) →
//! [`checks::evaluate`] (pure) → [`report::Report`] → **output** (render, tables, sinks, the
//! fleet page). The imports follow the same direction: a module uses only modules below it
//! in this table, and no chain of imports leads back to where it started.
//!
//! | module | job |
//! |---|---|
//! | [`command`] | one module per subcommand: flags ⊕ settings → plain values handed down; the aggregate error and exit codes; logging |
//! | [`cli`] | command-line arguments (clap); parsing only |
//! | [`plan`] | settings → validated work: one job, a list of jobs, or a fleet plan; `--dry-run`'s description |
//! | [`config`] | the settings value: defaults < file < `EKSUP_*` environment < flags, validated at load; each section is owned by the module that reads it |
//! | [`run`] | doing the work: one analysis, the scheduled batch job (batches, manifest, signals), fleet mode (accounts, AssumeRole, discovery, shards, progress) |
//! | [`collect`] | the only I/O towards AWS ([`collect::aws`]), the EKS token ([`collect::auth`]) and Kubernetes ([`collect::kube`]: [`collect::kube::wire`] is each object as the checks read it, decoded in one pass per page; [`collect::kube::rbac`] is the RBAC generated from what it reads) |
//! | [`output`] | everything that reads a report or its rows: render, playbook, tables, fleet facts, sinks (local, S3, EMF, stdout events), the HTML page |
//! | [`report`] | run metadata + findings + skipped checks + collection errors: the one result every output reads |
//! | [`rollback`] | the 7-day rollback window after a version update, from the update history (report metadata, not a finding) |
//! | [`checks`] | the catalogue and one module per area; pure functions over a snapshot; the readiness verdict |
//! | [`snapshot`] | what the checks read, as owned serde data; saved and loaded as JSON |
//! | [`version`] | Kubernetes versions, upgrade hops, the EKS support calendar (API over embedded table) |
//! | [`price`] | EKS prices per cluster-hour as data, and what extended support adds per cluster-month (computed once) |
//! | [`finding`] | the one flat finding row every output is built from |
//! | [`arn`] | ARNs for the partition of a region (`aws`, `aws-cn`, `aws-us-gov`, …) |
//! | [`error`] | leaf helpers: an error's causes on one line, AWS SDK errors as actionable messages, exit codes |
//!
//! Unit tests share `testing` (temporary directories that clean up, an in-process HTTP
//! server for the AWS SDK clients); it is compiled for tests only.

pub mod arn;
pub mod checks;
pub mod cli;
pub mod collect;
pub mod command;
pub mod config;
pub mod error;
pub mod finding;
pub mod output;
pub mod plan;
pub mod price;
pub mod report;
pub mod rollback;
pub mod run;
pub mod snapshot;
pub mod version;

#[cfg(test)]
mod testing;
