//! `arbline demo`: the simulator's servers and the engine in one process, connected over real
//! loopback sockets, exactly as `arbline run` talks to `arbline sim` (or to the exchanges):
//! WebSocket market data, signed REST orders, private WebSocket fills, the reconciler, the
//! reference rate over HTTP. The ports are picked free each run and the API key is made up for
//! the run, so nothing needs to be installed or configured. The in-process synthetic venue
//! (`arbline demo --in-process`) remains for benchmarks: it has no sockets to measure.

use crate::config::Config;
use crate::engine::{self, DemoOptions, EngineError, RunResult, Venues};
use crate::secrets::Secrets;
use crate::sim::servers::SimServers;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A key and secret for this run only.
fn run_key() -> (String, String) {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ u64::from(std::process::id());
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
            .collect()
    };
    (format!("demo-{}", hex(16)), hex(40))
}

/// The configured markets the simulator does not serve (no `[[sim.pairs]]` entry and not its
/// USDT/TWD market or reference rate), as `venue SYMBOL`: their books can never go live.
pub fn unserved_markets(cfg: &Config) -> Vec<String> {
    cfg.markets
        .iter()
        .filter(|m| !cfg.sim.serves(m.venue, &m.symbol))
        .map(|m| format!("{} {}", m.venue, m.symbol))
        .collect()
}

/// Names, at start, the configured markets the simulator will not serve.
pub fn warn_unserved(cfg: &Config) {
    let unserved = unserved_markets(cfg);
    if !unserved.is_empty() {
        println!(
            "arbline demo: WARNING: the simulator serves no data for {} configured market(s), \
             whose books will never go live (add a [[sim.pairs]] entry for each): {}",
            unserved.len(),
            unserved.join(", ")
        );
        tracing::warn!(markets = %unserved.join(", "), "configured markets the simulator does not serve");
    }
}

/// Starts the simulator on free loopback ports, points `cfg` at it and runs the engine.
pub fn run_over_sockets(cfg: &Config, opts: &DemoOptions) -> Result<RunResult, EngineError> {
    run_over_sockets_until(cfg, opts, |_| false)
}

/// As [`run_over_sockets`], ending early once `until` holds on the engine's counters.
pub fn run_over_sockets_until(
    cfg: &Config,
    opts: &DemoOptions,
    until: impl FnMut(&crate::telemetry::EngineCounters) -> bool,
) -> Result<RunResult, EngineError> {
    let mut cfg = cfg.clone();
    cfg.sim.use_free_ports();
    // Two keys, as a live setup should have: the trading key for orders and cancels, the read
    // key for the reconciler, order queries and the private WebSocket (`gateway::read_lane`).
    let (key, secret) = run_key();
    let (read_key, read_secret) = run_key();
    let servers = SimServers::start(&cfg, &[(&key, &secret), (&read_key, &read_secret)])?;
    servers.point(&mut cfg);
    cfg.refrate.cache_dir = std::env::temp_dir()
        .join(format!("arbline-demo-{}", std::process::id()))
        .to_string_lossy()
        .into_owned();
    println!(
        "arbline demo: simulator in this process: {}",
        servers.describe()
    );
    let secrets = Secrets {
        max_api_key: Some(key),
        max_secret_key: Some(secret),
        max_read_api_key: Some(read_key),
        max_read_secret_key: Some(read_secret),
    };
    let mut opts = opts.clone();
    opts.venues_name.get_or_insert_with(|| "loopback".into());
    let r = engine::run_with_until(&cfg, &opts, Venues::Live(secrets), until);
    let _ = std::fs::remove_dir_all(&cfg.refrate.cache_dir);
    r
}
