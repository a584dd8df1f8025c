//! Reads HdrHistogram percentile distribution text (`.hgrm`, as `write_hgrm` and every
//! HdrHistogram implementation print it): the rows `Value Percentile TotalCount 1/(1-Percentile)`
//! and the `#[Max = …, Total count = …]` footer.

use super::error::ReportError;
use crate::model::FileError;
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

/// What is wrong with `.hgrm` text; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HgrmError {
    #[error("line {line}: bad {field} {text:?}")]
    BadFooter {
        line: usize,
        field: &'static str,
        text: String,
    },
    #[error("line {line}: expected `value percentile count`")]
    Columns { line: usize },
    #[error("line {line}: {column} {text:?} is not a number")]
    NotANumber {
        line: usize,
        column: &'static str,
        text: String,
    },
    #[error("line {line}: percentile {percentile} or value {value} out of range")]
    OutOfRange {
        line: usize,
        percentile: f64,
        value: f64,
    },
    #[error("not an HdrHistogram percentile distribution (no rows or no `Total count` footer)")]
    NotADistribution,
}

pub fn read_hgrm(path: &Path) -> Result<PercentileDistribution, ReportError> {
    let text = std::fs::read_to_string(path).map_err(FileError::at("read", path))?;
    parse_hgrm(&text).map_err(|source| ReportError::Hgrm {
        path: path.to_path_buf(),
        source,
    })
}

pub fn parse_hgrm(text: &str) -> Result<PercentileDistribution, HgrmError> {
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
                let footer_error = |field| HgrmError::BadFooter {
                    line: n + 1,
                    field,
                    text: v.to_string(),
                };
                match k.trim() {
                    "Max" => d.max = v.parse().map_err(|_| footer_error("Max"))?,
                    "Total count" => {
                        d.total_count = v.parse().map_err(|_| footer_error("Total count"))?;
                        footer = true;
                    }
                    _ => {}
                }
            }
            continue;
        }
        let mut cols = line.split_whitespace();
        let (Some(value), Some(pct)) = (cols.next(), cols.next()) else {
            return Err(HgrmError::Columns { line: n + 1 });
        };
        let number = |column, text: &str| {
            text.parse::<f64>().map_err(|_| HgrmError::NotANumber {
                line: n + 1,
                column,
                text: text.to_string(),
            })
        };
        let value = number("value", value)?;
        let pct = number("percentile", pct)?;
        if !(0.0..=1.0).contains(&pct) || !value.is_finite() {
            return Err(HgrmError::OutOfRange {
                line: n + 1,
                percentile: pct,
                value,
            });
        }
        d.rows.push((pct, value));
    }
    if d.rows.is_empty() || !footer {
        return Err(HgrmError::NotADistribution);
    }
    Ok(d)
}
