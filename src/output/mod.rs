//! Everything that reads a finished [`crate::report::Report`] or its rows, and nothing the
//! collector or the checks need. No module here hands out a type another output needs;
//! what several outputs share (the table columns, the fleet facts) is a module of its own.
//!
//! | module | job |
//! |---|---|
//! | [`render`] | the report as text tables or JSON; the check catalogue as text or Markdown |
//! | [`playbook`] | the Markdown upgrade playbook from `templates/playbook.md.j2` |
//! | [`tables`] | the `findings` and `clusters` tables as code (columns, Arrow/Glue types, DDL) |
//! | [`fleet`] | the fleet facts, computed once: latest row per cluster, verdict, support window, counts |
//! | [`sink`] | object layout, Parquet/JSON-lines encoding, local directory, S3, EMF lines, stdout events |
//! | [`page`] | `eksup report`: the tables of a window → one self-contained HTML page |

pub mod fleet;
pub mod page;
pub mod playbook;
pub mod render;
pub mod sink;
pub mod tables;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The `outputs` section: where `eksup run` writes. With none configured it writes to
/// `./eksup-out` and stdout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSettings {
    /// Write the tables and reports under this directory.
    pub directory: Option<PathBuf>,
    /// JSON lines on stdout (default: on).
    pub stdout: Option<bool>,
    /// Write the tables and reports to S3.
    pub s3: Option<sink::s3::S3Settings>,
    /// CloudWatch Embedded Metric Format lines on stdout (off unless set).
    pub emf: Option<sink::emf::EmfSettings>,
    /// After the tables, write the fleet's HTML page (`eksup report`) next to them:
    /// `fleet-page/latest.html` and `fleet-page/dt=DAY/<run_id>.html`. `report` is its
    /// old name, still read.
    #[serde(alias = "report")]
    pub fleet_page: bool,
    /// How often `eksup run` writes its rows while it goes: a batch of files every
    /// `clusters` clusters or `seconds` seconds, whichever comes first.
    pub batch: sink::BatchSettings,
}
