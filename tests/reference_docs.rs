//! The three generated reference pages under `docs/reference/` are what the code says: the
//! checks (from the catalogue), the configuration keys (from the settings type) and the CLI
//! (from clap). A stale page fails here; `EKSUP_BLESS=1 cargo test --test reference_docs`
//! rewrites them.

use std::path::Path;

fn page(name: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/reference")
        .join(name);
    if std::env::var_os("EKSUP_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/reference/{name} is stale: run `EKSUP_BLESS=1 cargo test --test reference_docs` and commit it"
    );
}

#[test]
fn the_check_reference_is_the_catalogue() {
    page("checks.md", &eksup::output::render::catalogue::reference());
}

#[test]
fn the_configuration_reference_is_the_settings_type() {
    page("configuration.md", &eksup::config::reference::markdown());
}

#[test]
fn the_cli_reference_is_clap() {
    let body = clap_markdown::help_markdown::<eksup::cli::Cli>();
    let text = format!(
        "<!-- Generated from the clap definitions (src/cli.rs); do not edit. Regenerate with `EKSUP_BLESS=1 cargo test --test reference_docs`. -->\n\n{body}"
    );
    page("cli.md", &text);
}
