//! What a run prints on the console: the start banner (venues, bus, threads) and the final
//! summary.

use super::error::EngineError;
use super::{Built, DemoOptions, RunResult};
use crate::config::Config;
use crate::pipeline::ResolvedThread;
use std::time::Duration;

/// How long a run lasts, as the start banner says it: `30s`, `1h 30m`, `until Ctrl+C`.
pub fn run_length(duration: Option<Duration>) -> String {
    match duration {
        Some(d) => humantime::format_duration(d).to_string(),
        None => "until Ctrl+C".into(),
    }
}

/// The start banner: what runs for how long against which venues, where events go, and each
/// thread with its stages, core and wait strategy.
pub(super) fn print_start(
    cfg: &Config,
    opts: &DemoOptions,
    synthetic: bool,
    built: &Built,
    threads: &[ResolvedThread],
) {
    if synthetic {
        println!(
            "arbline demo: {}, synthetic venues (seed {}), {} instruments",
            run_length(opts.duration),
            cfg.sim.seed,
            built.instruments.len()
        );
    } else {
        println!(
            "engine: {} against MAX {} / {}, Binance {}, {} instruments",
            run_length(opts.duration),
            cfg.venues.max.rest_url,
            cfg.venues.max.ws_url,
            cfg.venues.binance.ws_url,
            built.instruments.len()
        );
    }
    if let Some(bus) = built.side.bus.as_ref() {
        println!("  events → {}", bus.describe());
    }
    for t in threads {
        let names: Vec<&str> = t.stages.iter().map(|s| s.as_str()).collect();
        println!(
            "  thread {:<8} {:<22} core {:<8} wait {:?}",
            t.name,
            names.join("+"),
            t.core
                .map(|c| c.to_string())
                .unwrap_or_else(|| "unpinned".into()),
            t.wait
        );
    }
}

/// The run's summary and, with a bus, what became of its events.
pub(super) fn print_summary(result: &RunResult) -> Result<(), EngineError> {
    let mut out = std::io::stdout();
    result.summary.print(&mut out).map_err(EngineError::Print)?;
    if let Some(b) = result.bus {
        use std::io::Write;
        let _ = writeln!(
            out,
            "events: delivered {}, still queued {}, dropped {} market data / {} critical, reconnects {}",
            b.delivered, b.queued, b.dropped_md, b.dropped_critical, b.reconnects
        );
    }
    Ok(())
}
