//! Renderers: the report as a text table or as JSON.

pub mod json;
pub mod text;

use crate::config::Format;
use crate::report::Report;

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => json::render(report),
    }
}
