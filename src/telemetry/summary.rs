//! The final statistics of a run: event counts, latency percentiles per stage and positions,
//! printed as a table and written as JSON (`--summary-json`), plus `.hgrm` percentile files.

use super::latency::{LatencySet, Percentiles, Segment};
use crate::model::{Instruments, PositionSnapshot};
use crate::pipeline::board::LiveBoard;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

#[derive(Clone, Debug, Default, Serialize)]
pub struct EventCounts {
    pub md: u64,
    pub book: u64,
    pub signals: u64,
    pub orders_sent: u64,
    pub acks: u64,
    pub rejects: u64,
    pub fills: u64,
    pub cancels: u64,
    pub parse_errors: u64,
    pub telemetry_dropped: u64,
    /// Connections: declared dead (silent past the deadline), reopened after a loss, refused
    /// by a venue (429/418); control messages that waited for budget, and for how long.
    pub dead_connections: u64,
    pub reconnects: u64,
    pub venue_refusals: u64,
    pub budget_deferred: u64,
    pub budget_wait_ms: u64,
    /// REST snapshots that waited for the venue's request weight.
    pub weight_waits: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PositionRow {
    pub strategy: String,
    pub wallet: String,
    pub symbol: String,
    /// Exact decimals as strings.
    pub qty: String,
    pub avg_price: String,
    pub realized_pnl: f64,
    pub unrealized_pnl: f64,
    pub fees: String,
    pub limit: String,
}

/// The configured markets' books over the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BookLiveness {
    pub configured: usize,
    /// Books that were live at some point of the run.
    pub went_live: usize,
    /// The markets whose book never went live, as `venue SYMBOL`.
    pub never_live: Vec<String>,
}

impl BookLiveness {
    pub fn from_board(board: &LiveBoard, instruments: &Instruments) -> BookLiveness {
        let never_live: Vec<String> = instruments
            .iter()
            .filter(|i| !board.ever_live(i.id))
            .map(|i| format!("{} {}", i.venue, i.symbol))
            .collect();
        BookLiveness {
            configured: instruments.len(),
            went_live: instruments.len() - never_live.len(),
            never_live,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub duration_s: f64,
    pub books: BookLiveness,
    pub events: EventCounts,
    pub latency_ns: BTreeMap<&'static str, Percentiles>,
    pub positions: Vec<PositionRow>,
}

impl Summary {
    pub fn new(
        duration_s: f64,
        events: EventCounts,
        latency: &LatencySet,
        positions: &[PositionSnapshot],
        instruments: &Instruments,
    ) -> Summary {
        let latency_ns = Segment::ALL
            .iter()
            .map(|s| (s.name(), latency.percentiles(*s)))
            .collect();
        let positions = positions
            .iter()
            .map(|p| PositionRow {
                strategy: p.strategy.id().to_string(),
                wallet: p.wallet.wire().to_string(),
                symbol: instruments.get(p.instrument).symbol.to_string(),
                qty: p.qty.to_string(),
                avg_price: p.avg_price.to_string(),
                realized_pnl: p.realized_pnl,
                unrealized_pnl: p.unrealized_pnl,
                fees: p.fees.to_string(),
                limit: p.limit.to_string(),
            })
            .collect();
        Summary {
            duration_s,
            books: BookLiveness::default(),
            events,
            latency_ns,
            positions,
        }
    }

    /// The human table: counts, latency percentiles (µs), positions.
    pub fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        let e = &self.events;
        writeln!(
            out,
            "\n=== arbline: final statistics after {:.1} s ===",
            self.duration_s
        )?;
        writeln!(
            out,
            "market data {}  tops {}  signals {}  orders {}  acks {}  rejects {}  fills {}  cancels {}  parse errors {}  telemetry dropped {}",
            e.md,
            e.book,
            e.signals,
            e.orders_sent,
            e.acks,
            e.rejects,
            e.fills,
            e.cancels,
            e.parse_errors,
            e.telemetry_dropped
        )?;
        let b = &self.books;
        if b.configured > 0 {
            writeln!(
                out,
                "books: {} configured, {} went live",
                b.configured, b.went_live
            )?;
        }
        if !b.never_live.is_empty() {
            writeln!(out, "NEVER LIVE: {}", b.never_live.join(", "))?;
        }
        writeln!(
            out,
            "connections: reconnects {}  dead (silent) {}  refused by venue {}  messages held for budget {} ({} ms)  snapshots held for REST weight {}",
            e.reconnects,
            e.dead_connections,
            e.venue_refusals,
            e.budget_deferred,
            e.budget_wait_ms,
            e.weight_waits
        )?;
        writeln!(
            out,
            "\nlatency (µs)      count        p50        p99      p99.9        max"
        )?;
        for s in Segment::ALL {
            let p = self.latency_ns[s.name()];
            let us = |v: u64| v as f64 / 1000.0;
            writeln!(
                out,
                "{:<15} {:>7} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
                s.name(),
                p.count,
                us(p.p50),
                us(p.p99),
                us(p.p999),
                us(p.max)
            )?;
        }
        writeln!(out, "\npositions")?;
        if self.positions.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for p in &self.positions {
            writeln!(
                out,
                "  {:<11} {:<4} {:<8} qty {:>14}  avg {:>14}  realized {:>12.4}  unrealized {:>12.4}  fees {:>10}  limit {}",
                p.strategy,
                p.wallet,
                p.symbol,
                p.qty,
                p.avg_price,
                p.realized_pnl,
                p.unrealized_pnl,
                p.fees,
                p.limit
            )?;
        }
        Ok(())
    }

    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, json)
    }
}

/// Writes one `<stage>.hgrm` per stage with samples into `dir` (HdrHistogram's percentile
/// distribution text format, values in microseconds), readable by the usual plotters.
pub fn write_hgrm_files(dir: &Path, latency: &LatencySet) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for s in Segment::ALL {
        let h = latency.histogram(s);
        if h.is_empty() {
            continue;
        }
        let mut f = std::io::BufWriter::new(std::fs::File::create(
            dir.join(format!("{}.hgrm", s.name())),
        )?);
        write_hgrm(&mut f, h, 1000.0)?;
    }
    Ok(())
}

/// HdrHistogram percentile text, values divided by `scale` (1000: ns → µs).
pub fn write_hgrm(out: &mut impl Write, h: &Histogram<u64>, scale: f64) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    for v in h.iter_quantiles(5) {
        let q = v.quantile_iterated_to();
        let inv = if q < 1.0 {
            format!("{:>14.2}", 1.0 / (1.0 - q))
        } else {
            format!("{:>14}", "inf")
        };
        writeln!(
            out,
            "{:>12.3} {:>14.12} {:>10} {}",
            v.value_iterated_to() as f64 / scale,
            q,
            v.count_since_last_iteration(),
            inv
        )?;
    }
    writeln!(
        out,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        h.mean() / scale,
        h.stdev() / scale
    )?;
    writeln!(
        out,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        h.max() as f64 / scale,
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        h.distinct_values()
    )?;
    Ok(())
}
