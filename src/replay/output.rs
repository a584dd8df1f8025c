//! What `arbline replay` writes: `summary.json`, `orders.csv` (every request and every answer
//! of the simulated venue), `signals.csv`, `pnl.csv` and the P&L chart (`pnl.png`, `pnl.svg`),
//! all from capture time and the stages' output, so two replays of one capture with one
//! configuration write the same bytes (`summary.json` apart from its `run_id`). The engine's
//! compute per frame, measured with the real clock, goes to `compute.json` and is the one
//! output that differs from run to run (with its histograms, `compute-parse.hgrm` and
//! `compute-frame.hgrm`).

use super::replay_error::ReplayError;
use super::run::ReplayRun;
use crate::config::Config;
use crate::model::FileError;
use crate::model::calendar::format_utc;
use crate::telemetry::summary::PositionRow;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize)]
pub struct PnlSummary {
    /// Realized P&L (fees included) in USDT at the end.
    pub realized_usdt: f64,
    /// Realized plus unrealized at the end, positions marked at the last mids.
    pub final_usdt: f64,
    /// Fees paid, in USDT.
    pub fees_usdt: f64,
    /// Largest fall of the total from an earlier peak over the P&L samples.
    pub max_drawdown_usdt: f64,
    /// Orders with at least one fill, over orders sent.
    pub hit_rate: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct VenueSummary {
    pub latency_model: String,
    pub orders_arrived: u64,
    pub orders_rejected: u64,
    pub cancels_arrived: u64,
    pub cancels_rejected: u64,
    pub fills: u64,
    pub maker_fills: u64,
    pub taker_fills: u64,
    /// Fees charged, summed over the quote currencies (decimal).
    pub fees: String,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct ReplaySummary {
    /// Differs on every run: the only field that does.
    pub run_id: String,
    /// The capture's files, by name.
    pub capture_files: Vec<String>,
    pub config_hash: String,
    pub first_utc: String,
    pub last_utc: String,
    pub duration_s: f64,
    pub frames: u64,
    pub warmup_frames: u64,
    pub md_events: u64,
    pub book_tops: u64,
    pub parse_errors: u64,
    pub feed: super::feed::ReplayFeedCounts,
    pub signals: u64,
    pub warmup_signals: u64,
    pub orders: u64,
    pub acks: u64,
    pub rejects: u64,
    pub risk_rejects: u64,
    pub fills: u64,
    pub cancels: u64,
    pub venue: VenueSummary,
    pub pnl: PnlSummary,
    pub positions: Vec<PositionRow>,
    pub open_orders_at_end: usize,
    pub telemetry_dropped: u64,
    /// Where the capture is torn (the replay stopped there), if it is.
    pub torn: Option<String>,
}

fn utc(ns: u64) -> String {
    format_utc(ns / 1_000_000_000)
        .map(|s| format!("{}.{:09}Z", s.trim_end_matches('Z'), ns % 1_000_000_000))
        .unwrap_or_else(|| ns.to_string())
}

fn run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}-{:x}", t, std::process::id())
}

