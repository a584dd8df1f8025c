//! Retention: deletes log files of one prefix older than a number of days.
//!
//! A file belongs to prefix `p` when its name starts with `p.` (`arbline.2026-12-01.log`,
//! `signals.2026-12-01.log`); its age is its modification time. Anything else in the directory
//! is left alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Deletes the files of `prefix` in `dir` last modified before `now - days`. Returns what it
/// deleted; a file it could not delete is skipped (the next round tries again).
pub fn remove_expired(
    dir: &Path,
    prefix: &str,
    days: u64,
    now: SystemTime,
) -> std::io::Result<Vec<PathBuf>> {
    let cutoff = now
        .checked_sub(Duration::from_secs(days.saturating_mul(86_400)))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let lead = format!("{prefix}.");
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(&lead) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        if meta.modified().is_ok_and(|m| m < cutoff) && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed.sort();
    Ok(removed)
}
