//! Reads HdrHistogram percentile distribution text (`.hgrm`, as `write_hgrm` and every
//! HdrHistogram implementation print it): the rows `Value Percentile TotalCount 1/(1-Percentile)`
//! and the `#[Max = …, Total count = …]` footer.

use std::path::Path;

/// One `.hgrm` file: values in the file's unit (arbline writes µs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PercentileDistribution {
    /// (percentile as a fraction 0..=1, value), in file order (rising).
    pub rows: Vec<(f64, f64)>,
    pub max: f64,
    pub total_count: u64,
}

impl PercentileDistribution {
    /// The first row's value at or above `q` (what the histogram reports for `q`, to the
    /// resolution of the rows); the max past the last row.
    pub fn value_at(&self, q: f64) -> f64 {
        self.rows
            .iter()
            .find(|(p, _)| *p >= q)
            .map_or(self.max, |(_, v)| *v)
    }
}

pub fn read_hgrm(path: &Path) -> Result<PercentileDistribution, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_hgrm(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse_hgrm(text: &str) -> Result<PercentileDistribution, String> {
    let mut d = PercentileDistribution::default();
    let mut footer = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("Value") {
            continue;
        }
        if let Some(meta) = line.strip_prefix("#[") {
            for field in meta.trim_end_matches(']').split(',') {
                let Some((k, v)) = field.split_once('=') else {
                    continue;
                };
                let v = v.trim();
                match k.trim() {
                    "Max" => {
                        d.max = v
                            .parse()
                            .map_err(|_| format!("line {}: bad Max {v:?}", n + 1))?
                    }
                    "Total count" => {
                        d.total_count = v
                            .parse()
                            .map_err(|_| format!("line {}: bad Total count {v:?}", n + 1))?;
                        footer = true;
                    }
                    _ => {}
                }
            }
            continue;
        }
        let mut cols = line.split_whitespace();
        let (Some(value), Some(pct)) = (cols.next(), cols.next()) else {
            return Err(format!("line {}: expected `value percentile count`", n + 1));
        };
        let value: f64 = value
            .parse()
            .map_err(|_| format!("line {}: value {value:?} is not a number", n + 1))?;
        let pct: f64 = pct
            .parse()
            .map_err(|_| format!("line {}: percentile {pct:?} is not a number", n + 1))?;
        if !(0.0..=1.0).contains(&pct) || !value.is_finite() {
            return Err(format!(
                "line {}: percentile {pct} or value {value} out of range",
                n + 1
            ));
        }
        d.rows.push((pct, value));
    }
    if d.rows.is_empty() || !footer {
        return Err(
            "not an HdrHistogram percentile distribution (no rows or no `Total count` footer)"
                .into(),
        );
    }
    Ok(d)
}
