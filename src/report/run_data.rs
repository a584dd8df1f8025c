//! One run directory as the report sees it: its description (`run.json`), each stage's latency
//! (from `final.hlog`, else from the `.hgrm` files) and the interval series (`intervals.hlog`).

use super::error::ReportError;
use super::hgrm::{PercentileDistribution, read_hgrm};
use super::hlog::read_hlog;
use crate::telemetry::Segment;
use crate::telemetry::hist_dir::{FINAL_HLOG, INTERVALS_HLOG};
use crate::telemetry::run_info::{RUN_JSON, RunInfo};
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};

/// The percentiles of the report's table, as fractions.
pub const TABLE_QUANTILES: [f64; 5] = [0.5, 0.9, 0.99, 0.999, 0.9999];

/// One stage of one run, in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct StageLatency {
    pub name: String,
    pub count: u64,
    /// Values at [`TABLE_QUANTILES`].
    pub at: [f64; 5],
    pub max: f64,
    /// The percentile distribution curve: (percentile as a fraction < 1, value).
    pub curve: Vec<(f64, f64)>,
}

impl StageLatency {
    pub fn from_histogram(name: &str, h: &Histogram<u64>) -> StageLatency {
        let curve = h
            .iter_quantiles(10)
            .map(|v| (v.quantile_iterated_to(), v.value_iterated_to() as f64))
            .filter(|(q, _)| *q < 1.0)
            .collect();
        StageLatency {
            name: name.to_string(),
            count: h.len(),
            at: TABLE_QUANTILES.map(|q| h.value_at_quantile(q) as f64),
            max: h.max() as f64,
            curve,
        }
    }

    /// From a `.hgrm` in µs (what arbline writes).
    pub fn from_hgrm_us(name: &str, d: &PercentileDistribution) -> StageLatency {
        StageLatency {
            name: name.to_string(),
            count: d.total_count,
            at: TABLE_QUANTILES.map(|q| d.value_at(q) * 1000.0),
            max: d.max * 1000.0,
            curve: d
                .rows
                .iter()
                .filter(|(q, _)| *q < 1.0)
                .map(|(q, v)| (*q, v * 1000.0))
                .collect(),
        }
    }
}

/// One interval of the side thread's log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IntervalPoint {
    /// Seconds from the run's start to the interval's end.
    pub t_s: f64,
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
}

#[derive(Clone, Debug)]
pub struct RunData {
    pub dir: PathBuf,
    pub info: RunInfo,
    /// False when `run.json` was missing (the label is then the directory's name).
    pub described: bool,
    /// Stages with samples, in pipeline order, then any other tags.
    pub stages: Vec<StageLatency>,
    /// `tick_to_trade` per interval (intervals without samples left out).
    pub tick_to_trade: Vec<IntervalPoint>,
}

impl RunData {
    pub fn load(dir: &Path) -> Result<RunData, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::NoRunDir(dir.to_path_buf()));
        }
        let (info, described) = if dir.join(RUN_JSON).exists() {
            (RunInfo::read(dir)?, true)
        } else {
            let name = dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            (
                RunInfo {
                    label: name,
                    ..RunInfo::default()
                },
                false,
            )
        };
        let stages = load_stages(dir)?;
        if stages.is_empty() {
            return Err(ReportError::NoLatency(dir.to_path_buf()));
        }
        let intervals = dir.join(INTERVALS_HLOG);
        let tick_to_trade = if intervals.exists() {
            read_hlog(&intervals)?
                .into_iter()
                .filter(|h| h.tag.as_deref() == Some(Segment::TickToTrade.name()))
                .filter(|h| !h.histogram.is_empty())
                .map(|h| IntervalPoint {
                    t_s: h.start_s + h.duration_s,
                    count: h.histogram.len(),
                    p50: h.histogram.value_at_quantile(0.5) as f64,
                    p99: h.histogram.value_at_quantile(0.99) as f64,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(RunData {
            dir: dir.to_path_buf(),
            info,
            described,
            stages,
            tick_to_trade,
        })
    }

    pub fn stage(&self, name: &str) -> Option<&StageLatency> {
        self.stages.iter().find(|s| s.name == name)
    }
}

/// `final.hlog` when present (exact histograms), else one `.hgrm` per stage.
fn load_stages(dir: &Path) -> Result<Vec<StageLatency>, ReportError> {
    let mut stages = Vec::new();
    let final_log = dir.join(FINAL_HLOG);
    if final_log.exists() {
        for h in read_hlog(&final_log)? {
            if h.histogram.is_empty() {
                continue;
            }
            let name = h.tag.unwrap_or_else(|| "untagged".into());
            match stages
                .iter_mut()
                .find(|s: &&mut (String, Histogram<u64>)| s.0 == name)
            {
                Some((_, acc)) => acc.add(&h.histogram).map_err(|source| ReportError::Merge {
                    path: final_log.clone(),
                    stage: name.clone(),
                    source,
                })?,
                None => stages.push((name, h.histogram)),
            }
        }
        let mut out: Vec<StageLatency> = stages
            .iter()
            .map(|(n, h)| StageLatency::from_histogram(n, h))
            .collect();
        out.sort_by_key(|s| order(&s.name));
        return Ok(out);
    }
    let mut out = Vec::new();
    for s in Segment::ALL {
        let p = dir.join(format!("{}.hgrm", s.name()));
        if p.exists() {
            out.push(StageLatency::from_hgrm_us(s.name(), &read_hgrm(&p)?));
        }
    }
    Ok(out)
}

/// Pipeline order for known stages, after them the rest.
fn order(name: &str) -> usize {
    Segment::ALL
        .iter()
        .position(|s| s.name() == name)
        .unwrap_or(Segment::ALL.len())
}
