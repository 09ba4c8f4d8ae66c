//! Renderers: the report as text tables or JSON, and the check catalogue.

pub mod catalogue;
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
