//! [`ReplayError`]: why a replay could not start or finish.

use super::error::ReplayVenueError;
use crate::capture::CaptureError;
use crate::engine::EngineError;
use crate::model::{FileError, InvalidSetting};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("replay: {} holds no frame to replay", .0.display())]
    Empty(PathBuf),
    #[error(
        "replay: [replay] latency = \"capture\" but {} holds no create-order answer to draw \
         latencies from (a capture of `arbline capture` has none): set [replay] latency to a \
         duration such as \"5ms\"", .0.display()
    )]
    NoLatencySamples(PathBuf),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Venue(#[from] ReplayVenueError),
    #[error(transparent)]
    Config(#[from] InvalidSetting),
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Report(#[from] crate::report::error::ReportError),
    #[error(transparent)]
    Sweep(#[from] super::sweep::SweepError),
    #[error("sweep: a replay thread stopped without a result")]
    SweepIncomplete,
    #[error("replay: printing: {0}")]
    Print(#[source] std::io::Error),
    #[error("replay: writing the summary: {0}")]
    Json(#[from] serde_json::Error),
}
