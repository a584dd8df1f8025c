//! [`FileError`]: a file or directory operation that failed, with the path and what was being
//! done to it.

use std::path::PathBuf;

/// `action` is what was attempted (`"read"`, `"create"`, `"write"`, `"open"`, …); displayed
/// as `action path: cause`. Whether a retry can help is the I/O error's kind
/// (`source.kind()`): a missing file or a permission stays until someone acts.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", .path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub action: &'static str,
    #[source]
    pub source: std::io::Error,
}

impl FileError {
    /// A `map_err` adapter: `std::fs::read(&p).map_err(FileError::at("read", &p))`.
    pub fn at(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> FileError {
        let path = path.into();
        move |source| FileError {
            path,
            action,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_action_and_the_path() {
        let e = std::fs::read("/nonexistent/arbline.toml")
            .map_err(FileError::at("read", "/nonexistent/arbline.toml"))
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("read /nonexistent/arbline.toml: "),
            "{text}"
        );
        assert_eq!(e.source.kind(), std::io::ErrorKind::NotFound);
        assert!(std::error::Error::source(&e).is_some());
    }
}
