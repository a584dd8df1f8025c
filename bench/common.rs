//! What the benchmarks share: the host's CPU for their headers, and the strategy settings that
//! trade on nearly every top so a short run produces many orders.
#![allow(dead_code)]

use arbline::config::Config;

#[path = "../tests/support/trade_often.rs"]
mod trade_often;

/// The CPU model for a benchmark's header.
pub fn cpu_model() -> String {
    arbline::telemetry::run_info::cpu_model()
}

/// A venue answering in 1–3 ms without rejects, no loss limits, and arbitrage strategies that
/// trade on nearly every top (no fees, no edge, no cooldown).
pub fn trade_on_every_top(cfg: &mut Config) {
    cfg.demo.stats_interval_ms = 0;
    cfg.sim.latency_min_ms = 1;
    cfg.sim.latency_max_ms = 3;
    cfg.sim.reject_probability = 0.0;
    cfg.order.cancel_after_ms = 500;
    cfg.risk.max_loss_usdt = 1e12;
    cfg.risk.reduce_only_loss_usdt = 1e12;
    trade_often::trade_on_every_top(cfg, None);
}

/// Seconds per run: 1 in the test harness's quick mode, else `env` or `default`.
pub fn seconds(quick: bool, env: &str, default: f64) -> f64 {
    if quick {
        return 1.0;
    }
    std::env::var(env)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One run of an on/off comparison: whether the thing measured was on, tick_to_trade p50 and
/// p99 in ns.
pub struct PairRun {
    pub on: bool,
    pub p50: f64,
    pub p99: f64,
}

/// Prints the medians over the runs of tick_to_trade p50 and p99, off and on, and their ratio.
pub fn print_pair_medians(rows: &[PairRun], goal: &str) {
    let median = |on: bool, pick: fn(&PairRun) -> f64| {
        let mut v: Vec<f64> = rows.iter().filter(|r| r.on == on).map(pick).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let (off50, on50) = (median(false, |r| r.p50), median(true, |r| r.p50));
    let (off99, on99) = (median(false, |r| r.p99), median(true, |r| r.p99));
    println!(
        "\nmedian of runs: tick_to_trade p50 off {:.1} µs, on {:.1} µs: {:.3}×; p99 off {:.1} µs, on {:.1} µs: {:.3}× ({goal})",
        off50 / 1e3,
        on50 / 1e3,
        on50 / off50.max(1.0),
        off99 / 1e3,
        on99 / 1e3,
        on99 / off99.max(1.0)
    );
}
