//! [`info`]: a capture directory summarised — time range, frames per venue and kind, files,
//! blocks, gaps between consecutive records, and where it is torn if it is.

use super::error::{CaptureError, TornBlock};
use super::reader::CaptureReader;
use super::record::FrameKind;
use crate::model::Venue;
use std::collections::BTreeMap;
use std::path::Path;

/// Two consecutive records (in capture order) further apart than the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub from_ts: u64,
    pub to_ts: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureInfo {
    pub files: usize,
    pub blocks: u64,
    pub records: u64,
    /// Frame bytes (without record headers).
    pub frame_bytes: u64,
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
    pub per_venue_kind: BTreeMap<(Venue, FrameKind), u64>,
    pub gaps: Vec<Gap>,
    pub tear: Option<TornBlock>,
}

/// Reads the whole capture in `dir`. A tear ends the summary and is reported in it; a file
/// that cannot be opened or is not a capture is an error.
pub fn info(dir: impl AsRef<Path>, gap_threshold_ns: u64) -> Result<CaptureInfo, CaptureError> {
    let mut reader = CaptureReader::open(dir)?;
    let mut out = CaptureInfo::default();
    let mut prev: Option<u64> = None;
    for item in reader.by_ref() {
        let f = match item {
            Ok(f) => f,
            Err(CaptureError::Torn(t)) => {
                out.tear = Some(t);
                break;
            }
            Err(e) => return Err(e),
        };
        let ts = f.ts_utc_ns;
        if let Some(p) = prev
            && ts.saturating_sub(p) > gap_threshold_ns
        {
            out.gaps.push(Gap {
                from_ts: p,
                to_ts: ts,
            });
        }
        prev = Some(ts);
        out.records += 1;
        out.frame_bytes += f.bytes.len() as u64;
        out.first_ts = Some(out.first_ts.map_or(ts, |t| t.min(ts)));
        out.last_ts = Some(out.last_ts.map_or(ts, |t| t.max(ts)));
        *out.per_venue_kind.entry((f.venue, f.kind)).or_default() += 1;
    }
    out.files = reader.headers().len();
    out.blocks = reader.blocks_read();
    Ok(out)
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` of a Unix-ns time.
fn utc(ns: u64) -> String {
    match crate::model::calendar::format_utc(ns / 1_000_000_000) {
        Some(s) => format!("{}.{:09}Z", s.trim_end_matches('Z'), ns % 1_000_000_000),
        None => format!("{ns} ns"),
    }
}

/// What `arbline capture info` prints.
impl std::fmt::Display for CaptureInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "files {}  blocks {}  frames {}  frame bytes {}",
            self.files, self.blocks, self.records, self.frame_bytes
        )?;
        match (self.first_ts, self.last_ts) {
            (Some(a), Some(b)) => writeln!(
                f,
                "from {} to {} ({:.3} s)",
                utc(a),
                utc(b),
                (b - a) as f64 / 1e9
            )?,
            _ => writeln!(f, "no frames")?,
        }
        for ((venue, kind), n) in &self.per_venue_kind {
            writeln!(f, "  {venue:?} {kind:?}: {n}")?;
        }
        writeln!(f, "gaps: {}", self.gaps.len())?;
        for g in &self.gaps {
            writeln!(
                f,
                "  {} -> {} ({:.3} s)",
                utc(g.from_ts),
                utc(g.to_ts),
                (g.to_ts - g.from_ts) as f64 / 1e9
            )?;
        }
        match &self.tear {
            Some(t) => writeln!(
                f,
                "torn: {t} (the frames above are the ones before the tear)"
            ),
            None => writeln!(f, "torn: no"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::CapturedFrame;
    use crate::capture::writer::{CaptureOptions, CaptureWriter};

    #[test]
    fn counts_range_and_gaps() {
        let dir = std::env::temp_dir().join(format!(
            "arbline-capture-info-{}-{}",
            std::process::id(),
            std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos()
        ));
        let mut w = CaptureWriter::new(CaptureOptions::new(&dir)).unwrap();
        let t0 = 1_764_763_200_000_000_000u64;
        for (i, ts) in [0u64, 10, 20, 5_000, 5_010].iter().enumerate() {
            w.write(&CapturedFrame {
                ts_utc_ns: t0 + ts,
                ts_engine: 0,
                venue: if i < 3 {
                    Venue::Max
                } else {
                    Venue::BinanceSpot
                },
                conn: 0,
                kind: FrameKind::WsText,
                bytes: b"xy",
            })
            .unwrap();
        }
        w.close().unwrap();
        let i = info(&dir, 100).unwrap();
        assert_eq!((i.files, i.blocks, i.records, i.frame_bytes), (1, 1, 5, 10));
        assert_eq!((i.first_ts, i.last_ts), (Some(t0), Some(t0 + 5_010)));
        assert_eq!(i.per_venue_kind[&(Venue::Max, FrameKind::WsText)], 3);
        assert_eq!(
            i.per_venue_kind[&(Venue::BinanceSpot, FrameKind::WsText)],
            2
        );
        assert_eq!(
            i.gaps,
            [Gap {
                from_ts: t0 + 20,
                to_ts: t0 + 5_000
            }]
        );
        assert_eq!(i.tear, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
