//! Parameter sweeps: `arbline replay DIR --set scanner.arbitrage.edge_bps=5,10,15 --set …`
//! replays the capture once per combination of the values (the grid), in parallel over the
//! cores (each replay single-threaded, as every replay), and tabulates the results.
//!
//! A setting is a dotted path into the configuration's TOML; a path that crosses an array of
//! tables (`scanner.arbitrage`, `risk.allocations`) sets the key in every element. Values are
//! TOML scalars (`5`, `2.5`, `true`, `"5ms"`), and a bare word is taken as a string
//! (`replay.latency=3ms,capture`). Each combination's configuration is the base file with the
//! settings applied, checked like any configuration: an unknown key is an error naming it.

use super::replay_error::ReplayError;
use super::run::{ReplayOptions, ReplayRun, replay};
use crate::config::Config;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What `arbline replay` sweeps when run without `--config`: the defaults, as the example
/// configuration writes them (`tests/config.rs` checks the two agree).
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../arbline.example.toml");

/// A bad `--set`.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("--set {0:?}: expected KEY=VALUE[,VALUE...], e.g. scanner.arbitrage.edge_bps=5,10,15")]
    Syntax(String),
    #[error("--set {key}: {reason}")]
    Path { key: String, reason: String },
    #[error("the base configuration is not TOML: {0}")]
    Base(#[source] Box<toml::de::Error>),
    #[error("--set {combo}: {source}")]
    Config {
        combo: String,
        #[source]
        source: Box<crate::config::ConfigError>,
    },
}

/// One `--set KEY=V1,V2,…`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: String,
    pub values: Vec<String>,
}

impl std::str::FromStr for Setting {
    type Err = SweepError;
    fn from_str(arg: &str) -> Result<Setting, SweepError> {
        let (key, values) = arg
            .split_once('=')
            .ok_or_else(|| SweepError::Syntax(arg.into()))?;
        let key = key.trim();
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if key.is_empty()
            || key.split('.').any(str::is_empty)
            || values.iter().any(String::is_empty)
        {
            return Err(SweepError::Syntax(arg.into()));
        }
        Ok(Setting {
            key: key.into(),
            values,
        })
    }
}

/// One point of the grid: (key, value) per setting.
pub type Combination = Vec<(String, String)>;

