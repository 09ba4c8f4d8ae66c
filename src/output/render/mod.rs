//! Renderers: the report as text tables or JSON, and the check catalogue.

pub mod catalogue;
pub mod json;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::report::Report;

/// Output format of `analyze`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Json,
}

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => json::render(report),
    }
}
