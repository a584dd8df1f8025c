//! Reads the engine's local events file (`events.jsonl` in `nats.file_dir`, used when NATS is
//! off) while the engine runs, so a test can wait for an event (a reconcile round, a halt) the
//! engine's counters do not show. The side thread flushes the file every 200 ms.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A fresh, empty directory for one test's events file.
pub fn events_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("arbline-events-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Follows `events.jsonl` in a directory: each call reads what was appended since the last.
pub struct EventsTail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl EventsTail {
    pub fn new(dir: &Path) -> EventsTail {
        EventsTail {
            path: dir.join("events.jsonl"),
            offset: 0,
            partial: Vec::new(),
        }
    }

    /// Calls `f` with every complete line appended since the last call, as JSON (a line that
    /// is not JSON fails the test). Nothing yet (no file) is not an error.
    pub fn poll(&mut self, mut f: impl FnMut(&Value)) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut fresh = Vec::new();
        let Ok(n) = file.read_to_end(&mut fresh) else {
            return;
        };
        self.offset += n as u64;
        self.partial.extend_from_slice(&fresh);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let rest = self.partial.split_off(end + 1);
        for line in self
            .partial
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
        {
            let v: Value = serde_json::from_slice(line).unwrap_or_else(|e| {
                panic!(
                    "{}: a line that is not JSON ({e}): {}",
                    self.path.display(),
                    String::from_utf8_lossy(line)
                )
            });
            f(&v);
        }
        self.partial = rest;
    }
}
