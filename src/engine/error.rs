//! [`EngineError`]: why an engine did not build, start or finish its run. None is worth an
//! automatic retry of the whole run: the configuration, the keys, the host (ports, threads,
//! files) or a venue's setup must change first. What the venues answer while the engine runs is
//! not here: the feeds and the gateway ride that out themselves.

use crate::logging::LogError;
use crate::model::{FileError, InvalidSetting};
use crate::secrets::SecretsError;
use crate::sim::SimError;
use crate::telemetry::nats_forwarder::ForwarderError;
use crate::telemetry::run_info::RunInfoError;
use crate::venue::tls::TlsCaError;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A section of the configuration does not fit (markets, threads, scanner, risk, order,
    /// sim, refrate).
    #[error(transparent)]
    Config(#[from] InvalidSetting),
    /// The keys to trade with are missing, or `.env` is unreadable.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// The simulator's servers (the socket demo) did not start.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Venue setup: a `tls_ca_file` for the WebSocket feeds cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsCaError),
    /// Venue setup: the NATS bus forwarder did not start.
    #[error(transparent)]
    Bus(#[from] ForwarderError),
    /// The signal log cannot be opened.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The events file, `--summary-json` or a `--hist-dir` file cannot be written.
    #[error(transparent)]
    File(#[from] FileError),
    /// The `--hist-dir` run description cannot be written.
    #[error(transparent)]
    RunInfo(#[from] RunInfoError),
    /// SIGINT / SIGTERM handlers could not be installed.
    #[error("signal handlers: {0}")]
    Signals(#[source] io::Error),
    /// A thread (`side`, `gateway`, `refrate` or a stage thread by its configured name) could
    /// not be started.
    #[error("thread {thread}: {source}")]
    Spawn {
        thread: String,
        #[source]
        source: io::Error,
    },
    /// A thread panicked; its results are lost.
    #[error("the {thread} thread panicked")]
    Panicked { thread: String },
    /// `--capture` with the in-process venue, whose frames never cross a feed.
    #[error(
        "--capture {}: the in-process venue is not captured; capture the socket demo \
         (`arbline demo`, without --in-process) or `arbline run`", .0.display()
    )]
    CaptureInProcess(std::path::PathBuf),
    /// The capture directory cannot be created or its thread started.
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    /// `[metrics] addr` cannot be listened on.
    #[error(transparent)]
    Metrics(#[from] crate::telemetry::metrics_server::MetricsServerError),
    /// The summary could not be printed (stdout closed).
    #[error("printing the summary: {0}")]
    Print(#[source] io::Error),
}

impl EngineError {
    /// A `map_err` adapter for a thread's `spawn`.
    pub(crate) fn spawn(thread: &str) -> impl FnOnce(io::Error) -> EngineError {
        let thread = thread.to_string();
        move |source| EngineError::Spawn { thread, source }
    }
}
