//! [`ReportError`]: why `arbline report` could not read a run directory or write its charts.
//! Nothing here passes by itself: the caller must fix the input (or the output directory).

use super::axes::DrawingError;
use super::font::BadFont;
use super::hgrm::HgrmError;
use super::hlog::HlogError;
use crate::model::FileError;
use crate::telemetry::hist_dir::FINAL_HLOG;
use crate::telemetry::run_info::RunInfoError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("arbline report: give at least one run directory")]
    NoRuns,
    #[error("{}: no such run directory", .0.display())]
    NoRunDir(PathBuf),
    /// Neither `final.hlog` nor any `<stage>.hgrm`.
    #[error(
        "{}: no latency data ({FINAL_HLOG} or <stage>.hgrm); was the run given --hist-dir?",
        .0.display()
    )]
    NoLatency(PathBuf),
    /// A file that cannot be read, or the output directory that cannot be created.
    #[error(transparent)]
    File(#[from] FileError),
    /// `run.json` is there but unreadable or not a run description.
    #[error(transparent)]
    RunInfo(#[from] RunInfoError),
    /// An interval log (`final.hlog`, `intervals.hlog`) that does not parse.
    #[error("{}: {source}", .path.display())]
    Hlog {
        path: PathBuf,
        #[source]
        source: HlogError,
    },
    /// A `.hgrm` file that does not parse (its line is in `source`).
    #[error("{}: {source}", .path.display())]
    Hgrm {
        path: PathBuf,
        #[source]
        source: HgrmError,
    },
    /// Two histograms of one stage in `final.hlog` that cannot be added (hdrhistogram's error,
    /// as its `Debug` text shows it).
    #[error("{}: {stage}: {source:?}", .path.display())]
    Merge {
        path: PathBuf,
        stage: String,
        #[source]
        source: hdrhistogram::AdditionError,
    },
    /// A chart that could not be drawn into `path`.
    #[error("{}: {source}", .path.display())]
    Plot {
        path: PathBuf,
        #[source]
        source: DrawingError,
    },
    #[error(transparent)]
    Font(#[from] BadFont),
    /// The tables could not be written to the text output.
    #[error("writing the report: {0}")]
    Output(#[source] std::io::Error),
}
