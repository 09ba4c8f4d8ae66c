//! The top of the crate: one module per subcommand, and the only place where the command
//! line and the configuration meet. Each command loads the settings once (file ⊕ `EKSUP_*` ⊕
//! flags), hands plain values down to [`crate::plan`] and [`crate::run`], and maps the
//! outcome to an exit code. Nothing below imports this module.
//!
//! | module | command |
//! |---|---|
//! | [`analyze`] | `eksup analyze`: one cluster → report on stdout, `--fail-on` gate |
//! | [`playbook`] | `eksup playbook`: one cluster → Markdown runbook |
//! | [`run`] | `eksup run`: the scheduled job (a list of clusters or a fleet), `--dry-run` |
//! | [`report`] | `eksup report`: the fleet page from the tables |
//! | [`logging`] | stderr logs and the stdout events of `eksup run` |
//!
//! `schema`, `checks` and `rbac` print reference text and are dispatched in [`dispatch`].

pub mod analyze;
pub mod logging;
pub mod playbook;
pub mod report;
pub mod run;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{CatalogueFormat, Cli, ClusterArgs, Command, SchemaFormat};
use crate::config::{self, ConfigError, Overrides, Settings};
use crate::error::exit;
use crate::output::render::catalogue;
use crate::output::tables;

/// Every error a command can end with: a configuration that does not load, or the work
/// failing (usage errors found while planning included).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Run(#[from] crate::run::Error),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) => exit::USAGE,
            Self::Run(e) => e.exit_code(),
        }
    }

    fn usage(message: impl Into<String>) -> Self {
        Self::Run(crate::run::Error::Usage(message.into()))
    }
}

impl From<crate::output::page::Error> for Error {
    fn from(e: crate::output::page::Error) -> Self {
        Self::Run(e.into())
    }
}

/// Runs the parsed command line and returns the process exit code.
pub async fn dispatch(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Analyze(args) => analyze::run(*args, &working_dir()?).await,
        Command::Playbook(args) => playbook::run(*args, &working_dir()?).await,
        Command::Run(args) => run::run(*args, &working_dir()?).await,
        Command::Report(args) => report::run(args).await,
        Command::Schema(args) => {
            print!("{}", schema(args.format));
            Ok(exit::OK)
        }
        Command::Checks(args) => {
            let out = match args.format {
                CatalogueFormat::Text => catalogue::text(crate::output::render::output_width()),
                CatalogueFormat::Markdown => catalogue::markdown(),
            };
            print!("{out}");
            Ok(exit::OK)
        }
        Command::Rbac => {
            print!("{}", crate::collect::kube::rbac::manifests());
            Ok(exit::OK)
        }
    }
}

/// `eksup schema`.
pub fn schema(format: SchemaFormat) -> String {
    match format {
        SchemaFormat::GlueJson => {
            let mut s = serde_json::to_string_pretty(&tables::glue_json()).expect("serializes");
            s.push('\n');
            s
        }
        SchemaFormat::Ddl => tables::athena_ddl(),
    }
}

fn working_dir() -> Result<PathBuf, Error> {
    std::env::current_dir()
        .map_err(|e| Error::usage(format!("cannot read the working directory: {e}")))
}

/// Loads the settings once: the file (`--config`, else a default file in `cwd`), then the
/// environment, then the flags on top.
pub fn settings(args: &ClusterArgs, cwd: &Path) -> Result<Settings, Error> {
    let file = config::find_file(args.config.as_deref(), cwd);
    let mut settings = config::load(file.as_deref(), None)?;
    settings.apply(Overrides {
        cluster: args.cluster.clone(),
        region: args.region.clone(),
        profile: args.profile.clone(),
        target_version: args.target_version,
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        in_cluster: args.in_cluster,
        no_aws: args.no_aws,
    });
    Ok(settings)
}

/// Writes `text` to `path`, or to stdout when `path` is `None` or `-`.
pub fn write_output(text: &str, path: Option<&Path>) -> Result<(), Error> {
    let failed = |path: String, source| Error::Run(crate::run::Error::Output { path, source });
    match path.filter(|p| p.as_os_str() != "-") {
        Some(p) => std::fs::write(p, text).map_err(|e| failed(p.display().to_string(), e)),
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`eksup … | head`) is not an error worth a non-zero exit.
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(failed("stdout".into(), e))
                }
                _ => Ok(()),
            }
        }
    }
}
