//! `run.json`: what a `--hist-dir` run was — host, CPU, thread placement and waits, build,
//! command — so a latency report says what its numbers were measured on.

use crate::model::FileError;
pub use crate::model::calendar::format_utc as utc;
use crate::pipeline::ResolvedThread;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The file name inside a run directory.
pub const RUN_JSON: &str = "run.json";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run's name in reports and legends (`--label`, else venues + waits: "loopback park").
    pub label: String,
    pub host: String,
    pub cpu_model: String,
    /// Cores the process may run on.
    pub cores: usize,
    /// "in-process", "loopback" (the simulator over sockets) or "live" (`[venues]`).
    pub venues: String,
    pub threads: Vec<ThreadInfo>,
    pub build: BuildInfo,
    /// The command line, as given.
    pub command: String,
    pub config_path: Option<String>,
    pub start_unix_ms: u64,
    /// The same instant, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub start_utc: String,
    /// How long each interval histogram of `intervals.hlog` lasts (`[demo] stats_interval_ms`).
    pub interval_ms: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadInfo {
    pub name: String,
    pub stages: Vec<String>,
    /// None: unpinned.
    pub core: Option<usize>,
    pub wait: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    pub version: String,
    /// `git describe` when the build was given `ARBLINE_GIT_DESCRIBE` (scripts/latency-report).
    pub git: Option<String>,
    /// "release" or "debug" (debug assertions on).
    pub profile: String,
    /// arch-os.
    pub target: String,
}

impl BuildInfo {
    pub fn current() -> BuildInfo {
        BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            git: option_env!("ARBLINE_GIT_DESCRIBE")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_string(),
            target: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        }
    }
}

impl RunInfo {
    /// Describes this host, this build and `threads`, starting now.
    pub fn collect(threads: &[ResolvedThread], venues: &str, interval_ms: u64) -> RunInfo {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let threads: Vec<ThreadInfo> = threads
            .iter()
            .map(|t| ThreadInfo {
                name: t.name.clone(),
                stages: t.stages.iter().map(|s| s.as_str().to_string()).collect(),
                core: t.core,
                wait: format!("{:?}", t.wait).to_lowercase(),
            })
            .collect();
        let mut waits: Vec<&str> = threads.iter().map(|t| t.wait.as_str()).collect();
        waits.sort_unstable();
        waits.dedup();
        RunInfo {
            label: format!("{venues} {}", waits.join("+")),
            host: host_name(),
            cpu_model: cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            venues: venues.to_string(),
            threads,
            build: BuildInfo::current(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            config_path: None,
            start_unix_ms: now.as_millis() as u64,
            // Empty only for a clock past 9999-12-31.
            start_utc: utc(now.as_secs()).unwrap_or_default(),
            interval_ms,
        }
    }

    /// Placement in one line: `feed[feed] park unpinned; engine[book+scanner+order] spin core 1`.
    pub fn placement(&self) -> String {
        self.threads
            .iter()
            .map(|t| {
                let core = t
                    .core
                    .map_or_else(|| "unpinned".into(), |c| format!("core {c}"));
                format!("{}[{}] {} {}", t.name, t.stages.join("+"), t.wait, core)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn write(&self, dir: &Path) -> Result<(), RunInfoError> {
        let path = dir.join(RUN_JSON);
        let json = serde_json::to_vec_pretty(self).map_err(RunInfoError::Encode)?;
        std::fs::write(&path, json).map_err(FileError::at("write", &path))?;
        Ok(())
    }

    pub fn read(dir: &Path) -> Result<RunInfo, RunInfoError> {
        let path = dir.join(RUN_JSON);
        let bytes = std::fs::read(&path).map_err(FileError::at("read", &path))?;
        serde_json::from_slice(&bytes).map_err(|source| RunInfoError::Parse { path, source })
    }
}

/// `run.json` could not be written or read back. Not worth a retry: the directory or the file
/// must be fixed (or the run recorded again).
#[derive(Debug, thiserror::Error)]
pub enum RunInfoError {
    #[error(transparent)]
    File(#[from] FileError),
    /// The file is there but is not a run description.
    #[error("{}: not a run description: {source}", .path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The description could not be encoded as JSON.
    #[error("run.json: {0}")]
    Encode(#[source] serde_json::Error),
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The CPU model as /proc/cpuinfo names it (the architecture where it does not).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(utc(951_782_400).as_deref(), Some("2000-02-29T00:00:00Z"));
        assert_eq!(utc(1_700_000_000).as_deref(), Some("2023-11-14T22:13:20Z"));
    }

    #[test]
    fn run_json_round_trips() {
        let dir = std::env::temp_dir().join(format!("arbline-runinfo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let info = RunInfo::collect(&[], "in-process", 1000);
        info.write(&dir).unwrap();
        assert_eq!(RunInfo::read(&dir).unwrap(), info);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
