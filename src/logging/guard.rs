//! What keeps logging alive: the file writer's flush guard and the daily retention thread.

use super::retention::remove_expired;
use super::signal_log::SIGNAL_PREFIX;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};
use tracing_appender::non_blocking::WorkerGuard;

/// Hold it for the life of the process: dropping it flushes the log file and stops retention.
pub struct LogGuard {
    _writer: WorkerGuard,
    /// Dropping the sender wakes the retention thread, which then ends.
    stop: Option<mpsc::Sender<()>>,
    retention: Option<std::thread::JoinHandle<()>>,
}

impl LogGuard {
    pub(super) fn new(writer: WorkerGuard, dir: PathBuf, prefix: String, days: u64) -> LogGuard {
        let (stop, wake) = mpsc::channel::<()>();
        let retention = std::thread::Builder::new()
            .name("log-retention".into())
            .spawn(move || {
                // The first round ran in `build`; then once a day until the guard drops.
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    wake.recv_timeout(Duration::from_secs(86_400))
                {
                    sweep(&dir, &prefix, days);
                }
            })
            .ok();
        LogGuard {
            _writer: writer,
            stop: Some(stop),
            retention,
        }
    }
}

/// One retention round over both prefixes; what it deletes or fails on is logged.
pub(super) fn sweep(dir: &std::path::Path, prefix: &str, days: u64) {
    for p in [prefix, SIGNAL_PREFIX] {
        match remove_expired(dir, p, days, SystemTime::now()) {
            Ok(removed) => {
                for f in removed {
                    tracing::info!(file = %f.display(), "log retention: deleted (older than {days} days)");
                }
            }
            Err(e) => tracing::warn!(dir = %dir.display(), "log retention: {e}"),
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.retention.take() {
            let _ = h.join();
        }
    }
}
