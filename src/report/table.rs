//! The report's text: each run's description, then its percentile table in µs.

use super::run_data::RunData;
use std::io::Write;

pub fn print_run(out: &mut impl Write, run: &RunData) -> std::io::Result<()> {
    let i = &run.info;
    writeln!(out, "\n=== {} ({}) ===", i.label, run.dir.display())?;
    if run.described {
        writeln!(
            out,
            "host      {}  ({} cores: {})",
            i.host, i.cores, i.cpu_model
        )?;
        writeln!(out, "venues    {}   started {}", i.venues, i.start_utc)?;
        writeln!(out, "placement {}", i.placement())?;
        let b = &i.build;
        writeln!(
            out,
            "build     arbline {}{} {} {}",
            b.version,
            b.git
                .as_deref()
                .map(|g| format!(" ({g})"))
                .unwrap_or_default(),
            b.profile,
            b.target
        )?;
        writeln!(out, "command   {}", i.command)?;
    } else {
        writeln!(out, "(no run.json: host, placement and build unknown)")?;
    }
    writeln!(
        out,
        "\n{:<15} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "latency (µs)", "count", "p50", "p90", "p99", "p99.9", "p99.99", "max"
    )?;
    let us = |ns: f64| ns / 1000.0;
    for s in &run.stages {
        writeln!(
            out,
            "{:<15} {:>9} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
            s.name,
            s.count,
            us(s.at[0]),
            us(s.at[1]),
            us(s.at[2]),
            us(s.at[3]),
            us(s.at[4]),
            us(s.max)
        )?;
    }
    if !run.tick_to_trade.is_empty() {
        let worst = run
            .tick_to_trade
            .iter()
            .max_by(|a, b| a.p99.total_cmp(&b.p99))
            .expect("not empty");
        writeln!(
            out,
            "intervals {} with tick_to_trade samples; worst p99 {:.3} µs at {:.1} s",
            run.tick_to_trade.len(),
            us(worst.p99),
            worst.t_s
        )?;
    }
    Ok(())
}
