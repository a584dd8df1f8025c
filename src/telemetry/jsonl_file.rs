//! The embedded default sink: with no NATS configured, the side thread writes the bus
//! messages as JSON lines — each the message's payload with its `subject` added — to a local
//! file that rotates at a size: `events.jsonl` → `events.1.jsonl` → … → `events.{keep}.jsonl`,
//! the oldest removed.

use super::bus_message::BusMessage;
use super::event_sink::{EventSink, SinkStatus};
use crate::model::FileError;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct JsonlFileSink {
    dir: PathBuf,
    max_bytes: u64,
    keep: usize,
    out: Option<BufWriter<File>>,
    written: u64,
    status: SinkStatus,
    last_flush: Instant,
}

impl JsonlFileSink {
    /// Appends to `dir/events.jsonl` (created with its directory), rotating past `max_bytes`
    /// and keeping `keep` rotated files.
    pub fn open(dir: &Path, max_bytes: u64, keep: usize) -> Result<Self, FileError> {
        std::fs::create_dir_all(dir).map_err(FileError::at("create", dir))?;
        let mut s = JsonlFileSink {
            dir: dir.to_path_buf(),
            max_bytes: max_bytes.max(4096),
            keep,
            out: None,
            written: 0,
            status: SinkStatus {
                connected: true,
                ..Default::default()
            },
            last_flush: Instant::now(),
        };
        s.reopen()?;
        Ok(s)
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("events.jsonl")
    }

    fn rotated(&self, n: usize) -> PathBuf {
        self.dir.join(format!("events.{n}.jsonl"))
    }

    fn reopen(&mut self) -> Result<(), FileError> {
        let p = self.path();
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map_err(FileError::at("open", &p))?;
        self.written = f.metadata().map(|m| m.len()).unwrap_or(0);
        self.out = Some(BufWriter::with_capacity(64 * 1024, f));
        Ok(())
    }

    fn rotate(&mut self) {
        if let Some(mut o) = self.out.take() {
            let _ = o.flush();
        }
        if self.keep == 0 {
            let _ = std::fs::remove_file(self.path());
        } else {
            let _ = std::fs::remove_file(self.rotated(self.keep));
            for n in (1..self.keep).rev() {
                let _ = std::fs::rename(self.rotated(n), self.rotated(n + 1));
            }
            let _ = std::fs::rename(self.path(), self.rotated(1));
        }
        if self.reopen().is_err() {
            self.status.failures += 1;
        }
    }
}

impl EventSink for JsonlFileSink {
    fn accept(&mut self, m: BusMessage) {
        if self.written >= self.max_bytes {
            self.rotate();
        }
        let Some(out) = self.out.as_mut() else {
            self.status.failures += 1;
            return;
        };
        // `{"subject":"…",` + the payload's fields.
        let body = m.payload.strip_prefix(b"{").unwrap_or(&m.payload);
        let subject = serde_json::to_string(&m.subject).unwrap_or_default();
        let line_len = 12 + subject.len() + 1 + body.len() + 1;
        let r = out
            .write_all(b"{\"subject\":")
            .and_then(|_| out.write_all(subject.as_bytes()))
            .and_then(|_| out.write_all(if body == b"}" { b"" } else { b"," }))
            .and_then(|_| out.write_all(body))
            .and_then(|_| out.write_all(b"\n"));
        match r {
            Ok(()) => {
                self.written += line_len as u64;
                self.status.delivered += 1;
            }
            Err(_) => self.status.failures += 1,
        }
    }

    fn pump(&mut self, budget: Duration) {
        if self.last_flush.elapsed() >= Duration::from_millis(200) {
            self.last_flush = Instant::now();
            if let Some(o) = self.out.as_mut() {
                let _ = o.flush();
            }
        }
        std::thread::sleep(budget);
    }

    fn flush(&mut self, _deadline: Duration) {
        if let Some(o) = self.out.as_mut()
            && o.flush().is_err()
        {
            self.status.failures += 1;
        }
    }

    fn status(&self) -> SinkStatus {
        self.status
    }

    fn describe(&self) -> String {
        format!("file {}", self.path().display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::bus_message::Kind;

    #[test]
    fn lines_carry_the_subject_and_files_rotate_keeping_the_newest() {
        let dir = std::env::temp_dir().join(format!("arbline-jsonl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut s = JsonlFileSink::open(&dir, 4096, 2).unwrap();
        for seq in 1..=200u64 {
            s.accept(BusMessage {
                kind: Kind::Fill,
                seq,
                subject: "order.max.filled.USDTTWD".into(),
                msg_id: String::new(),
                payload: format!("{{\"kind\":\"fill\",\"seq\":{seq}}}").into_bytes(),
            });
        }
        s.flush(Duration::ZERO);
        let current = std::fs::read_to_string(s.path()).unwrap();
        let last: serde_json::Value =
            serde_json::from_str(current.lines().last().unwrap()).unwrap();
        assert_eq!(last["subject"], "order.max.filled.USDTTWD");
        assert_eq!(last["seq"], 200);
        assert!(dir.join("events.1.jsonl").exists() && dir.join("events.2.jsonl").exists());
        assert!(
            !dir.join("events.3.jsonl").exists(),
            "only `keep` rotated files"
        );
        assert_eq!(s.status().delivered, 200);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
