//! [`LogError`]: why operator logging or the signal log could not start. None is worth a retry:
//! the configuration, the directory's permissions or the process's setup must change.

use crate::model::{FileError, InvalidSetting};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// `[log]` or `RUST_LOG` is not usable.
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    /// `log.dir` cannot be created.
    #[error("log.dir: {0}")]
    Dir(#[from] FileError),
    /// The daily file (`what` = "daily log") or the signal log cannot be opened in `dir`.
    #[error("log.dir {}: {what}: {source}", .dir.display())]
    Open {
        what: &'static str,
        dir: PathBuf,
        #[source]
        source: tracing_appender::rolling::InitError,
    },
    /// [`super::init`] ran twice in one process (or something else set a subscriber first).
    #[error("logging: a global subscriber is already set ({0})")]
    AlreadySet(#[source] tracing::dispatcher::SetGlobalDefaultError),
}
