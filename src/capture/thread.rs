//! The capture thread: takes frames off the feeds' queue ([`super::queue`]), writes them with a
//! [`CaptureWriter`] and gives each buffer back to the pool. Off the hot path, unpinned; it
//! sleeps 1 ms when the queue is empty and hands what it has written to the OS every second,
//! so a crash loses about a second of frames (the reader skips the torn block).
//!
//! A write error (disk full, a removed directory) stops the capture, never the engine: the
//! thread reports it, drains the queue so the feeds keep finding free buffers, and counts the
//! frames it could not write.

use super::error::CaptureError;
use super::queue::{CaptureCounts, CaptureTx};
use super::writer::{CaptureOptions, CaptureWriter};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the writer hands its buffered block to the OS.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// What a capture did, once its thread has stopped.
#[derive(Debug)]
pub struct CaptureReport {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// Frames written to the files.
    pub written: u64,
    /// Frames the feeds handed over / could not hand over (queue full, no free buffer).
    pub counts: CaptureCounts,
    /// Frames taken off the queue but not written because the capture had failed.
    pub lost_after_error: u64,
    /// The first write error, after which the capture stopped writing.
    pub error: Option<CaptureError>,
}

impl std::fmt::Display for CaptureReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "capture {}: {} frames written in {} file(s), {} not captured (queue full)",
            self.dir.display(),
            self.written,
            self.files.len(),
            self.counts.dropped
        )?;
        if let Some(e) = &self.error {
            write!(
                f,
                "; STOPPED by an error, {} frames lost: {e}",
                self.lost_after_error
            )?;
        }
        Ok(())
    }
}

/// A running capture thread.
pub struct CaptureThread {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<CaptureReport>,
}

impl CaptureThread {
    /// Creates the directory and starts the thread that writes what `tx`'s feeds hand over.
    pub fn start(opts: CaptureOptions, tx: &CaptureTx) -> Result<CaptureThread, CaptureError> {
        let dir = opts.dir.clone();
        let writer = CaptureWriter::new(opts)?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = tx.shared().clone();
        let tx = tx.clone();
        let stop2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || {
                let mut w = Some(writer);
                let mut report = CaptureReport {
                    dir,
                    files: Vec::new(),
                    written: 0,
                    counts: CaptureCounts::default(),
                    lost_after_error: 0,
                    error: None,
                };
                let mut last_flush = Instant::now();
                loop {
                    // Read the flag before draining: frames queued before the stop are written.
                    let stopping = stop2.load(Ordering::Acquire);
                    let mut n = 0;
                    while let Some(q) = shared.full.pop() {
                        n += 1;
                        match w.as_mut() {
                            Some(writer) => match writer.write(&q.as_frame()) {
                                Ok(()) => report.written += 1,
                                Err(e) => fail(&mut w, &mut report, e),
                            },
                            None => report.lost_after_error += 1,
                        }
                        let _ = shared.free.push(q.bytes);
                    }
                    if stopping {
                        break;
                    }
                    if last_flush.elapsed() >= FLUSH_EVERY {
                        last_flush = Instant::now();
                        if let Some(Err(e)) = w.as_mut().map(CaptureWriter::flush) {
                            fail(&mut w, &mut report, e);
                        }
                    }
                    if n == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                if let Some(writer) = w.take() {
                    match writer.close() {
                        Ok(files) => report.files = files,
                        Err(e) => report.error = report.error.take().or(Some(e)),
                    }
                }
                report.counts = tx.counts();
                report
            })
            .map_err(CaptureError::Spawn)?;
        Ok(CaptureThread { stop, handle })
    }

    /// Writes what is queued, closes the files and reports. Call after the feeds have stopped.
    pub fn finish(self) -> CaptureReport {
        self.stop.store(true, Ordering::Release);
        match self.handle.join() {
            Ok(r) => r,
            Err(_) => CaptureReport {
                dir: PathBuf::new(),
                files: Vec::new(),
                written: 0,
                counts: CaptureCounts::default(),
                lost_after_error: 0,
                error: Some(CaptureError::Panicked),
            },
        }
    }
}

fn fail(w: &mut Option<CaptureWriter>, report: &mut CaptureReport, e: CaptureError) {
    tracing::error!("capture stopped: {e}");
    if let Some(writer) = w.take() {
        report.files = writer.files().to_vec();
        // Dropping closes what it can; the error already says the capture is incomplete.
        drop(writer);
    }
    report.error.get_or_insert(e);
}
