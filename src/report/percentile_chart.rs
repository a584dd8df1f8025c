//! The percentile distribution chart: one line per series (a stage, or a run in the comparison)
//! on log axes — x the percentile on the 1/(1−p) scale, y the latency.

use super::axes::{
    DrawingError, colour, drawing_error, inverse_tail, latency_axis, latency_label,
    percentile_axis, percentile_label,
};
use super::font::FAMILY;
use super::run_data::StageLatency;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line: its legend and its stage latency.
pub struct Curve<'a> {
    pub label: String,
    pub stage: &'a StageLatency,
    /// Drawn thicker (tick_to_trade among the stages).
    pub emphasis: bool,
}

/// Draws `curves` with `title` into `area` (the whole chart or one panel of a grid).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    curves: &[Curve<'_>],
    text: u32,
) -> Result<(), DrawingError> {
    let points: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| {
            // Percentile 100% (the max) has no place on a 1/(1−p) axis: the line ends at the
            // last finite row, as in HdrHistogram's own plotter.
            c.stage
                .curve
                .iter()
                .map(|(q, ns)| (inverse_tail(*q), (ns / 1000.0).max(1e-3)))
                .collect::<Vec<_>>()
        })
        .collect();
    let all = || points.iter().flatten();
    let max_x = all().map(|p| p.0).fold(1.0, f64::max);
    let min_y = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let max_y = all().map(|p| p.1).fold(0.0, f64::max);
    let (top, x_keys) = percentile_axis(max_x);
    let (y_range, y_keys) = if min_y.is_finite() {
        latency_axis(min_y, max_y)
    } else {
        latency_axis(1.0, 10.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, text + 4))
        .margin(12)
        .margin_right(text * 3)
        .x_label_area_size(text * 3)
        .y_label_area_size(text * 5)
        .build_cartesian_2d(
            (1f64..top).log_scale().with_key_points(x_keys),
            y_range.log_scale().with_key_points(y_keys),
        )
        .map_err(drawing_error)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency")
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| latency_label(*y))
        .label_style((FAMILY, text))
        .axis_desc_style((FAMILY, text))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(drawing_error)?;
    for (i, (c, p)) in curves.iter().zip(points).enumerate() {
        let style = colour(i).stroke_width(if c.emphasis { 3 } else { 2 });
        chart
            .draw_series(LineSeries::new(p, style))
            .map_err(drawing_error)?
            .label(format!("{} (n={})", c.label, c.stage.count))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        // Curves rise to the right, so the lower right is where nothing is drawn.
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FAMILY, text))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(drawing_error)?;
    Ok(())
}
