use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use eksup::error::exit;

/// Usage errors as one line (with clap's tip, when it has one), exit code 2.
fn parse_args() -> Result<eksup::cli::Cli, ExitCode> {
    eksup::cli::Cli::try_parse().map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        _ => {
            let rendered = e.render().to_string();
            let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("error: invalid arguments");
            let tip = lines.find(|l| l.starts_with("tip:"));
            match tip {
                Some(tip) => eprintln!("{first} ({tip}; see --help)"),
                None => eprintln!("{first} (see --help)"),
            }
            ExitCode::from(exit::USAGE)
        }
    })
}

fn main() -> ExitCode {
    let cli = match parse_args() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let events = matches!(cli.command, eksup::cli::Command::Run(_));
    eksup::command::logging::init_logging(cli.verbose, cli.quiet, events);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(eksup::command::dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