/// Every combination of the settings' values, the first setting varying slowest.
pub fn grid(settings: &[Setting]) -> Vec<Combination> {
    let mut out: Vec<Combination> = vec![Vec::new()];
    for s in settings {
        out = out
            .into_iter()
            .flat_map(|c| {
                s.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((s.key.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    out
}

/// `k=v k2=v2`, for tables and errors.
pub fn describe(c: &Combination) -> String {
    c.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn scalar(v: &str) -> toml::Value {
    // A TOML scalar as written; anything else (3ms, capture) is a string.
    format!("x = {v}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("x"))
        .filter(|v| !matches!(v, toml::Value::Table(_) | toml::Value::Array(_)))
        .unwrap_or_else(|| toml::Value::String(v.trim_matches('"').to_string()))
}

fn set(
    node: &mut toml::Value,
    path: &[&str],
    value: &toml::Value,
    key: &str,
) -> Result<(), SweepError> {
    let err = |reason: String| SweepError::Path {
        key: key.into(),
        reason,
    };
    match node {
        toml::Value::Array(items) => {
            if items.is_empty() {
                return Err(err(format!("{} is an empty list here", path[0])));
            }
            for item in items {
                set(item, path, value, key)?;
            }
            Ok(())
        }
        toml::Value::Table(t) => {
            let (first, rest) = path.split_first().expect("paths are not empty");
            if rest.is_empty() {
                t.insert((*first).to_string(), value.clone());
                return Ok(());
            }
            let child = t
                .entry((*first).to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            set(child, rest, value, key)
        }
        other => Err(err(format!(
            "{} is a {}, not a section",
            path[0],
            other.type_str()
        ))),
    }
}

/// The configuration of one combination: `base` (TOML text) with its settings applied.
pub fn config_for(base: &str, combo: &Combination) -> Result<Config, SweepError> {
    let table: toml::Table = base.parse().map_err(|e| SweepError::Base(Box::new(e)))?;
    let mut root = toml::Value::Table(table);
    for (k, v) in combo {
        let path: Vec<&str> = k.split('.').collect();
        set(&mut root, &path, &scalar(v), k)?;
    }
    let text = toml::to_string(&root).map_err(|e| SweepError::Path {
        key: describe(combo),
        reason: e.to_string(),
    })?;
    Config::from_toml(&text).map_err(|source| SweepError::Config {
        combo: describe(combo),
        source: Box::new(source),
    })
}

/// One row of the sweep's table.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    pub combination: Combination,
    pub signals: u64,
    pub orders: u64,
    pub fills: u64,
    pub fees_usdt: f64,
    pub realized_usdt: f64,
    pub final_usdt: f64,
    pub max_drawdown_usdt: f64,
    pub hit_rate: f64,
}

impl SweepRow {
    pub fn of(combination: Combination, run: &ReplayRun) -> SweepRow {
        let j = run.journal.counts();
        SweepRow {
            combination,
            signals: j.signals,
            orders: j.orders,
            fills: j.fills,
            fees_usdt: run.fees_usdt,
            realized_usdt: run.realized_usdt,
            final_usdt: run.final_usdt,
            max_drawdown_usdt: run.journal.max_drawdown(),
            hit_rate: j.hit_rate(),
        }
    }
}

/// Replays `dir` once per combination on `jobs` threads; rows in grid order.
pub fn sweep(
    base: &str,
    dir: &Path,
    opts: &ReplayOptions,
    settings: &[Setting],
    jobs: usize,
) -> Result<Vec<SweepRow>, ReplayError> {
    let combos = grid(settings);
    // Every configuration is checked before the first replay starts.
    let cfgs = combos
        .iter()
        .map(|c| config_for(base, c))
        .collect::<Result<Vec<_>, _>>()?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SweepRow, ReplayError>>>> =
        Mutex::new((0..combos.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, combos.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(cfg) = cfgs.get(i) else { break };
                    let r = replay(cfg, dir, opts).map(|run| SweepRow::of(combos[i].clone(), &run));
                    if let Ok(mut res) = results.lock() {
                        res[i] = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or(Err(ReplayError::SweepIncomplete)))
        .collect()
}

const COLUMNS: [&str; 8] = [
    "signals",
    "orders",
    "fills",
    "fees_usdt",
    "realized_usdt",
    "final_usdt",
    "max_drawdown_usdt",
    "hit_rate",
];

fn cells(r: &SweepRow) -> [String; 8] {
    [
        r.signals.to_string(),
        r.orders.to_string(),
        r.fills.to_string(),
        format!("{:.4}", r.fees_usdt),
        format!("{:.4}", r.realized_usdt),
        format!("{:.4}", r.final_usdt),
        format!("{:.4}", r.max_drawdown_usdt),
        format!("{:.3}", r.hit_rate),
    ]
}

/// The table as the console shows it: one row per combination.
pub fn table(rows: &[SweepRow]) -> String {
    let keys: Vec<String> = rows
        .first()
        .map(|r| r.combination.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let mut lines: Vec<Vec<String>> = vec![
        keys.iter()
            .cloned()
            .chain(COLUMNS.map(String::from))
            .collect(),
    ];
    for r in rows {
        lines.push(
            r.combination
                .iter()
                .map(|(_, v)| v.clone())
                .chain(cells(r))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| lines.iter().map(|l| l[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for l in &lines {
        let row: Vec<String> = l
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:>w$}"))
            .collect();
        out.push_str(row.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The table as CSV (`--csv`): the settings' keys, then the result columns.
pub fn csv(rows: &[SweepRow]) -> String {
    let keys: Vec<String> = rows
        .first()
        .map(|r| r.combination.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let mut out = keys
        .iter()
        .map(String::as_str)
        .chain(COLUMNS)
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = r
            .combination
            .iter()
            .map(|(_, v)| v.clone())
            .chain(cells(r))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_the_grid_is_every_combination() {
        let a: Setting = "scanner.arbitrage.edge_bps=5,10,15".parse().unwrap();
        let b: Setting = "replay.latency=3ms, capture".parse().unwrap();
        assert_eq!(a.values, ["5", "10", "15"]);
        assert_eq!(b.values, ["3ms", "capture"]);
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(
            describe(&g[1]),
            "scanner.arbitrage.edge_bps=5 replay.latency=capture"
        );
        for bad in ["edge_bps", "=5", "a..b=1", "a=", "a=1,,2"] {
            assert!(bad.parse::<Setting>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_setting_reaches_every_element_of_an_array_of_tables() {
        let combo = vec![
            ("scanner.arbitrage.edge_bps".to_string(), "12.5".to_string()),
            ("replay.latency".to_string(), "3ms".to_string()),
            (
                "scanner.stable_coin.enabled".to_string(),
                "false".to_string(),
            ),
        ];
        let cfg = config_for(DEFAULT_CONFIG_TOML, &combo).unwrap();
        assert!(cfg.scanner.arbitrage.len() > 1);
        assert!(cfg.scanner.arbitrage.iter().all(|a| a.edge_bps == 12.5));
        assert_eq!(cfg.replay.latency, "3ms");
        assert!(!cfg.scanner.stable_coin.enabled);
    }

    #[test]
    fn an_unknown_key_or_a_bad_value_names_the_combination() {
        let e = config_for(
            DEFAULT_CONFIG_TOML,
            &vec![("scanner.arbitrage.edge_bsp".into(), "5".into())],
        )
        .unwrap_err();
        assert!(e.to_string().contains("edge_bsp"), "{e}");
        let e = config_for(
            DEFAULT_CONFIG_TOML,
            &vec![("replay.maker_fee_bps".into(), "-1".into())],
        )
        .unwrap_err();
        assert!(e.to_string().contains("maker_fee_bps"), "{e}");
        let e = config_for(
            DEFAULT_CONFIG_TOML,
            &vec![("demo.duration_s.x".into(), "1".into())],
        )
        .unwrap_err();
        assert!(matches!(e, SweepError::Path { .. }), "{e}");
    }
}
