//! The subscriber: filter, console layer (stderr) and daily file layer.

use super::config::{ConsoleMode, LogConfig};
use super::error::LogError;
use super::guard::{LogGuard, sweep};
use crate::model::{FileError, InvalidSetting};
use std::io::IsTerminal;
use std::path::Path;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, fmt};

/// Builds the subscriber for `cfg` without installing it (tests scope it with
/// `tracing::subscriber::with_default`). `rust_log`, when set and not empty, replaces
/// `cfg.filter`. Creates `cfg.dir` and runs the first retention round.
pub fn build(
    cfg: &LogConfig,
    rust_log: Option<&str>,
) -> Result<(tracing::Dispatch, LogGuard), LogError> {
    cfg.validate()?;
    let filter = match rust_log.filter(|s| !s.trim().is_empty()) {
        Some(s) => EnvFilter::try_new(s)
            .map_err(|e| InvalidSetting::new("RUST_LOG", format!("{s:?}: {e}")))?,
        None => EnvFilter::try_new(&cfg.filter)
            .map_err(|e| InvalidSetting::new("log.filter", format!("{:?}: {e}", cfg.filter)))?,
    };
    let dir = Path::new(&cfg.dir);
    std::fs::create_dir_all(dir).map_err(FileError::at("create", dir))?;
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(&cfg.file_prefix)
        .filename_suffix("log")
        .build(dir)
        .map_err(|source| LogError::Open {
            what: "daily log",
            dir: dir.to_path_buf(),
            source,
        })?;
    let (writer, writer_guard) = tracing_appender::non_blocking(file);
    let console = match cfg.console_mode()? {
        ConsoleMode::Off => None,
        mode => {
            let ansi = match mode {
                ConsoleMode::Always => true,
                ConsoleMode::Never => false,
                _ => std::io::stderr().is_terminal(),
            };
            Some(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi)
                    .with_target(true),
            )
        }
    };
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(console)
        .with(
            fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_target(true)
                .with_thread_names(true),
        );
    let dispatch = tracing::Dispatch::new(subscriber);
    tracing::dispatcher::with_default(&dispatch, || {
        sweep(dir, &cfg.file_prefix, cfg.retention_days)
    });
    let guard = LogGuard::new(
        writer_guard,
        dir.to_path_buf(),
        cfg.file_prefix.clone(),
        cfg.retention_days,
    );
    Ok((dispatch, guard))
}

/// Builds the subscriber for `cfg` (`RUST_LOG` from the environment) and installs it for the
/// whole process. Keep the guard until exit.
pub fn init(cfg: &LogConfig) -> Result<LogGuard, LogError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (dispatch, guard) = build(cfg, rust_log.as_deref())?;
    tracing::dispatcher::set_global_default(dispatch).map_err(LogError::AlreadySet)?;
    Ok(guard)
}