impl ReplaySummary {
    pub fn new(run: &ReplayRun, cfg: &Config, files: &[PathBuf]) -> ReplaySummary {
        let j = run.journal.counts();
        let v = run.venue;
        ReplaySummary {
            run_id: run_id(),
            capture_files: files
                .iter()
                .map(|f| {
                    f.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect(),
            config_hash: format!("{:016x}", cfg.hash()),
            first_utc: utc(run.first_ns),
            last_utc: utc(run.last_ns),
            duration_s: run.last_ns.saturating_sub(run.first_ns) as f64 / 1e9,
            frames: run.frames,
            warmup_frames: run.warmup_frames,
            md_events: run.md_events,
            book_tops: run.book_tops,
            parse_errors: run.feed.parse_errors,
            feed: run.feed,
            signals: j.signals,
            warmup_signals: run.warmup_signals,
            orders: run.orders.orders_sent,
            acks: run.orders.acks,
            rejects: run.orders.rejects,
            risk_rejects: run.orders.risk_rejects,
            fills: run.orders.fills,
            cancels: run.orders.cancels,
            venue: VenueSummary {
                latency_model: run.latency_model.clone(),
                orders_arrived: v.orders_arrived,
                orders_rejected: v.orders_rejected,
                cancels_arrived: v.cancels_arrived,
                cancels_rejected: v.cancels_rejected,
                fills: v.fills,
                maker_fills: v.maker_fills,
                taker_fills: v.taker_fills,
                fees: v.fees.to_string(),
            },
            pnl: PnlSummary {
                realized_usdt: run.realized_usdt,
                final_usdt: run.final_usdt,
                fees_usdt: run.fees_usdt,
                max_drawdown_usdt: run.journal.max_drawdown(),
                hit_rate: j.hit_rate(),
            },
            positions: run.positions.clone(),
            open_orders_at_end: run.open_orders_at_end,
            telemetry_dropped: run.telemetry_dropped,
            torn: run.tear.as_ref().map(|t| t.to_string()),
        }
    }
}

/// `pnl.csv`: the P&L samples.
pub fn pnl_csv(run: &ReplayRun) -> String {
    let mut s = String::from("ts_utc_ns,realized_usdt,total_usdt\n");
    for p in run.journal.pnl() {
        s.push_str(&format!(
            "{},{:.8},{:.8}\n",
            p.ts_utc_ns, p.realized_usdt, p.total_usdt
        ));
    }
    s
}

/// `compute.json`: the engine's compute per frame (real clock, varies run to run).
pub fn compute_json(run: &ReplayRun) -> serde_json::Value {
    let pct = |h: &hdrhistogram::Histogram<u64>| {
        serde_json::json!({
            "count": h.len(),
            "p50_ns": h.value_at_quantile(0.5),
            "p99_ns": h.value_at_quantile(0.99),
            "p999_ns": h.value_at_quantile(0.999),
            "max_ns": h.max(),
        })
    };
    let busy_s = run.loop_s.max(1e-9);
    serde_json::json!({
        "wall_s": run.wall_s,
        "loop_s": run.loop_s,
        "frames_per_s": run.frames as f64 / busy_s,
        "md_events_per_s": run.md_events as f64 / busy_s,
        "parse": pct(&run.compute.parse),
        "frame_through_all_stages": pct(&run.compute.frame),
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ReplayError> {
    std::fs::write(path, bytes).map_err(|e| FileError::at("write", path)(e).into())
}

/// Writes every output into `out` (created if missing); returns the files written.
pub fn write_outputs(
    run: &ReplayRun,
    summary: &ReplaySummary,
    out: &Path,
    format: crate::report::Format,
) -> Result<Vec<PathBuf>, ReplayError> {
    std::fs::create_dir_all(out).map_err(FileError::at("create", out))?;
    let mut files = Vec::new();
    for (name, bytes) in [
        ("summary.json", serde_json::to_vec_pretty(summary)?),
        ("orders.csv", run.journal.orders_csv().as_bytes().to_vec()),
        ("signals.csv", run.journal.signals_csv().as_bytes().to_vec()),
        ("pnl.csv", pnl_csv(run).into_bytes()),
        (
            "compute.json",
            serde_json::to_vec_pretty(&compute_json(run))?,
        ),
    ] {
        let p = out.join(name);
        write(&p, &bytes)?;
        files.push(p);
    }
    // The compute histograms whole, in the HdrHistogram text form (µs), beside compute.json.
    for (name, h) in [
        ("compute-parse.hgrm", &run.compute.parse),
        ("compute-frame.hgrm", &run.compute.frame),
    ] {
        let p = out.join(name);
        let mut text = Vec::new();
        crate::telemetry::summary::write_hgrm(&mut text, h, 1000.0)
            .map_err(FileError::at("write", &p))?;
        write(&p, &text)?;
        files.push(p);
    }
    files.extend(super::pnl_chart::render_chart(run, out, format)?);
    Ok(files)
}

/// The summary as the console shows it.
pub fn print_summary(
    s: &ReplaySummary,
    run: &ReplayRun,
    text: &mut impl std::io::Write,
) -> std::io::Result<()> {
    writeln!(
        text,
        "replayed {} frames ({} md events) from {} to {} ({:.3} s of capture) in {:.3} s: {:.0} md events/s",
        s.frames,
        s.md_events,
        s.first_utc,
        s.last_utc,
        s.duration_s,
        run.wall_s,
        s.md_events as f64 / run.wall_s.max(1e-9)
    )?;
    if s.warmup_frames > 0 {
        writeln!(
            text,
            "  warm-up before --from: {} frames, {} signals not published",
            s.warmup_frames, s.warmup_signals
        )?;
    }
    writeln!(
        text,
        "  signals {}  orders {}  acks {}  rejects {} (risk {})  fills {} (maker {})  cancels {}",
        s.signals,
        s.orders,
        s.acks,
        s.rejects,
        s.risk_rejects,
        s.fills,
        s.venue.maker_fills,
        s.cancels
    )?;
    writeln!(
        text,
        "  P&L: realized {:.4} USDT, final {:.4} USDT, max drawdown {:.4} USDT, hit rate {:.3}; fees {:.4} USDT",
        s.pnl.realized_usdt,
        s.pnl.final_usdt,
        s.pnl.max_drawdown_usdt,
        s.pnl.hit_rate,
        s.pnl.fees_usdt
    )?;
    writeln!(text, "  venue latency: {}", s.venue.latency_model)?;
    let f = &s.feed;
    writeln!(
        text,
        "  frames not replayed: {} private/order answers (the venue is simulated), {} of a replaced connection, {} unknown market, {} parse errors",
        f.not_replayed, f.skipped_old_connection, f.unknown_market, f.parse_errors
    )?;
    for p in &s.positions {
        writeln!(
            text,
            "  {:<11} {:<5} {:<8} qty {:>12}  avg {:>12}  realized {:>10.4}  unrealized {:>10.4}  fees {}",
            p.strategy,
            p.wallet,
            p.symbol,
            p.qty,
            p.avg_price,
            p.realized_pnl,
            p.unrealized_pnl,
            p.fees
        )?;
    }
    if let Some(t) = &s.torn {
        writeln!(text, "  CAPTURE TORN: replayed up to the tear: {t}")?;
    }
    Ok(())
}
