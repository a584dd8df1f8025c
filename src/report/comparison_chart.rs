//! Two or more runs side by side: one panel per stage, one line per run (legend: each run's
//! label from `run.json`, e.g. "in-process park" against "loopback park").

use super::axes::DrawingError;
use super::axes::drawing_error;
use super::font::FAMILY;
use super::percentile_chart::{self, Curve};
use super::run_data::RunData;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The stages any of `runs` has, in the order they first appear.
pub fn stage_names(runs: &[(String, &RunData)]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, r) in runs {
        for s in &r.stages {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    names
}

/// Panels in two columns.
pub fn size(stages: usize) -> (u32, u32) {
    (1600, 60 + 480 * stages.div_ceil(2).max(1) as u32)
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[(String, &RunData)],
) -> Result<(), DrawingError> {
    area.fill(&WHITE).map_err(drawing_error)?;
    let labels: Vec<&str> = runs.iter().map(|(l, _)| l.as_str()).collect();
    let body = area
        .titled(
            &format!("latency by percentile: {}", labels.join(" vs ")),
            (FAMILY, 24),
        )
        .map_err(drawing_error)?;
    let names = stage_names(runs);
    let panels = body.split_evenly((names.len().div_ceil(2).max(1), 2));
    for (name, panel) in names.iter().zip(panels.iter()) {
        let curves: Vec<Curve<'_>> = runs
            .iter()
            .filter_map(|(label, r)| {
                r.stage(name).map(|stage| Curve {
                    label: label.clone(),
                    stage,
                    emphasis: false,
                })
            })
            .collect();
        percentile_chart::draw(panel, name, &curves, 14)?;
    }
    area.present().map_err(drawing_error)
}
