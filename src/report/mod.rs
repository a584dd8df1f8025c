//! `arbline report`: reads `--hist-dir` run directories (`run.json`, `final.hlog` or the `.hgrm`
//! files, `intervals.hlog`), prints each run's description and percentile table, and draws
//! the charts (PNG and/or SVG):
//!
//! - `percentiles[-N-label]`: every stage's percentile distribution, one chart per run;
//! - `timeline`: `tick_to_trade` p50/p99 per side-thread interval, all runs;
//! - `comparison` (two or more runs): a panel per stage, a line per run.

pub mod axes;
pub mod comparison_chart;
pub mod error;
pub mod font;
pub mod hgrm;
pub mod hlog;
pub mod percentile_chart;
pub mod run_data;
pub mod table;
pub mod timeline_chart;

pub use axes::Format;
pub use error::ReportError;
pub use run_data::{RunData, StageLatency};

use crate::model::FileError;
use axes::DrawingError;
use percentile_chart::Curve;
use plotters::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct ReportOptions {
    pub dirs: Vec<PathBuf>,
    /// Default: `<first dir>/report`.
    pub out: Option<PathBuf>,
    pub format: Format,
}

/// What a report produced.
#[derive(Clone, Debug)]
pub struct Report {
    pub runs: Vec<RunData>,
    pub out: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Loads every run, prints the tables to `text`, writes the charts.
pub fn report(opts: &ReportOptions, text: &mut impl Write) -> Result<Report, ReportError> {
    if opts.dirs.is_empty() {
        return Err(ReportError::NoRuns);
    }
    let runs = opts
        .dirs
        .iter()
        .map(|d| RunData::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out(&opts.dirs[0]));
    std::fs::create_dir_all(&out).map_err(FileError::at("create", &out))?;
    for r in &runs {
        table::print_run(text, r).map_err(ReportError::Output)?;
    }
    font::ensure_registered()?;
    let labels = unique_labels(&runs);
    let labelled: Vec<(String, &RunData)> = labels.iter().cloned().zip(runs.iter()).collect();
    let mut files = Vec::new();
    for (i, (label, run)) in labelled.iter().enumerate() {
        let stem = if runs.len() == 1 {
            "percentiles".to_string()
        } else {
            format!("percentiles-{}-{}", i + 1, slug(label))
        };
        let title = format!("latency by percentile: {label}{}", describe(run));
        let curves: Vec<Curve<'_>> = run
            .stages
            .iter()
            .map(|s| Curve {
                label: s.name.clone(),
                stage: s,
                emphasis: s.name == crate::telemetry::Segment::TickToTrade.name(),
            })
            .collect();
        files.extend(axes::render(
            &out,
            &stem,
            opts.format,
            (1400, 800),
            |a| whole(&a, |a| percentile_chart::draw(a, &title, &curves, 16)),
            |a| whole(&a, |a| percentile_chart::draw(a, &title, &curves, 16)),
        )?);
    }
    if labelled.iter().any(|(_, r)| !r.tick_to_trade.is_empty()) {
        let with: Vec<(String, &RunData)> = labelled
            .iter()
            .filter(|(_, r)| !r.tick_to_trade.is_empty())
            .cloned()
            .collect();
        files.extend(axes::render(
            &out,
            "timeline",
            opts.format,
            (1400, 600),
            |a| whole(&a, |a| timeline_chart::draw(a, &with)),
            |a| whole(&a, |a| timeline_chart::draw(a, &with)),
        )?);
    } else {
        writeln!(
            text,
            "\n(no intervals.hlog with tick_to_trade samples: no timeline)"
        )
        .map_err(ReportError::Output)?;
    }
    if runs.len() > 1 {
        let size = comparison_chart::size(comparison_chart::stage_names(&labelled).len());
        files.extend(axes::render(
            &out,
            "comparison",
            opts.format,
            size,
            |a| comparison_chart::draw(&a, &labelled),
            |a| comparison_chart::draw(&a, &labelled),
        )?);
    }
    writeln!(text, "\ncharts in {}:", out.display()).map_err(ReportError::Output)?;
    for f in &files {
        writeln!(text, "  {}", f.display()).map_err(ReportError::Output)?;
    }
    Ok(Report { runs, out, files })
}

/// White background, `draw`, then write the file.
fn whole<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    draw: impl FnOnce(&DrawingArea<DB, plotters::coord::Shift>) -> Result<(), DrawingError>,
) -> Result<(), DrawingError> {
    area.fill(&WHITE).map_err(axes::drawing_error)?;
    draw(area)?;
    area.present().map_err(axes::drawing_error)
}

/// " (host, placement waits, profile)" for a chart title, or nothing without run.json.
fn describe(run: &RunData) -> String {
    if !run.described {
        return String::new();
    }
    let i = &run.info;
    format!(" ({}, {} cores, {})", i.host, i.cores, i.build.profile)
}

/// Each run's label, with " #N" added where two runs share one.
fn unique_labels(runs: &[RunData]) -> Vec<String> {
    runs.iter()
        .enumerate()
        .map(|(i, r)| {
            let l = &r.info.label;
            if runs.iter().filter(|o| &o.info.label == l).count() > 1 {
                format!("{l} #{}", i + 1)
            } else {
                l.clone()
            }
        })
        .collect()
}

/// A label as a file-name part.
fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

/// The default output directory of a report on `dir`.
pub fn default_out(dir: &Path) -> PathBuf {
    dir.join("report")
}
