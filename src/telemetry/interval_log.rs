//! HdrHistogram interval logs (`.hlog`, V2 deflate-compressed histograms, values in ns): the side
//! thread appends one tagged histogram per measurement per stats interval, and at exit the full
//! histograms of every stage go into one more log. `arbline report` reads both back, and so
//! does any HdrHistogram tool (HistogramLogAnalyzer, `hdr-plot`).

use super::latency::{LatencySet, Segment};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// An open interval log; every timestamp in it is seconds after its `BaseTime`.
pub struct IntervalLog {
    out: BufWriter<File>,
    serializer: V2DeflateSerializer,
    base: SystemTime,
}

impl IntervalLog {
    /// Creates `path` and writes the header (comment, `StartTime` and `BaseTime` = `base`).
    pub fn create(path: &Path, base: SystemTime, comment: &str) -> std::io::Result<IntervalLog> {
        let mut out = BufWriter::new(File::create(path)?);
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment(comment)
            .add_comment("values in nanoseconds")
            .with_start_time(base)
            .with_base_time(base)
            .begin_log_with(&mut out, &mut serializer)?;
        out.flush()?;
        Ok(IntervalLog {
            out,
            serializer,
            base,
        })
    }

    /// Appends `h` as the interval `[start, start + duration)` under `tag` (a name without
    /// spaces or commas). Flushed at once so a killed run keeps every finished interval.
    pub fn append(
        &mut self,
        tag: &str,
        h: &Histogram<u64>,
        start: SystemTime,
        duration: Duration,
    ) -> std::io::Result<()> {
        let tag = Tag::new(tag)
            .ok_or_else(|| std::io::Error::other(format!("interval log tag {tag:?} is invalid")))?;
        let since_base = start.duration_since(self.base).unwrap_or_default();
        // No headers here: the builder writes only what it is given, and it is given nothing.
        IntervalLogWriterBuilder::new()
            .begin_log_with(&mut self.out, &mut self.serializer)?
            .write_histogram(h, since_base, duration, Some(tag))
            .map_err(|e| std::io::Error::other(format!("interval log: {e:?}")))?;
        self.out.flush()
    }
}

/// Writes `final.hlog`-style logs: one interval spanning the whole run per stage with samples,
/// tagged with the stage's name.
pub fn write_final_log(
    path: &Path,
    latency: &LatencySet,
    start: SystemTime,
    duration: Duration,
) -> std::io::Result<()> {
    let mut log = IntervalLog::create(path, start, "arbline: full histograms of the run")?;
    for s in Segment::ALL {
        let h = latency.histogram(s);
        if !h.is_empty() {
            log.append(s.name(), h, start, duration)?;
        }
    }
    Ok(())
}
