//! Latency over time: `tick_to_trade` p50 and p99 of every side-thread interval
//! (`intervals.hlog`), one pair of lines per run.

use super::axes::{DrawingError, colour, drawing_error, latency_axis, latency_label};
use super::font::FAMILY;
use super::run_data::RunData;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Draws the runs' interval series; runs without intervals are left out of it.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[(String, &RunData)],
) -> Result<(), DrawingError> {
    let text = 16;
    let all = || runs.iter().flat_map(|(_, r)| r.tick_to_trade.iter());
    let max_t = all().map(|p| p.t_s).fold(1.0, f64::max);
    let min_y = all().map(|p| p.p50 / 1000.0).fold(f64::INFINITY, f64::min);
    let max_y = all().map(|p| p.p99 / 1000.0).fold(0.0, f64::max);
    let (y_range, y_keys) = latency_axis(min_y.max(1e-3), max_y.max(1e-3));
    let mut chart = ChartBuilder::on(area)
        .caption(
            "tick_to_trade per interval: p50 and p99",
            (FAMILY, text + 4),
        )
        .margin(12)
        .margin_right(text * 2)
        .x_label_area_size(text * 3)
        .y_label_area_size(text * 5)
        .build_cartesian_2d(
            0f64..max_t * 1.02,
            y_range.log_scale().with_key_points(y_keys),
        )
        .map_err(drawing_error)?;
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc("latency")
        .y_label_formatter(&|y| latency_label(*y))
        .x_label_formatter(&|x| {
            let s = format!("{x:.1}");
            s.trim_end_matches(".0").to_string()
        })
        .label_style((FAMILY, text))
        .axis_desc_style((FAMILY, text))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(drawing_error)?;
    let many = runs.len() > 1;
    for (i, (label, run)) in runs.iter().enumerate() {
        for (j, (name, pick)) in [("p50", 0usize), ("p99", 1)].into_iter().enumerate() {
            let c = if many { colour(i) } else { colour(j * 3) };
            let style = c.stroke_width(if pick == 1 { 3 } else { 1 });
            let pts = run.tick_to_trade.iter().map(|p| {
                let v = if pick == 0 { p.p50 } else { p.p99 };
                (p.t_s, (v / 1000.0).max(1e-3))
            });
            let legend = if many {
                format!("{label} {name}")
            } else {
                name.to_string()
            };
            chart
                .draw_series(LineSeries::new(pts, style).point_size(3))
                .map_err(drawing_error)?
                .label(legend)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, text))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(drawing_error)?;
    Ok(())
}
