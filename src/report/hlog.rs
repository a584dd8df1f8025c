//! Reads HdrHistogram interval logs (`.hlog`, V2 or V2-deflate histograms) back into
//! histograms, with each interval's time relative to the log's start.

use super::error::ReportError;
use crate::model::FileError;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry, LogIteratorError};
use hdrhistogram::serialization::{DeserializeError, Deserializer};
use std::path::Path;

/// What is wrong with an interval log; intervals count from 1. hdrhistogram's errors are
/// shown as their `Debug` text (the log iterator's has no other).
#[derive(Debug, thiserror::Error)]
pub enum HlogError {
    #[error("not an HdrHistogram interval log ({cause:?}; {read} intervals read before it)")]
    NotALog {
        cause: LogIteratorError,
        read: usize,
    },
    #[error("interval {interval}: histogram is not base64: {source}")]
    Base64 {
        interval: usize,
        #[source]
        source: base64::DecodeError,
    },
    #[error("interval {interval}: corrupted histogram: {source:?}")]
    Corrupt {
        interval: usize,
        #[source]
        source: DeserializeError,
    },
}

/// One histogram of an interval log.
#[derive(Clone, Debug)]
pub struct LoggedHistogram {
    pub tag: Option<String>,
    /// Seconds from the log's `BaseTime` (or, without one, from its first interval).
    pub start_s: f64,
    pub duration_s: f64,
    pub histogram: Histogram<u64>,
}

/// Reads every interval of the log at `path`; a malformed line or histogram is an error that
/// names the file and what is wrong.
pub fn read_hlog(path: &Path) -> Result<Vec<LoggedHistogram>, ReportError> {
    let bytes = std::fs::read(path).map_err(FileError::at("read", path))?;
    parse_hlog(&bytes).map_err(|source| ReportError::Hlog {
        path: path.to_path_buf(),
        source,
    })
}

pub fn parse_hlog(bytes: &[u8]) -> Result<Vec<LoggedHistogram>, HlogError> {
    use base64::Engine as _;
    let mut deserializer = Deserializer::new();
    let mut base: Option<f64> = None;
    let mut out = Vec::new();
    for entry in IntervalLogIterator::new(bytes) {
        match entry {
            Err(cause) => {
                return Err(HlogError::NotALog {
                    cause,
                    read: out.len(),
                });
            }
            Ok(LogEntry::BaseTime(t)) => base = Some(t.as_secs_f64()),
            Ok(LogEntry::StartTime(_)) => {}
            Ok(LogEntry::Interval(i)) => {
                let n = out.len() + 1;
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(i.encoded_histogram())
                    .map_err(|source| HlogError::Base64 {
                        interval: n,
                        source,
                    })?;
                let histogram: Histogram<u64> = deserializer
                    .deserialize(&mut raw.as_slice())
                    .map_err(|source| HlogError::Corrupt {
                        interval: n,
                        source,
                    })?;
                out.push(LoggedHistogram {
                    tag: i.tag().map(|t| t.as_str().to_string()),
                    start_s: i.start_timestamp().as_secs_f64(),
                    duration_s: i.duration().as_secs_f64(),
                    histogram,
                });
            }
        }
    }
    // Without a BaseTime the timestamps are Unix seconds: make them relative to the first one.
    if base.is_none() {
        let first = out.iter().map(|h| h.start_s).fold(f64::INFINITY, f64::min);
        for h in &mut out {
            h.start_s -= first;
        }
    }
    Ok(out)
}
