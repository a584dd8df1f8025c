//! The replay's P&L over capture time (`pnl.png` / `pnl.svg`): total (realized + unrealized)
//! and realized, in USDT, drawn with the report's plotting.

use super::replay_error::ReplayError;
use super::run::ReplayRun;
use crate::report::axes::{DrawingError, colour, drawing_error, render};
use crate::report::font::{FAMILY, ensure_registered};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &ReplayRun,
) -> Result<(), DrawingError> {
    area.fill(&WHITE).map_err(drawing_error)?;
    let text = 16;
    let pts = run.journal.pnl();
    let t0 = run.first_ns;
    let x = |ns: u64| ns.saturating_sub(t0) as f64 / 1e9;
    let max_t = pts.iter().map(|p| x(p.ts_utc_ns)).fold(1.0, f64::max);
    let (lo, hi) = pts
        .iter()
        .flat_map(|p| [p.total_usdt, p.realized_usdt])
        .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.05).max(1e-6);
    let mut chart = ChartBuilder::on(area)
        .caption("replay P&L (USDT)", (FAMILY, text + 4))
        .margin(12)
        .margin_right(text * 2)
        .x_label_area_size(text * 3)
        .y_label_area_size(text * 6)
        .build_cartesian_2d(0f64..max_t * 1.02, (lo - pad)..(hi + pad))
        .map_err(drawing_error)?;
    chart
        .configure_mesh()
        .x_desc("capture seconds")
        .y_desc("USDT")
        .label_style((FAMILY, text))
        .axis_desc_style((FAMILY, text))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(drawing_error)?;
    for (i, (name, pick)) in [("total", true), ("realized", false)]
        .into_iter()
        .enumerate()
    {
        let c = colour(i * 3);
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| {
                    (
                        x(p.ts_utc_ns),
                        if pick { p.total_usdt } else { p.realized_usdt },
                    )
                }),
                c.stroke_width(if pick { 3 } else { 1 }),
            ))
            .map_err(drawing_error)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .label_font((FAMILY, text))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(drawing_error)?;
    area.present().map_err(drawing_error)
}

/// Draws the chart into `out` as `pnl.png` and/or `pnl.svg`.
pub fn render_chart(
    run: &ReplayRun,
    out: &Path,
    format: crate::report::Format,
) -> Result<Vec<PathBuf>, ReplayError> {
    ensure_registered().map_err(crate::report::error::ReportError::from)?;
    Ok(render(
        out,
        "pnl",
        format,
        (1400, 600),
        |a| draw(&a, run),
        |a| draw(&a, run),
    )?)
}
