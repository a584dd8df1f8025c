//! A `--hist-dir` run directory: `run.json` at start, `intervals.hlog` while running (the side
//! thread's per-interval `tick_to_trade` and `frame_to_signal`), and at exit one `.hgrm` per
//! stage plus `final.hlog` with every stage's full histogram. `arbline report` reads it.

use super::interval_log::{IntervalLog, write_final_log};
use super::latency::LatencySet;
use super::run_info::RunInfo;
use super::summary::write_hgrm_files;
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
    pub fn create(path: &Path, info: &RunInfo) -> Result<HistDir, String> {
        std::fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))?;
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
    pub fn interval_log(&self) -> Result<IntervalLog, String> {
        let p = self.path.join(INTERVALS_HLOG);
        IntervalLog::create(
            &p,
            self.start,
            "arbline: side thread intervals (tick_to_trade, frame_to_signal)",
        )
        .map_err(|e| format!("{}: {e}", p.display()))
    }

    /// At exit: `<stage>.hgrm` and `final.hlog` from the stages' own histograms.
    pub fn finish(&self, latency: &LatencySet) -> Result<(), String> {
        let at = |e: std::io::Error| format!("{}: {e}", self.path.display());
        write_hgrm_files(&self.path, latency).map_err(at)?;
        let duration = SystemTime::now()
            .duration_since(self.start)
            .unwrap_or_default();
        write_final_log(&self.path.join(FINAL_HLOG), latency, self.start, duration).map_err(at)
    }
}
