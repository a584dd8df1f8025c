//! A `--hist-dir` run directory: `run.json` at start, `intervals.hlog` while running (the side
//! thread's per-interval `tick_to_trade` and `frame_to_signal`), and at exit one `.hgrm` per
//! stage plus `final.hlog` with every stage's full histogram. `arbline report` reads it.

use super::interval_log::{IntervalLog, write_final_log};
use super::latency::LatencySet;
use super::run_info::{RunInfo, RunInfoError};
use super::summary::write_hgrm_files;
use crate::model::FileError;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const INTERVALS_HLOG: &str = "intervals.hlog";
pub const FINAL_HLOG: &str = "final.hlog";

pub struct HistDir {
    path: PathBuf,
    start: SystemTime,
}

impl HistDir {
    /// Creates `path` (and parents) and writes `info` as `run.json`.
    pub fn create(path: &Path, info: &RunInfo) -> Result<HistDir, RunInfoError> {
        std::fs::create_dir_all(path).map_err(FileError::at("create", path))?;
        info.write(path)?;
        Ok(HistDir {
            path: path.to_path_buf(),
            start: UNIX_EPOCH + Duration::from_millis(info.start_unix_ms),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `intervals.hlog` for the side thread.
    pub fn interval_log(&self) -> Result<IntervalLog, FileError> {
        let p = self.path.join(INTERVALS_HLOG);
        IntervalLog::create(
            &p,
            self.start,
            "arbline: side thread intervals (tick_to_trade, frame_to_signal)",
        )
        .map_err(FileError::at("create", &p))
    }

    /// At exit: `<stage>.hgrm` and `final.hlog` from the stages' own histograms.
    pub fn finish(&self, latency: &LatencySet) -> Result<(), FileError> {
        write_hgrm_files(&self.path, latency).map_err(FileError::at("write", &self.path))?;
        let duration = SystemTime::now()
            .duration_since(self.start)
            .unwrap_or_default();
        let final_log = self.path.join(FINAL_HLOG);
        write_final_log(&final_log, latency, self.start, duration)
            .map_err(FileError::at("write", &final_log))
    }
}
