//! What the charts share: the percentile axis on the "1/(1−p)" log scale, latency tick labels,
//! colours, and one function that renders a chart to PNG and/or SVG.

use super::error::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Output formats of `arbline report --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
    Both,
}

/// A `--format` other than png, svg or both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--format: png, svg or both, not {0:?}")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        match s {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            "both" => Ok(Format::Both),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// Eight of the usual categorical palette's colours (matplotlib's tab10).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// x of percentile `q` (a fraction): 1/(1−q), so 50% → 2, 99% → 100, 99.9% → 1000.
pub fn inverse_tail(q: f64) -> f64 {
    1.0 / (1.0 - q)
}

/// The percentile axis from 0% to the decade past `max_x` (at least 99%), and its ticks.
pub fn percentile_axis(max_x: f64) -> (f64, Vec<f64>) {
    let mut top = 100.0;
    while top < max_x * 1.05 && top < 1e9 {
        top *= 10.0;
    }
    let mut keys = vec![1.0, 2.0, 10.0];
    let mut k = 100.0;
    while k <= top {
        keys.push(k);
        k *= 10.0;
    }
    (top, keys)
}

/// "0%", "50%", "90%", "99%", "99.9%", … for a tick at x = 1/(1−p).
pub fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// A latency range in µs, widened to whole 1-2-5 steps, with those steps as ticks.
pub fn latency_axis(min_us: f64, max_us: f64) -> (std::ops::Range<f64>, Vec<f64>) {
    let lo = 10f64.powf(min_us.max(1e-3).log10().floor());
    let mut hi = lo;
    let mut keys = Vec::new();
    'up: loop {
        for m in [1.0, 2.0, 5.0] {
            let v = hi * m;
            keys.push(v);
            if v >= max_us * 1.1 {
                hi = v;
                break 'up;
            }
        }
        hi *= 10.0;
    }
    keys.retain(|v| *v >= lo);
    (lo..hi, keys)
}

/// "500ns", "2µs", "10ms": a latency tick in µs.
pub fn latency_label(us: f64) -> String {
    let trim = |v: f64| {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if us >= 1000.0 {
        format!("{}ms", trim(us / 1000.0))
    } else if us < 1.0 {
        format!("{}ns", trim(us * 1000.0))
    } else {
        format!("{}µs", trim(us))
    }
}

/// A chart that could not be drawn. plotters' error is generic over the backend (bitmap, SVG),
/// so its text is what is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("drawing: {0}")]
pub struct DrawingError(pub String);

/// plotters' error, as a [`DrawingError`].
pub fn drawing_error<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> DrawingError {
    DrawingError(e.to_string())
}

/// Draws one chart of `size` into `out/stem.png` and/or `out/stem.svg`; returns the files.
pub fn render<F, G>(
    out: &Path,
    stem: &str,
    format: Format,
    size: (u32, u32),
    png: F,
    svg: G,
) -> Result<Vec<PathBuf>, ReportError>
where
    F: FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), DrawingError>,
    G: FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), DrawingError>,
{
    let plot = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Plot { path, source }
    };
    let mut files = Vec::new();
    if matches!(format, Format::Png | Format::Both) {
        let p = out.join(format!("{stem}.png"));
        png(BitMapBackend::new(&p, size).into_drawing_area()).map_err(plot(&p))?;
        files.push(p);
    }
    if matches!(format, Format::Svg | Format::Both) {
        let p = out.join(format!("{stem}.svg"));
        svg(SVGBackend::new(&p, size).into_drawing_area()).map_err(plot(&p))?;
        files.push(p);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_ticks_read_as_percentiles() {
        let labels: Vec<String> = [1.0, 2.0, 10.0, 100.0, 1000.0, 1e4]
            .iter()
            .map(|x| percentile_label(*x))
            .collect();
        assert_eq!(labels, ["0%", "50%", "90%", "99%", "99.9%", "99.99%"]);
        assert_eq!(percentile_axis(3000.0).0, 1e4);
        assert_eq!(percentile_axis(3.0).0, 100.0);
    }

    #[test]
    fn latency_ticks_step_1_2_5_and_name_their_unit() {
        let (r, keys) = latency_axis(3.0, 180.0);
        assert_eq!(r, 1.0..200.0);
        assert_eq!(keys, [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0]);
        assert_eq!(latency_label(0.5), "500ns");
        assert_eq!(latency_label(20.0), "20µs");
        assert_eq!(latency_label(1500.0), "1.5ms");
    }
}
