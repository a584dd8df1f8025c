//! [`ConfigError`]: why a configuration cannot be used. Every variant means the same to the
//! caller: reject it, the operator fixes the file (or the option) and starts again.

use crate::model::{FileError, InvalidSetting};
use crate::venue::tls::TlsCaError;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error(transparent)]
    Read(#[from] FileError),
    /// Not TOML, or not the keys and types of [`super::Config`] (unknown keys included); the
    /// message is toml's, which names the line and the key. `path`: the file, when it was one.
    #[error("{}{source}", in_file(.path.as_deref()))]
    Toml {
        path: Option<PathBuf>,
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value out of its range, or settings that contradict each other.
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    /// A `tls_ca_file` that cannot be read or used.
    #[error(transparent)]
    Tls(#[from] TlsCaError),
}

/// `"path: "` before a message about the file, or nothing.
fn in_file(path: Option<&Path>) -> String {
    path.map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}
