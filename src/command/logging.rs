//! Logging: human logs on stderr, and for `eksup run` the stdout events
//! ([`crate::output::sink::events`]) as JSON lines.

use std::io::IsTerminal;

use crate::output::sink::events::TARGET;

/// Sets up logging: human logs on stderr from `-v`/`-q` (or `RUST_LOG`), and — for
/// `eksup run` (`events_to_stdout`) — the JSON lines of [`TARGET`] on stdout, one object
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
        .with_filter(filter_fn(|m| m.target() != TARGET));
    let events = events_to_stdout.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .with_writer(std::io::stdout)
            .with_filter(filter_fn(|m| m.target() == TARGET))
    });
    tracing_subscriber::registry()
        .with(human)
        .with(events)
        .init();
}
