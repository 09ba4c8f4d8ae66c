//! `eksup report`: the fleet page from the tables `eksup run` wrote, in a local directory or
//! under an S3 prefix (read with the caller's own credentials).

use std::path::PathBuf;

use chrono::Utc;

use super::{Error, write_output};
use crate::cli::{ReportArgs, ReportFormat};
use crate::collect::aws::eks::load_sdk_config;
use crate::error::exit;
use crate::output::page::{self, Store, model::Window};
use crate::output::sink::s3::{self, S3Settings};

pub async fn run(args: ReportArgs) -> Result<u8, Error> {
    let as_of = args.as_of.unwrap_or_else(|| Utc::now().date_naive());
    let window = Window::ending(as_of, args.days);
    let store = if args.from.starts_with("s3://") {
        let at = S3Settings::from_url(&args.from).map_err(Error::usage)?;
        let sdk = load_sdk_config(args.profile.as_deref(), args.region.as_deref())
            .await
            .map_err(crate::run::Error::from)?;
        Store::S3 {
            client: s3::client(&sdk, args.force_path_style),
            bucket: at.bucket,
            prefix: at.prefix,
        }
    } else {
        let dir = PathBuf::from(&args.from);
        if !dir.is_dir() {
            return Err(Error::usage(format!(
                "--from {}: no such directory (give the output directory of eksup run, or s3://BUCKET/PREFIX)",
                args.from
            )));
        }
        Store::Local(dir)
    };
    let view = page::read(&store, window, as_of).await?;
    let (text, default) = match args.format {
        ReportFormat::Html => (
            page::html::render(&view, &store.describe()).map_err(page::Error::Failed)?,
            page::DEFAULT_OUTPUT,
        ),
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&view).expect("the view serializes");
            text.push('\n');
            (text, "-")
        }
    };
    let path = args.output.unwrap_or_else(|| default.into());
    write_output(&text, Some(&path))?;
    if path.as_os_str() != "-" {
        eprintln!(
            "wrote {} ({} bytes, {} to {})",
            path.display(),
            text.len(),
            window.first,
            window.last
        );
    }
    Ok(exit::OK)
}
